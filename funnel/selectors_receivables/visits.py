"""Strategic customers: at least STRATEGIC_VISITS_PER_MONTH visits a month from their rep."""

from datetime import date

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from crm.choices import Tier
from crm.models import (
    Customer,
    CustomerAccount,
    Lead,
    Visit,
)

from ..services.cadence import day_start
from ..services.receivables import setting
from ..services.receivables_collection import month_end, month_start, next_month, previous_month
from .common import count_of


def _visits_in(start: date, customer_ref: str, author_ref: str) -> Coalesce:
    """Return a correlated count of the rep's visits to the customer in the month from start."""
    visits = Visit.objects.filter(
        lead__customer=OuterRef(customer_ref),
        author=OuterRef(author_ref),
        kind__in=setting("STRATEGIC_VISIT_KINDS"),
        occurred_at__gte=day_start(start),
        occurred_at__lt=day_start(next_month(start)),
    )
    return count_of(visits, "lead__customer")


def strategic_visits(*, user, today: date) -> dict:
    """Return strategic customers short of visits this month (so far) or last month (missed), in one query.

    Scoped like customers: a rep's own, a manager's team, everyone's for directors.
    """
    required = setting("STRATEGIC_VISITS_PER_MONTH")
    this_month = month_start(today)
    customers = (
        Customer.objects.visible_to(user)
        .filter(tier=Tier.STRATEGIC, owner__isnull=False)
        .annotate(
            visits_this_month=_visits_in(this_month, "pk", "owner"),
            visits_last_month=_visits_in(previous_month(this_month), "pk", "owner"),
        )
        .filter(Q(visits_this_month__lt=required) | Q(visits_last_month__lt=required))
        .select_related("owner__team")
        .order_by("owner__team__name", "owner__username", "name")
    )
    return {"customers": customers, "required": required, "month": this_month}


def my_strategic_visits(*, user, today: date) -> dict:
    """Return the user's own strategic customers short of visits, for the "my work" include (one query)."""
    data = strategic_visits(user=user, today=today)
    data["customers"] = list(data["customers"].filter(owner=user))
    data["days_left"] = (month_end(today) - today).days + 1
    return data


def lead_card_flags(leads: QuerySet[Lead], *, today: date) -> QuerySet[Lead]:
    """Annotate board cards: is_supply_suspended, and visits this month to a strategic customer (else None).

    Both are subqueries of the cards' own query, so the board costs no extra query.
    """
    suspended = CustomerAccount.objects.filter(customer=OuterRef("customer_id"), supply_suspended_at__isnull=False)
    return leads.annotate(
        is_supply_suspended=Exists(suspended),
        strategic_visits=Case(
            When(
                customer__tier=Tier.STRATEGIC,
                owner__isnull=False,
                then=_visits_in(month_start(today), "customer_id", "owner_id"),
            ),
            default=Value(None),
            output_field=IntegerField(),
        ),
        strategic_visits_required=Value(setting("STRATEGIC_VISITS_PER_MONTH"), output_field=IntegerField()),
    )
