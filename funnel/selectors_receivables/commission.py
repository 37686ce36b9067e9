"""Commission statements and collection targets."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from crm.models import (
    CollectionTarget,
    Payment,
)

from ..services.receivables import ZERO, cents, late_penalty_points
from ..services.receivables_collection import month_end, month_start
from .common import AMOUNT


def commission_earned(*, on_time: Decimal, late: Decimal, rate: Decimal, penalty: Decimal) -> Decimal:
    """Return the commission on collected money: the rate on money collected in time, less `penalty`
    points on money collected after its due date; rounded once, half up, to the cent."""
    late_rate = max(rate - penalty, ZERO)
    return cents((on_time * rate + late * late_rate) / 100)


@dataclass
class CommissionLine:
    contract_id: int
    customer: str
    customer_id: int
    signed_on: date
    amount: Decimal
    rate: Decimal
    late_rate: Decimal
    collected_on_time: Decimal
    collected_late: Decimal
    collected_to_date: Decimal
    commission: Decimal
    commission_to_date: Decimal

    @property
    def collected(self) -> Decimal:
        return self.collected_on_time + self.collected_late

    @property
    def share(self) -> Decimal:
        """Return the share of the contract collected so far, in percent."""
        return cents(self.collected_to_date * 100 / self.amount)

    @property
    def is_complete(self) -> bool:
        return self.collected_to_date == self.amount


def commission_statement(*, rep: User, month: date) -> dict:
    """Return a rep's commission for a calendar month, one line per contract with money collected in it.

    Commission follows collection: earned to date = rate x money collected (late money at the rate less
    COMMISSION_LATE_PENALTY_POINTS), rounded half up to the cent; the month's line is what was earned to
    its end less what was earned before it, so months always add up to the contract's total to the cent.
    It reaches the full rate x amount only when 100% is collected.
    """
    start, end = month_start(month), month_end(month)
    before = start - timedelta(days=1)
    penalty = late_penalty_points()
    late = Q(paid_on__gt=F("installment__due_on"))
    earlier = Q(paid_on__lte=before)

    def total(condition: Q) -> Coalesce:
        return Coalesce(Sum("amount", filter=condition, output_field=AMOUNT), ZERO)

    rows = (
        Payment.objects.confirmed()
        .filter(installment__contract__owner=rep, paid_on__lte=end)
        .values(
            "installment__contract",
            "installment__contract__amount",
            "installment__contract__commission_rate",
            "installment__contract__signed_on",
            "installment__contract__lead__customer",
            "installment__contract__lead__customer__name",
        )
        .annotate(
            on_time=total(~late),
            late=total(late),
            on_time_before=total(~late & earlier),
            late_before=total(late & earlier),
            in_month=total(Q(paid_on__gte=start)),
        )
        .filter(in_month__gt=0)
        .order_by("installment__contract__signed_on", "installment__contract")
    )
    lines = []
    for row in rows:
        for key in ("on_time", "late", "on_time_before", "late_before"):
            row[key] = cents(row[key])  # SQLite sums lose the scale
        rate = row["installment__contract__commission_rate"]
        to_date = commission_earned(on_time=row["on_time"], late=row["late"], rate=rate, penalty=penalty)
        earlier_earned = commission_earned(
            on_time=row["on_time_before"], late=row["late_before"], rate=rate, penalty=penalty
        )
        lines.append(
            CommissionLine(
                contract_id=row["installment__contract"],
                customer=row["installment__contract__lead__customer__name"],
                customer_id=row["installment__contract__lead__customer"],
                signed_on=row["installment__contract__signed_on"],
                amount=row["installment__contract__amount"],
                rate=rate,
                late_rate=max(rate - penalty, ZERO),
                collected_on_time=row["on_time"] - row["on_time_before"],
                collected_late=row["late"] - row["late_before"],
                collected_to_date=row["on_time"] + row["late"],
                commission=to_date - earlier_earned,
                commission_to_date=to_date,
            )
        )
    return {
        "rep": rep,
        "month": start,
        "lines": lines,
        "penalty": penalty,
        "total_collected": sum((line.collected for line in lines), ZERO),
        "total_commission": sum((line.commission for line in lines), ZERO),
    }


def statement_people(*, viewer) -> QuerySet[User]:
    """Return whose commission and targets the viewer may open: oneself for reps, the team, or every rep."""
    if viewer.is_finance or viewer.sees_all:
        return User.objects.sales().select_related("team").order_by("team__name", "username")
    if viewer.is_manager and viewer.team_id is not None:
        return User.objects.sales().filter(team_id=viewer.team_id).select_related("team").order_by("username")
    return User.objects.filter(pk=viewer.pk).select_related("team")


def collection_targets(*, user, month: date) -> dict:
    """Return the reps' collection targets and rates for a month, with the totals."""
    rows = list(
        CollectionTarget.objects.visible_to(user)
        .filter(month=month_start(month))
        .select_related("rep__team")
        .order_by("rep__team__name", "rep__username")
    )
    target = sum((row.target_amount or ZERO for row in rows), ZERO)
    collected = sum((row.collected_amount for row in rows), ZERO)
    return {
        "rows": rows,
        "month": month_start(month),
        "target": target,
        "collected": collected,
        "rate": cents(collected * 100 / target) if target else None,
    }
