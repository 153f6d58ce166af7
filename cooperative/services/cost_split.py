"""Splitting a cost among parties, exact to the cent: the one home of that rule.

Each party's exact part is `total × weight / sum of weights`. Each gets the whole cents
of its part; the cents left over (fewer than the number of parties) go one each to the
parties with the largest remainders (Hamilton's largest remainder method), so the shares
always add up to the total and none is more than a cent from its exact part. Equal
remainders go to the party named first (a stable tie-break: the same input always gives
the same split). An equal split is a split with every weight 1.

Pure: no database, no Flask. Integers only, never floats.
"""

from collections.abc import Sequence


class BadWeight(ValueError):
    """A weight that cannot split a cost: missing (None), zero or negative. `index` is
    its position in the weights given."""

    def __init__(self, index: int, weight) -> None:
        super().__init__(f"weight {index} is {weight!r}: a key must be a whole number above 0")
        self.index = index
        self.weight = weight


def split(total_cents: int, weights: Sequence[int | None]) -> list[int]:
    """`total_cents` split by `weights` (one per party, in the parties' order): a list of
    whole cents, one per weight, adding up to `total_cents` exactly.

    Refuses (ValueError) a negative total or no weights at all, and (BadWeight, naming
    the first bad one) a weight that is missing, not a whole number, zero or negative."""
    if total_cents < 0:
        raise ValueError("a cost to split is never negative")
    if not weights:
        raise ValueError("a cost is split among at least one party")
    for index, weight in enumerate(weights):
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise BadWeight(index, weight)
    whole = sum(weights)
    shares = [total_cents * weight // whole for weight in weights]
    remainders = [total_cents * weight % whole for weight in weights]
    left = total_cents - sum(shares)
    # Largest remainder first; among equals, the party named first.
    order = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
    for index in order[:left]:
        shares[index] += 1
    return shares


def split_equally(total_cents: int, parties: int) -> list[int]:
    """`total_cents` split among `parties` parties alike (the first ones get the odd
    cents). Refuses (ValueError) a negative total or fewer than one party."""
    return split(total_cents, [1] * parties)
