"""What the receivables selectors share: the money type and correlated counts."""

from django.db.models import Count, DecimalField, F, IntegerField, QuerySet, Subquery
from django.db.models.functions import Coalesce

AMOUNT = DecimalField(max_digits=14, decimal_places=2)


def outstanding() -> F:
    """Return the expression for what confirmed payments leave unpaid on a row with amount and paid_amount."""
    return F("amount") - F("paid_amount")


def count_of(queryset: QuerySet, group: str) -> Coalesce:
    """Return a correlated COUNT over the queryset, grouped by the outer row (0 when none)."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
