"""Paging a rep's or a manager's lead list without sorting the whole pool for every page."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from accounts.visibility import owned_parts, owned_q

# Past this many rows into the list the split stops paying for itself; plain slicing takes over.
SPLIT_DEPTH = 2_000


class VisibleRows:
    """The rows of `leads` the user may see, counted and paged part by part (own or team, then the pool).

    With `owner = me OR owner IS NULL` in one WHERE, PostgreSQL can walk no index in list order
    and sorted the whole pool for a rep's first page. Each part alone walks its own index: the
    page is found among the first rows of every part, then ordered once among those few. The
    parts of owned_parts together are exactly what the user may see, so every path below applies
    the visibility rule itself: `leads` must not be limited to the user beforehand (an OR kept in
    it would hide the parts' indexes from the planner again).
    """

    def __init__(self, leads: QuerySet, *, user):
        self.leads = leads
        self.parts = owned_parts(user)
        self.visible = leads.filter(owned_q(user))

    def count(self) -> int:
        return sum(self.leads.filter(part).count() for part in self.parts)

    def __getitem__(self, index: slice):
        if len(self.parts) < 2 or index.stop is None or index.stop > SPLIT_DEPTH:
            return self.visible[index]
        candidates = []
        for part in self.parts:
            candidates += self.leads.filter(part).values_list("pk", flat=True)[: index.stop]
        return self.visible.filter(pk__in=candidates)[index]


def visible_page(leads: QuerySet, *, user, per_page: int, number) -> Page:
    """Return page `number` of the leads the user may see among `leads` (filtered and ordered, not limited)."""
    return Paginator(VisibleRows(leads, user=user), per_page).get_page(number)
