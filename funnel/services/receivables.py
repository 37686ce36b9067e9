"""Receivables (应收账款): contracts and payment plans; payments are in receivables_payments. Money moves only here.

Every change to money writes a MoneyChange row (who, when, before, after) in the same transaction.
Only confirmed payments count: Installment.paid_amount and Contract.paid_amount are recomputed from
them whenever finance confirms one.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from crm.models import Contract, CustomerAccount, Installment, Lead, MoneyChange, Payment, Reminder

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_INSTALLMENTS = 60
DEFAULTS = {
    "RECEIVABLES_DEFAULT_DUE_DAYS": 30,  # the one installment a new contract gets, due this long after signing
    "RECEIVABLES_REMINDERS_BEFORE_SUSPENSION": 3,  # unanswered reminders (工作函) that stop supply
    "RECEIVABLES_REMINDER_INTERVAL_DAYS": 15,  # an overdue installment is due another reminder after this
    "COMMISSION_BASE_RATE_PERCENT": "3.00",  # a new contract's commission rate
    "COMMISSION_LATE_PENALTY_POINTS": "2",  # points off the rate for money collected after its due date (1-5)
    "COLLECTION_CLOSING_DAY": 25,  # the day of the month beat runs the collection close (DOMAIN.md: by the 25th)
    "STRATEGIC_VISITS_PER_MONTH": 2,
    "STRATEGIC_VISIT_KINDS": ("visit", "meeting", "demo"),  # what counts as a visit to a strategic customer
}


def setting(name: str):
    """Return a receivables setting, or its default when the deployment does not set it."""
    return getattr(settings, name, DEFAULTS[name])


def base_commission_rate() -> Decimal:
    """Return the commission rate, in percent, a new contract starts with."""
    return Decimal(str(setting("COMMISSION_BASE_RATE_PERCENT")))


def late_penalty_points() -> Decimal:
    """Return the commission points lost on late collection; DOMAIN.md allows 1 to 5."""
    points = Decimal(str(setting("COMMISSION_LATE_PENALTY_POINTS")))
    if not Decimal("1") <= points <= Decimal("5"):
        raise ImproperlyConfigured("COMMISSION_LATE_PENALTY_POINTS must be between 1 and 5.")
    return points


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half up (0.005 -> 0.01), as Chinese finance rounds."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _json(values: dict) -> dict:
    """Return the values as JSON-safe text: amounts and dates keep their exact form."""
    return {key: (str(value) if isinstance(value, Decimal | date) else value) for key, value in values.items()}


def money_audit(
    *,
    action: str,
    actor,
    contract: Contract | None = None,
    customer_id: int | None = None,
    payment: Payment | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> MoneyChange:
    """Write one line of money history; call it inside the transaction that makes the change."""
    return MoneyChange.objects.create(
        action=action,
        actor=actor,
        contract=contract,
        customer_id=customer_id if customer_id is not None else (contract.lead.customer_id if contract else None),
        payment=payment,
        before=_json(before or {}),
        after=_json(after or {}),
        note=note[:300],
    )


def _plan(contract: Contract) -> list[dict]:
    return [
        {"number": i.number, "due_on": i.due_on.isoformat(), "amount": str(i.amount)}
        for i in contract.installments.order_by("number")
    ]


def is_director(user) -> bool:
    return user.role == Role.DIRECTOR or user.is_superuser


def is_finance_or_director(user) -> bool:
    return user.is_finance or is_director(user)


def customer_exposure(*, customer_id: int) -> Decimal:
    """Return what the customer still owes on active contracts (the amounts confirmed payments do not cover)."""
    totals = (
        Contract.objects.active()
        .filter(lead__customer_id=customer_id)
        .aggregate(amount=Coalesce(Sum("amount"), ZERO), paid=Coalesce(Sum("paid_amount"), ZERO))
    )
    return cents(totals["amount"] - totals["paid"])


def locked_account(*, customer_id: int) -> CustomerAccount:
    """Return the customer's account row, created if missing, locked until the transaction ends."""
    CustomerAccount.objects.get_or_create(customer_id=customer_id)
    return CustomerAccount.objects.select_for_update().get(customer_id=customer_id)


