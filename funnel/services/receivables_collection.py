"""Collection (回款): reminders (工作函), supply suspension, credit limits, hand-over to collection, month close."""

import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from crm.models import (
    CollectionTarget,
    Contract,
    Customer,
    CustomerAccount,
    Installment,
    MoneyChange,
    Payment,
    Reminder,
)

from .receivables import (
    ZERO,
    cents,
    installments_due_for,
    is_finance_or_director,
    locked_account,
    money_audit,
    setting,
)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(day: date) -> date:
    return month_end(day) + timedelta(days=1)


def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def _unanswered_reminders(customer_id: int, today: date) -> int:
    """Count reminders nobody answered on the customer's debt that is overdue today."""
    return (
        Reminder.objects.unanswered()
        .filter(installment__in=installments_due_for(customer_id=customer_id, today=today))
        .count()
    )


@transaction.atomic
def reminder_log(
    *, installment: Installment, actor, channel: str, note: str = "", sent_on: date | None = None
) -> Reminder:
    """Log a written reminder (工作函) for an overdue installment.

    The RECEIVABLES_REMINDERS_BEFORE_SUSPENSION-th (3rd) unanswered one suspends supply to the
    customer until its overdue debt is cleared.
    """
    today = timezone.localdate()
    installment = (
        Installment.objects.editable_by(actor)
        .select_for_update(of=("self",))
        .select_related("contract__lead__customer")
        .filter(pk=installment.pk)
        .first()
    )
    if installment is None:
        raise PermissionDenied
    if not Installment.objects.overdue(today).filter(pk=installment.pk).exists():
        raise ValidationError({"installment": _("Reminders are for overdue, unpaid installments; this one is not.")})
    sent_on = sent_on or today
    if sent_on > today:
        raise ValidationError({"sent_on": _("The reminder cannot be sent in the future.")})
    if channel not in Reminder.Channel.values:
        raise ValidationError({"channel": _("Choose how the reminder was sent.")})
    customer = installment.contract.lead.customer
    account = locked_account(customer_id=customer.pk)  # two reminders at once count each other
    reminder = Reminder.objects.create(
        installment=installment, sent_on=sent_on, channel=channel, note=note.strip(), author=actor
    )
    limit = setting("RECEIVABLES_REMINDERS_BEFORE_SUSPENSION")
    unanswered = _unanswered_reminders(customer.pk, today)
    if not account.is_supply_suspended and unanswered >= limit:
        account.supply_suspended_at = timezone.now()
        account.suspension_reason = _("%(n)d reminders without payment") % {"n": unanswered}
        account.save(update_fields=["supply_suspended_at", "suspension_reason", "updated_at"])
        money_audit(
            action=MoneyChange.Action.SUPPLY_SUSPENDED,
            actor=actor,
            contract=installment.contract,
            before={"supply_suspended": False},
            after={"supply_suspended": True, "unanswered_reminders": unanswered},
            note=account.suspension_reason,
        )
    return reminder


@transaction.atomic
def reminder_answer(*, reminder: Reminder, actor, note: str) -> Reminder:
    """Mark a reminder answered (the customer replied with a plan); only payment lifts a suspension."""
    reminder = (
        Reminder.objects.filter(installment__in=Installment.objects.editable_by(actor))
        .select_for_update(of=("self",))
        .filter(pk=reminder.pk)
        .first()
    )
    if reminder is None:
        raise PermissionDenied
    if reminder.answered_at is not None:
        raise ValidationError({"reminder": _("This reminder is already answered.")})
    if not note.strip():
        raise ValidationError({"note": _("Say how the customer answered.")})
    reminder.answered_at, reminder.answer_note = timezone.now(), note.strip()
    reminder.save(update_fields=["answered_at", "answer_note"])
    return reminder


@transaction.atomic
def credit_limit_set(*, customer: Customer, actor, credit_limit: Decimal | None) -> Customer:
    """Set a customer's credit limit (empty: none); new contracts above it wait for a director."""
    if not is_finance_or_director(actor):
        raise PermissionDenied
    if credit_limit is not None and (credit_limit < 0 or credit_limit != cents(credit_limit)):
        raise ValidationError({"credit_limit": _("Enter zero or more, with at most two decimals, or leave it empty.")})
    account = locked_account(customer_id=customer.pk)
    before = account.credit_limit
    account.credit_limit = credit_limit
    account.save(update_fields=["credit_limit", "updated_at"])
    money_audit(
        action=MoneyChange.Action.CREDIT_LIMIT_SET,
        actor=actor,
        customer_id=customer.pk,
        before={"credit_limit": before},
        after={"credit_limit": credit_limit},
    )
    return customer


