"""Aging: unpaid amounts by days overdue for the company, teams, reps and customers, and its chart."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    F,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce

from crm.models import (
    Installment,
)
from crm.querysets import AgingBucket, bucket_q

from ..services.receivables import ZERO, cents
from .common import AMOUNT, outstanding

CUSTOMERS_ON_AGING = 50
CHART_WIDTH, CHART_HEIGHT, CHART_BAR = 560, 220, 72


@dataclass
class AgingRow:
    key: int | None
    label: str
    amounts: dict[str, Decimal]
    extra: dict = field(default_factory=dict)

    @property
    def cells(self) -> list[tuple[str, Decimal]]:
        return [(code, self.amounts[code]) for code in AgingBucket.values]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total - self.amounts[AgingBucket.NOT_DUE]


def bucket_sums(today: date) -> dict:
    """Return a conditional SUM of what is unpaid per aging bucket, for aggregate() or annotate()."""
    return {
        code: Coalesce(Sum(outstanding(), filter=bucket_q(code, today), output_field=AMOUNT), ZERO)
        for code in AgingBucket.values
    }


def buckets(row: dict) -> dict[str, Decimal]:
    """Return the bucket amounts of an aggregate row, to the cent."""
    return {code: cents(row[code]) for code in AgingBucket.values}  # SQLite sums lose the scale


def _person(row: dict, prefix: str) -> str:
    return row[f"{prefix}display_name"] or row[f"{prefix}username"] or "—"


def aging_chart(amounts: dict[str, Decimal]) -> list[dict]:
    """Return one bar per aging bucket, scaled to the chart, for the server-drawn SVG."""
    top = max(amounts.values(), default=ZERO) or Decimal("1")
    bars = []
    for index, (code, label) in enumerate(AgingBucket.choices):
        height = int(amounts[code] / top * (CHART_HEIGHT - 40))
        bars.append(
            {
                "code": code,
                "label": label,
                "amount": amounts[code],
                "x": 20 + index * (CHART_BAR + 36),
                "y": CHART_HEIGHT - 20 - height,
                "height": height,
                "width": CHART_BAR,
            }
        )
    return bars


def aging(*, user, today: date) -> dict:
    """Return unpaid amounts by aging bucket for the company, each team, each rep and the top customers.

    Four aggregate queries whatever the number of installments.
    """
    unpaid = Installment.objects.visible_to(user).unpaid()
    sums = bucket_sums(today)
    company = AgingRow(key=None, label="", amounts=buckets(unpaid.aggregate(**sums)))
    teams = [
        AgingRow(
            key=row["contract__owner__team"], label=row["contract__owner__team__name"] or "—", amounts=buckets(row)
        )
        for row in unpaid.values("contract__owner__team", "contract__owner__team__name")
        .annotate(**sums)
        .order_by("contract__owner__team__name")
    ]
    reps = [
        AgingRow(
            key=row["contract__owner"],
            label=_person(row, "contract__owner__"),
            amounts=buckets(row),
            extra={"team": row["contract__owner__team__name"] or "—"},
        )
        for row in unpaid.values(
            "contract__owner",
            "contract__owner__username",
            "contract__owner__display_name",
            "contract__owner__team__name",
        )
        .annotate(**sums)
        .order_by("contract__owner__team__name", "contract__owner__username")
    ]
    customers = [
        AgingRow(
            key=row["contract__lead__customer"],
            label=row["contract__lead__customer__name"],
            amounts=buckets(row),
            extra={"suspended": row["suspended"] is not None},
        )
        for row in unpaid.values("contract__lead__customer", "contract__lead__customer__name")
        .annotate(
            **sums,
            overdue=Coalesce(Sum(outstanding(), filter=Q(due_on__lt=today), output_field=AMOUNT), ZERO),
            suspended=F("contract__lead__customer__account__supply_suspended_at"),
        )
        .order_by("-overdue", "contract__lead__customer__name")[:CUSTOMERS_ON_AGING]
    ]
    return {
        "company": company,
        "teams": teams,
        "reps": reps,
        "customers": customers,
        "buckets": AgingBucket.choices,
        "chart": aging_chart(company.amounts),
        "chart_size": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
    }