def contract_sign(*, lead: Lead, amount: Decimal, signed_on: date, actor) -> Contract:
    """Create the contract of a lead being signed, with one installment of the whole amount.

    Called by lead_transition inside its transaction. A customer whose supply is suspended gets no new
    contract; one that would take the customer over its credit limit waits for a director's approval.
    A lead that still has a live contract of the same amount keeps it (a manager moved it back and on).
    """
    existing = Contract.objects.live().filter(lead=lead).select_for_update().first()
    if existing is not None:
        if existing.amount != amount:
            raise ValidationError(
                {
                    "signed_amount": _(
                        "This lead already has a contract of %(amount)s; cancel it before signing another amount."
                    )
                    % {"amount": f"¥{existing.amount:,.2f}"}
                }
            )
        return existing
    account = locked_account(customer_id=lead.customer_id)  # serializes signings for one customer
    if account.is_supply_suspended:
        raise ValidationError(
            {
                "customer": _(
                    "Supply to %(name)s is suspended until its overdue debt is cleared: no new contract can be signed."
                )
                % {"name": lead.customer.name}
            }
        )
    status = Contract.Status.ACTIVE
    if account.credit_limit is not None:
        waiting = Contract.objects.filter(
            lead__customer_id=lead.customer_id, status=Contract.Status.PENDING_APPROVAL
        ).aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
        if customer_exposure(customer_id=lead.customer_id) + waiting + amount > account.credit_limit:
            status = Contract.Status.PENDING_APPROVAL
    contract = Contract.objects.create(
        lead=lead,
        owner=lead.owner,
        amount=amount,
        signed_on=signed_on,
        status=status,
        commission_rate=base_commission_rate(),
        created_by=actor,
    )
    Installment.objects.create(
        contract=contract,
        number=1,
        due_on=signed_on + timedelta(days=setting("RECEIVABLES_DEFAULT_DUE_DAYS")),
        amount=amount,
    )
    money_audit(
        action=MoneyChange.Action.CONTRACT_CREATED,
        actor=actor,
        contract=contract,
        after={"amount": amount, "signed_on": signed_on, "status": status, "installments": _plan(contract)},
        note=_("Over the credit limit of %(limit)s") % {"limit": f"¥{account.credit_limit:,.2f}"}
        if status == Contract.Status.PENDING_APPROVAL
        else "",
    )
    return contract


def contract_check_implemented(*, lead: Lead) -> Contract:
    """Return the lead's contract if it is active and paid in full by confirmed payments; refuse otherwise."""
    contract = Contract.objects.live().filter(lead=lead).select_for_update().first()
    if contract is None:
        raise ValidationError({"to_stage": _("Implementation needs a signed contract; this lead has none.")})
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError({"to_stage": _("The contract still awaits a director's approval.")})
    if contract.paid_amount != contract.amount:
        raise ValidationError(
            {
                "to_stage": _("The contract is not paid in full: %(paid)s of %(amount)s confirmed by finance.")
                % {"paid": f"¥{contract.paid_amount:,.2f}", "amount": f"¥{contract.amount:,.2f}"}
            }
        )
    return contract


@transaction.atomic
def contract_approve(*, contract: Contract, actor) -> Contract:
    """Let a contract over the customer's credit limit go ahead (directors)."""
    if not is_director(actor):
        raise PermissionDenied
    contract = Contract.objects.select_for_update().select_related("lead").get(pk=contract.pk)
    if contract.status != Contract.Status.PENDING_APPROVAL:
        raise ValidationError({"status": _("Only a contract awaiting approval can be approved.")})
    contract.status = Contract.Status.ACTIVE
    contract.approved_by, contract.approved_at = actor, timezone.now()
    contract.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    money_audit(
        action=MoneyChange.Action.CONTRACT_APPROVED,
        actor=actor,
        contract=contract,
        before={"status": Contract.Status.PENDING_APPROVAL},
        after={"status": contract.status, "amount": contract.amount},
    )
    return contract


@transaction.atomic
def contract_cancel(*, contract: Contract, actor, reason: str) -> Contract:
    """Cancel a contract with no payments on record (finance and directors); a declined approval ends here too."""
    if not is_finance_or_director(actor):
        raise PermissionDenied
    contract = Contract.objects.select_for_update().select_related("lead").get(pk=contract.pk)
    if contract.status == Contract.Status.CANCELLED:
        raise ValidationError({"status": _("This contract is already cancelled.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the contract is cancelled.")})
    if Payment.objects.filter(installment__contract=contract).exclude(status=Payment.Status.REJECTED).exists():
        raise ValidationError(
            {"status": _("Payments are on record for this contract; reject or refund them before cancelling it.")}
        )
    before = contract.status
    contract.status, contract.cancelled_at, contract.cancel_reason = (
        Contract.Status.CANCELLED,
        timezone.now(),
        reason.strip(),
    )
    contract.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    money_audit(
        action=MoneyChange.Action.CONTRACT_CANCELLED,
        actor=actor,
        contract=contract,
        before={"status": before, "amount": contract.amount},
        after={"status": contract.status},
        note=contract.cancel_reason,
    )
    supply_refresh(customer_id=contract.lead.customer_id, actor=actor)
    return contract