def customer_account_fold(*, keep: Customer, duplicate: Customer, actor) -> None:
    """Give the kept customer of a merge the stricter standing of the two: the lower credit limit, and
    the duplicate's suspension when it is suspended, so merging never lifts a limit or a suspension.

    The duplicate's money history moves to the kept customer. Called inside the merge's transaction.
    """
    MoneyChange.objects.filter(customer=duplicate).update(customer=keep)
    theirs = CustomerAccount.objects.filter(customer=duplicate).first()
    if theirs is None:
        return
    ours = locked_account(customer_id=keep.pk)
    before = {"credit_limit": ours.credit_limit, "supply_suspended_at": ours.supply_suspended_at}
    if theirs.credit_limit is not None and (ours.credit_limit is None or theirs.credit_limit < ours.credit_limit):
        ours.credit_limit = theirs.credit_limit
    if theirs.supply_suspended_at is not None and ours.supply_suspended_at is None:
        ours.supply_suspended_at, ours.suspension_reason = theirs.supply_suspended_at, theirs.suspension_reason
    after = {"credit_limit": ours.credit_limit, "supply_suspended_at": ours.supply_suspended_at}
    if after == before:
        return
    ours.save()
    money_audit(
        action=MoneyChange.Action.CREDIT_LIMIT_SET
        if after["credit_limit"] != before["credit_limit"]
        else MoneyChange.Action.SUPPLY_SUSPENDED,
        actor=actor,
        customer_id=keep.pk,
        before=before,
        after=after,
        note=_("Merged duplicate “%s”") % duplicate.name,
    )


@transaction.atomic
def contract_collection_handover(*, contract: Contract, actor, collection_owner: User, note: str) -> Contract:
    """Hand a hopeless debt to a collection owner (legal or an agency); it leaves the rep's collection target."""
    if not is_finance_or_director(actor):
        raise PermissionDenied
    contract = Contract.objects.select_for_update(of=("self",)).select_related("lead").get(pk=contract.pk)
    if not Installment.objects.overdue(timezone.localdate()).filter(contract=contract).exists():
        raise ValidationError({"collection_owner": _("Only a contract with overdue debt can go to collection.")})
    if collection_owner is None or not collection_owner.is_active:
        raise ValidationError({"collection_owner": _("Choose an active user to take over the collection.")})
    if not note.strip():
        raise ValidationError({"note": _("Say why the debt goes to collection.")})
    before = {"collection_owner": contract.collection_owner_id, "outstanding": contract.outstanding}
    contract.collection_owner, contract.collection_note = collection_owner, note.strip()
    contract.collection_since = contract.collection_since or timezone.now()
    contract.save(update_fields=["collection_owner", "collection_note", "collection_since", "updated_at"])
    money_audit(
        action=MoneyChange.Action.COLLECTION_HANDOVER,
        actor=actor,
        contract=contract,
        before=before,
        after={"collection_owner": collection_owner.pk, "outstanding": contract.outstanding},
        note=contract.collection_note,
    )
    return contract


def _rate(collected: Decimal, target: Decimal | None) -> Decimal | None:
    if not target:
        return None
    return cents(collected * 100 / target)


def _collected_by_rep(start: date, end: date) -> dict[int, Decimal]:
    """Return confirmed payments dated in [start, end], summed per rep (debts in collection excluded)."""
    rows = (
        Payment.objects.confirmed()
        .filter(paid_on__gte=start, paid_on__lte=end, installment__contract__collection_owner__isnull=True)
        .exclude(installment__contract__owner__isnull=True)
        .values("installment__contract__owner")
        .annotate(total=Sum("amount"))
    )
    return {row["installment__contract__owner"]: cents(row["total"]) for row in rows}


def _close_collection(month: date, now) -> int:
    """Recompute what each rep collected in the month and the rate against the month's target; return rows."""
    collected = _collected_by_rep(month, month_end(month))
    targets = dict(CollectionTarget.objects.filter(month=month).values_list("rep_id", "target_amount"))
    reps = set(collected) | set(targets)
    CollectionTarget.objects.bulk_create(
        [
            CollectionTarget(
                rep_id=rep_id,
                month=month,
                target_amount=targets.get(rep_id),
                collected_amount=collected.get(rep_id, ZERO),
                rate=_rate(collected.get(rep_id, ZERO), targets.get(rep_id)),
                collected_at=now,
            )
            for rep_id in reps
        ],
        update_conflicts=True,
        unique_fields=["rep", "month"],
        update_fields=["collected_amount", "rate", "collected_at"],
    )
    return len(reps)


def _set_targets(month: date, now) -> int:
    """Set each rep's target for the month: what is unpaid on installments due by its last day; return rows."""
    due = dict(
        Installment.objects.unpaid()
        .filter(due_on__lte=month_end(month), contract__collection_owner__isnull=True, contract__owner__isnull=False)
        .values("contract__owner")
        .annotate(total=Sum("amount") - Sum("paid_amount"))
        .values_list("contract__owner", "total")
    )
    reps = set(due) | set(
        CollectionTarget.objects.filter(month=month, target_amount__isnull=False).values_list("rep_id", flat=True)
    )
    CollectionTarget.objects.bulk_create(
        [
            CollectionTarget(rep_id=rep_id, month=month, target_amount=cents(due.get(rep_id, ZERO)), target_set_at=now)
            for rep_id in reps
        ],
        update_conflicts=True,
        unique_fields=["rep", "month"],
        update_fields=["target_amount", "target_set_at"],
    )
    return len(reps)


@transaction.atomic
def collection_month_close(*, today: date | None = None) -> dict[str, int]:
    """Close the month (by the 25th, DOMAIN.md): set next month's targets, count this and last month's collection.

    Next month's target per rep is what is unpaid on installments due by its end (so overdue debt too);
    the collection of this month (to date) and of last month (now complete) is recomputed from the
    confirmed payments. Everything is recomputed from source with upserts, so the job is safe to run
    twice or concurrently; debts handed to collection count for nobody's target.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    this_month = month_start(today)
    return {
        "targets": _set_targets(next_month(today), now),
        "closed": _close_collection(this_month, now),
        "previous": _close_collection(previous_month(this_month), now),
    }
