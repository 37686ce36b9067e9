from datetime import date, timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.visibility import NOTHING, editable_q, owned_q

from .choices import OPEN_STAGES, Stage


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CustomerQuerySet":
        """Return customers the user may see; finance reads every archive for billing."""
        if user.is_authenticated and user.is_active and user.is_finance:
            return self
        return self.filter(owned_q(user))

    def editable_by(self, user) -> "CustomerQuerySet":
        """Return customers the user may change."""
        return self.filter(editable_q(user))


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ContactQuerySet":
        """Return contacts of customers the user may see."""
        if user.is_authenticated and user.is_active and user.is_finance:
            return self
        return self.filter(owned_q(user, "customer__owner"))


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user) -> "LeadQuerySet":
        """Return leads the user may see: own and pool for reps, the team for managers, all for directors."""
        return self.filter(owned_q(user))

    def editable_by(self, user) -> "LeadQuerySet":
        """Return leads the user may change: a rep only their own."""
        return self.filter(editable_q(user))

    def with_editable(self, user) -> "LeadQuerySet":
        """Annotate is_editable: whether the user may change each lead, in the same query."""
        rule = editable_q(user)
        editable = (
            models.Value(True)
            if not rule
            else models.Case(models.When(rule, then=models.Value(True)), default=models.Value(False))
        )
        return self.annotate(is_editable=models.ExpressionWrapper(editable, output_field=models.BooleanField()))

    def open(self) -> "LeadQuerySet":
        """Return leads still in the funnel (not implemented, not abandoned)."""
        return self.filter(stage__in=OPEN_STAGES)

    def in_pool(self) -> "LeadQuerySet":
        """Return leads that belong to no rep."""
        return self.filter(owner__isnull=True)

    def flagged(self) -> "LeadQuerySet":
        """Return leads with any cadence flag raised."""
        return self.filter(models.Q(is_followup_overdue=True) | models.Q(is_verdict_due=True) | models.Q(is_slow=True))

    def won(self) -> "LeadQuerySet":
        return self.filter(stage__in=(Stage.SIGNED, Stage.IMPLEMENTED))

    def with_cooling(self, *, abandoned_after) -> "LeadQuerySet":
        """Annotate is_cooling: abandoned after the given time, so not yet claimable again."""
        return self.annotate(
            is_cooling=models.Case(
                models.When(stage=Stage.ABANDONED, closed_at__gt=abandoned_after, then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )


class VisitQuerySet(models.QuerySet):
    def visible_to(self, user) -> "VisitQuerySet":
        """Return visits on leads the user may see."""
        return self.filter(owned_q(user, "lead__owner"))


class StageChangeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "StageChangeQuerySet":
        """Return stage history of leads the user may see."""
        return self.filter(owned_q(user, "lead__owner"))


class OwnerChangeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "OwnerChangeQuerySet":
        """Return ownership history of leads the user may see."""
        return self.filter(owned_q(user, "lead__owner"))


# Receivables (issue 4) ---------------------------------------------------------------------------------------------


class AgingBucket(models.TextChoices):
    """How long an unpaid installment is overdue, in calendar days of settings.TIME_ZONE.

    Days overdue = today - due date: due today or later is not due; 1-30, 31-60, 61-90; 91 and more is over 90.
    """

    NOT_DUE = "not_due", _("Not due")
    DAYS_1_30 = "1_30", _("1-30 days")
    DAYS_31_60 = "31_60", _("31-60 days")
    DAYS_61_90 = "61_90", _("61-90 days")
    OVER_90 = "over_90", _("Over 90 days")


# The oldest due date (as days before today) each overdue bucket still holds; over 90 has no end.
BUCKET_STARTS = ((AgingBucket.DAYS_1_30, 1, 30), (AgingBucket.DAYS_31_60, 31, 60), (AgingBucket.DAYS_61_90, 61, 90))


def bucket_q(bucket: str, today: date, prefix: str = "") -> Q:
    """Return the filter for installments (by their due date) that fall in the aging bucket today."""
    due_on = f"{prefix}due_on"
    if bucket == AgingBucket.NOT_DUE:
        return Q(**{f"{due_on}__gte": today})
    if bucket == AgingBucket.OVER_90:
        return Q(**{f"{due_on}__lte": today - timedelta(days=91)})
    for code, first, last in BUCKET_STARTS:
        if code == bucket:
            return Q(
                **{f"{due_on}__lte": today - timedelta(days=first), f"{due_on}__gte": today - timedelta(days=last)}
            )
    raise ValueError(bucket)


def _contract_rule(user, prefix: str, rule) -> Q:
    """Return the filter for contracts (through prefix) the user may see or change.

    Finance, directors and admins: all; a manager: the team's; a rep: own; anyone: contracts handed to them
    for collection. Contracts with no rep (signed from the pool by a manager) belong to no team.
    """
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_finance or user.sees_all:
        return Q()
    owner = f"{prefix}owner"
    return (rule(user, owner) & Q(**{f"{owner}__isnull": False})) | Q(**{f"{prefix}collection_owner": user.pk})


class CustomerAccountQuerySet(models.QuerySet):
    def suspended(self) -> "CustomerAccountQuerySet":
        """Return accounts whose supply is suspended for unpaid debt."""
        return self.filter(supply_suspended_at__isnull=False)


class ContractQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ContractQuerySet":
        """Return contracts the user may see: own for reps, the team's for managers, all for finance and directors."""
        return self.filter(_contract_rule(user, "", owned_q))

    def editable_by(self, user) -> "ContractQuerySet":
        """Return contracts on which the user may record payments, reminders and the payment plan."""
        return self.filter(_contract_rule(user, "", editable_q))

    def live(self) -> "ContractQuerySet":
        """Return contracts not cancelled (active or awaiting approval)."""
        return self.exclude(status="cancelled")

    def active(self) -> "ContractQuerySet":
        """Return contracts in force: approved and not cancelled."""
        return self.filter(status="active")


class InstallmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InstallmentQuerySet":
        """Return installments of contracts the user may see."""
        return self.filter(_contract_rule(user, "contract__", owned_q))

    def editable_by(self, user) -> "InstallmentQuerySet":
        """Return installments of contracts the user may record payments and reminders on."""
        return self.filter(_contract_rule(user, "contract__", editable_q))

    def unpaid(self) -> "InstallmentQuerySet":
        """Return installments of active contracts that confirmed payments do not yet cover in full."""
        return self.filter(contract__status="active", paid_amount__lt=models.F("amount"))

    def overdue(self, today: date) -> "InstallmentQuerySet":
        """Return unpaid installments whose due date has passed (due today is not overdue)."""
        return self.unpaid().filter(due_on__lt=today)

    def with_aging(self, today: date) -> "InstallmentQuerySet":
        """Annotate outstanding_amount (amount less confirmed payments) and bucket (an AgingBucket code) as of today."""
        whens = [models.When(bucket_q(AgingBucket.NOT_DUE, today), then=models.Value(AgingBucket.NOT_DUE.value))]
        whens += [models.When(bucket_q(code, today), then=models.Value(code.value)) for code, _f, _l in BUCKET_STARTS]
        return self.annotate(
            outstanding_amount=models.ExpressionWrapper(
                models.F("amount") - models.F("paid_amount"),
                output_field=models.DecimalField(max_digits=14, decimal_places=2),
            ),
            bucket=models.Case(
                *whens, default=models.Value(AgingBucket.OVER_90.value), output_field=models.CharField()
            ),
        )


class PaymentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PaymentQuerySet":
        """Return payments on contracts the user may see."""
        return self.filter(_contract_rule(user, "installment__contract__", owned_q))

    def editable_by(self, user) -> "PaymentQuerySet":
        """Return payments on contracts the user may record payments on."""
        return self.filter(_contract_rule(user, "installment__contract__", editable_q))

    def waiting(self) -> "PaymentQuerySet":
        """Return payments recorded but not yet confirmed or rejected by finance."""
        return self.filter(status="recorded")

    def confirmed(self) -> "PaymentQuerySet":
        """Return payments finance confirmed: the only ones that count."""
        return self.filter(status="confirmed")


class ReminderQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ReminderQuerySet":
        """Return reminders (工作函) on contracts the user may see."""
        return self.filter(_contract_rule(user, "installment__contract__", owned_q))

    def unanswered(self) -> "ReminderQuerySet":
        """Return reminders neither paid nor answered yet."""
        return self.filter(answered_at__isnull=True)


class MoneyChangeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MoneyChangeQuerySet":
        """Return the money history of contracts the user may see; credit-limit changes for finance and directors."""
        if user.is_authenticated and user.is_active and (user.is_finance or user.sees_all):
            return self
        return self.filter(contract__isnull=False).filter(_contract_rule(user, "contract__", owned_q))


class CollectionTargetQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CollectionTargetQuerySet":
        """Return collection targets of reps the user may see: own, the team's, or everyone's for finance."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_finance or user.sees_all:
            return self
        if user.is_manager and user.team_id is not None:
            return self.filter(rep__team_id=user.team_id)
        return self.filter(rep=user.pk)