def _editable_contract(contract: Contract, actor) -> Contract:
    contract = (
        Contract.objects.editable_by(actor)
        .select_for_update(of=("self",))
        .select_related("lead")
        .filter(pk=contract.pk)
        .first()
    )
    if contract is None:
        raise PermissionDenied
    return contract


@transaction.atomic
def contract_plan_set(*, contract: Contract, actor, installments: list[tuple[date, Decimal]], terms: str) -> Contract:
    """Replace the contract's payment plan and terms; the installments must add up exactly to the amount.

    The plan is fixed once a payment or a reminder is on record against it.
    """
    contract = _editable_contract(contract, actor)
    if contract.status == Contract.Status.CANCELLED:
        raise ValidationError({"installments": _("This contract is cancelled.")})
    if (
        Payment.objects.filter(installment__contract=contract).exists()
        or Reminder.objects.filter(installment__contract=contract).exists()
    ):
        raise ValidationError(
            {"installments": _("Payments or reminders are on record, so the payment plan can no longer change.")}
        )
    if not installments:
        raise ValidationError({"installments": _("Give at least one installment.")})
    if len(installments) > MAX_INSTALLMENTS:
        raise ValidationError({"installments": _("At most %(n)d installments.") % {"n": MAX_INSTALLMENTS}})
    errors = []
    for due_on, amount in installments:
        if amount is None or amount <= 0:
            errors.append(_("Every installment must be more than zero."))
        elif amount != cents(amount):
            errors.append(_("Amounts have at most two decimals."))
        if due_on is None:
            errors.append(_("Every installment needs a due date."))
        elif due_on < contract.signed_on:
            errors.append(_("An installment cannot fall due before the contract was signed."))
    if errors:
        raise ValidationError({"installments": sorted(set(errors))})
    total = sum((amount for _due, amount in installments), ZERO)
    if total != contract.amount:
        raise ValidationError(
            {
                "installments": _("The installments add up to %(total)s, not the contract amount %(amount)s.")
                % {"total": f"¥{total:,.2f}", "amount": f"¥{contract.amount:,.2f}"}
            }
        )
    before = {"terms": contract.terms, "installments": _plan(contract)}
    contract.installments.all().delete()
    Installment.objects.bulk_create(
        Installment(contract=contract, number=number, due_on=due_on, amount=amount)
        for number, (due_on, amount) in enumerate(sorted(installments, key=lambda row: row[0]), start=1)
    )
    contract.terms = terms.strip()
    contract.save(update_fields=["terms", "updated_at"])
    money_audit(
        action=MoneyChange.Action.PLAN_SET,
        actor=actor,
        contract=contract,
        before=before,
        after={"terms": contract.terms, "installments": _plan(contract)},
    )
    return contract


@transaction.atomic
def contract_rate_set(*, contract: Contract, actor, commission_rate: Decimal) -> Contract:
    """Set a contract's commission rate in percent (finance and directors)."""
    if not is_finance_or_director(actor):
        raise PermissionDenied
    if commission_rate is None or not Decimal("0") <= commission_rate <= Decimal("100"):
        raise ValidationError({"commission_rate": _("Enter a rate between 0 and 100 percent.")})
    contract = Contract.objects.select_for_update().select_related("lead").get(pk=contract.pk)
    before = contract.commission_rate
    contract.commission_rate = commission_rate
    contract.save(update_fields=["commission_rate", "updated_at"])
    money_audit(
        action=MoneyChange.Action.RATE_SET,
        actor=actor,
        contract=contract,
        before={"commission_rate": before},
        after={"commission_rate": commission_rate},
    )
    return contract


def installments_due_for(*, customer_id: int, today: date):
    """Return the customer's overdue unpaid installments (the debt that keeps supply suspended)."""
    return Installment.objects.overdue(today).filter(contract__lead__customer_id=customer_id)


def supply_refresh(*, customer_id: int, actor=None) -> bool:
    """Restore supply to a suspended customer once no overdue debt is left; return whether it was restored."""
    account = (
        CustomerAccount.objects.suspended().select_for_update().filter(customer_id=customer_id).first()
    )  # most customers have no account row or are not suspended: nothing to lock or create
    if account is None:
        return False
    if installments_due_for(customer_id=customer_id, today=timezone.localdate()).exists():
        return False
    since = account.supply_suspended_at
    account.supply_suspended_at, account.suspension_reason = None, ""
    account.save(update_fields=["supply_suspended_at", "suspension_reason", "updated_at"])
    money_audit(
        action=MoneyChange.Action.SUPPLY_RESTORED,
        actor=actor,
        customer_id=customer_id,
        before={"supply_suspended": True, "since": timezone.localtime(since).date()},
        after={"supply_suspended": False},
        note=_("Overdue debt cleared"),
    )
    return True
