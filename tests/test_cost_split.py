"""Splitting a shared cost exact to the cent (services/cost_split.py): the examples of
the seeds by hand, and the rules for every total and key hypothesis can think of."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cooperative.services.cost_split import BadWeight, split, split_equally

totals = st.integers(min_value=0, max_value=10**12)
weights = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=40)


def test_ten_thousand_euros_over_three_municipalities_alike():
    # € 10.000 excl. BTW spread over the participating municipalities (seed 004).
    assert split_equally(1_000_000, 3) == [333_334, 333_333, 333_333]


def test_by_inhabitants():
    # Zaanstad 160.000, Oostzaan 9.800, Wormerland 16.500 inhabitants.
    shares = split(1_000_000, [160_000, 9_800, 16_500])
    assert shares == [858_830, 52_603, 88_567]
    assert sum(shares) == 1_000_000


def test_the_odd_cents_go_to_the_largest_remainders_then_to_who_comes_first():
    assert split(10, [1, 1, 1]) == [4, 3, 3]
    assert split(2, [1, 1, 1]) == [1, 1, 0]
    # 5 × 1/6 = 0.83, 5 × 2/6 = 1.67, 5 × 3/6 = 2.5: whole 0, 1, 2; the cents left to
    # the largest remainders (0.83, then 0.67).
    assert split(5, [1, 2, 3]) == [1, 2, 2]
    assert split(0, [3, 4]) == [0, 0]
    assert split(7, [5]) == [7]


@pytest.mark.parametrize("bad", [0, -1, None, 1.5, True, "3"])
def test_a_key_of_zero_negative_or_missing_is_refused_with_its_place(bad):
    with pytest.raises(BadWeight) as refused:
        split(1000, [4, bad, 2])
    assert refused.value.index == 1


def test_no_parties_or_a_negative_total_is_refused():
    with pytest.raises(ValueError):
        split(1000, [])
    with pytest.raises(ValueError):
        split(-1, [1])
    with pytest.raises(ValueError):
        split_equally(1000, 0)


@given(totals, weights)
def test_the_shares_always_add_up_to_the_total(total, keys):
    assert sum(split(total, keys)) == total


@given(totals, weights)
def test_each_share_is_within_a_cent_of_its_exact_part(total, keys):
    whole = sum(keys)
    for share, key in zip(split(total, keys), keys, strict=True):
        exact = Fraction(total * key, whole)
        assert exact - 1 < share < exact + 1
        assert share >= 0


@given(totals, weights)
def test_a_larger_key_never_pays_less(total, keys):
    shares = split(total, keys)
    for i, (share_i, key_i) in enumerate(zip(shares, keys, strict=True)):
        for share_j, key_j in zip(shares[i + 1 :], keys[i + 1 :], strict=True):
            if key_i > key_j:
                assert share_i >= share_j
            elif key_i == key_j:
                # Equal keys: the one named first gets the odd cent, never the other.
                assert share_i in (share_j, share_j + 1)


@given(totals, st.integers(min_value=1, max_value=200))
def test_an_equal_split_differs_by_at_most_a_cent_and_the_first_get_more(total, parties):
    shares = split_equally(total, parties)
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == total


@given(totals, weights, st.integers(min_value=2, max_value=50))
def test_the_split_depends_only_on_the_proportions(total, keys, factor):
    assert split(total, keys) == split(total, [key * factor for key in keys])


@given(totals, weights)
def test_the_same_input_gives_the_same_split(total, keys):
    assert split(total, keys) == split(total, list(keys))
