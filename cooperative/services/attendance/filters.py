"""What the attendance list is narrowed to (`?q=`, `?show=`) and which page it shows."""

from dataclasses import dataclass, replace
from functools import cached_property

# What the list can be narrowed to (`?show=`): "" is everyone with a place.
SHOW_CHOICES = ("", "todo", "meal", "unpaid", "waiting", "cancelled")
# How many parties a page of the list shows, as pretix's back office pages its orders: a
# phone at the door gets 50 parties, not 1,500. Export and print have every party.
PAGE_SIZE = 50
# A larger `?page=` is read as this (and then as the last page).
PAGE_MAX = 100_000


@dataclass(frozen=True)
class AttendanceFilters:
    """What the list is narrowed to: `?q=` (words in a name, an e-mail address, or a ticket
    code) and `?show=` (one of SHOW_CHOICES), and which page of it is shown (`?page=`, at
    most PAGE_MAX; a page past the end is the last: `party_page` knows where that is), as
    `forms.filters.AttendanceFilterForm` reads them."""

    q: str = ""
    show: str = ""
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.q or self.show)

    def on_page(self, page: int) -> "AttendanceFilters":
        return replace(self, page=page)

    @cached_property
    def _args(self) -> dict[str, str]:
        args = {"q": self.q, "show": self.show, "page": str(self.page) if self.page > 1 else ""}
        return {name: value for name, value in args.items() if value}

    def as_args(self) -> dict[str, str]:
        """The filters that are set and the page (when not the first), for a link, a
        redirect or an action's hidden fields that come back to the same place. Made once:
        every action on the list carries them. Not to be changed."""
        return self._args

    def search_args(self) -> dict[str, str]:
        """The filters without the page: for the whole list (CSV, print) or another page."""
        return {name: value for name, value in self._args.items() if name != "page"}

    def page_args(self, page: int) -> dict[str, str]:
        """The filters, for a link to page `page` of the list."""
        return self.search_args() | ({"page": str(page)} if page > 1 else {})
