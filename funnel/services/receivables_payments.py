"""Payments (回款): recorded by the rep or finance against an installment, counted once finance confirms them."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Contract, Installment, MoneyChange, Payment, Reminder

from ..models import Webhook
from ..webhooks import webhook_emit
from .receivables import ZERO, cents, money_audit, supply_refresh


def _open_for_new_payments(installment: Installment) -> Decimal:
    """Return what can still be recorded on the installment: unpaid, less payments waiting for finance."""
    waiting = installment.payments.waiting().aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    return installment.amount - installment.paid_amount - waiting


@transaction.atomic
def payment_record(
    *,
    installment: Installment,
    actor,
    amount: Decimal | None,
    paid_on: date | None,
    reference: str = "",
    note: str = "",
) -> Payment:
    """Record money the customer paid against an installment; it counts once finance confirms it."""
    installment = (
        Installment.objects.editable_by(actor)
        .select_for_update(of=("self",))  # two recordings at once cannot both fit the open amount
        .select_related("contract__lead")
        .filter(pk=installment.pk)
        .first()
    )
    if installment is None:
        raise PermissionDenied
    contract = installment.contract
    if contract.status == Contract.Status.CANCELLED:
        raise ValidationError({"installment": _("This contract is cancelled: no payment can be recorded on it.")})
    if contract.status == Contract.Status.PENDING_APPROVAL:
        raise ValidationError(
            {"installment": _("This contract awaits a director's approval: record payments once it is approved.")}
        )
    errors = {}
    if amount is None or amount <= 0:
        errors["amount"] = _("Enter an amount more than zero.")
    elif amount != cents(amount):
        errors["amount"] = _("Amounts have at most two decimals.")
    if paid_on is None:
        errors["paid_on"] = _("Enter the date the customer paid.")
    elif paid_on > timezone.localdate():
        errors["paid_on"] = _("The payment date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    still_open = _open_for_new_payments(installment)
    if amount > still_open:
        raise ValidationError(
            {
                "amount": _("This would overpay the installment: at most %(open)s is still open.")
                % {"open": f"¥{max(still_open, ZERO):,.2f}"}
            }
        )
    payment = Payment.objects.create(
        installment=installment,
        amount=amount,
        paid_on=paid_on,
        reference=reference.strip(),
        note=note.strip(),
        recorded_by=actor,
    )
    money_audit(
        action=MoneyChange.Action.PAYMENT_RECORDED,
        actor=actor,
        contract=contract,
        payment=payment,
        after={"installment": installment.number, "amount": amount, "paid_on": paid_on, "status": payment.status},
    )
    return payment


def _locked_waiting_payment(payment: Payment, actor) -> Payment:
    if not actor.is_finance:
        raise PermissionDenied
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("installment__contract__lead__customer")
        .get(pk=payment.pk)
    )
    if payment.status == Payment.Status.CONFIRMED:
        raise ValidationError({"status": _("This payment is already confirmed.")})
    if payment.status == Payment.Status.REJECTED:
        raise ValidationError({"status": _("This payment was rejected and cannot be confirmed or rejected again.")})
    return payment


@transaction.atomic
def payment_confirm(*, payment: Payment, actor) -> Payment:
    """Confirm a recorded payment (finance): it now counts on its installment and contract.

    Answers the installment's open reminders, restores supply once no overdue debt is left, and
    tells the webhooks (payment.confirmed) after commit.
    """
    payment = _locked_waiting_payment(payment, actor)
    installment = Installment.objects.select_for_update().get(pk=payment.installment_id)
    contract = Contract.objects.select_for_update().select_related("lead__customer").get(pk=installment.contract_id)
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError({"status": _("Only payments on active contracts can be confirmed.")})
    if installment.paid_amount + payment.amount > installment.amount:
        raise ValidationError(
            {
                "amount": _("Confirming this would overpay the installment: only %(open)s is still unpaid.")
                % {"open": f"¥{installment.outstanding:,.2f}"}
            }
        )
    before = {
        "status": payment.status,
        "installment_paid": installment.paid_amount,
        "contract_paid": contract.paid_amount,
    }
    now = timezone.now()
    payment.status, payment.confirmed_by, payment.confirmed_at = Payment.Status.CONFIRMED, actor, now
    payment.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    # Recompute from the confirmed payments rather than adding: a repair can never double count.
    confirmed = Payment.objects.confirmed().filter(installment=installment)
    totals = confirmed.aggregate(paid=Coalesce(Sum("amount"), ZERO), last=Max("paid_on"))
    installment.paid_amount = cents(totals["paid"])  # SQLite sums lose the scale
    installment.paid_on = totals["last"] if installment.paid_amount == installment.amount else None
    installment.save(update_fields=["paid_amount", "paid_on"])
    contract.paid_amount = cents(contract.installments.aggregate(paid=Coalesce(Sum("paid_amount"), ZERO))["paid"])
    contract.save(update_fields=["paid_amount", "updated_at"])
    Reminder.objects.filter(installment=installment, answered_at__isnull=True).update(
        answered_at=now, answer_note=_("Payment confirmed")
    )
    money_audit(
        action=MoneyChange.Action.PAYMENT_CONFIRMED,
        actor=actor,
        contract=contract,
        payment=payment,
        before=before,
        after={
            "status": payment.status,
            "amount": payment.amount,
            "installment_paid": installment.paid_amount,
            "contract_paid": contract.paid_amount,
        },
    )
    supply_refresh(customer_id=contract.lead.customer_id, actor=actor)
    webhook_emit(event=Webhook.Event.PAYMENT_CONFIRMED, payload=lambda: payment_payload(payment, installment, contract))
    return payment


@transaction.atomic
def payment_reject(*, payment: Payment, actor, reason: str) -> Payment:
    """Refuse a recorded payment that finance cannot find in the bank; it never counts."""
    payment = _locked_waiting_payment(payment, actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the payment is rejected.")})
    payment.status, payment.reject_reason = Payment.Status.REJECTED, reason.strip()
    payment.confirmed_by, payment.confirmed_at = actor, timezone.now()
    payment.save(update_fields=["status", "reject_reason", "confirmed_by", "confirmed_at"])
    money_audit(
        action=MoneyChange.Action.PAYMENT_REJECTED,
        actor=actor,
        contract=payment.installment.contract,
        payment=payment,
        before={"status": Payment.Status.RECORDED, "amount": payment.amount},
        after={"status": payment.status},
        note=payment.reject_reason,
    )
    return payment


def payment_payload(payment: Payment, installment: Installment, contract: Contract) -> dict:
    """Return what a webhook is told about a confirmed payment; amounts are decimal strings."""
    customer = contract.lead.customer
    return {
        "id": payment.pk,
        "amount": str(payment.amount),
        "paid_on": payment.paid_on.isoformat(),
        "reference": payment.reference,
        "confirmed_at": payment.confirmed_at.isoformat() if payment.confirmed_at else None,
        "installment": {
            "id": installment.pk,
            "number": installment.number,
            "due_on": installment.due_on.isoformat(),
            "amount": str(installment.amount),
            "paid_amount": str(installment.paid_amount),
        },
        "contract": {
            "id": contract.pk,
            "lead": contract.lead_id,
            "amount": str(contract.amount),
            "paid_amount": str(contract.paid_amount),
            "paid_in_full": contract.paid_amount == contract.amount,
        },
        "customer": {"id": customer.pk, "name": customer.name},
    }
