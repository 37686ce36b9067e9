"""Reminders (工作函): only for overdue debt; the third unanswered one suspends supply until the debt is cleared."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.choices import Stage
from crm.models import Contract, CustomerAccount, MoneyChange, Reminder
from funnel.services import (
    contract_collection_handover,
    lead_transition,
    payment_confirm,
    payment_record,
    reminder_answer,
    reminder_log,
)
from tests.factories import LeadFactory, VisitFactory

from .factories import ContractFactory, InstallmentFactory, ReminderFactory

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 10, 0))
TODAY = datetime.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def overdue(rep):
    """An installment of 1,000 that fell due 20 days ago."""
    return InstallmentFactory(
        contract__owner=rep, contract__amount=Decimal("1000.00"), due_on=TODAY - datetime.timedelta(days=20)
    )


def _account(installment) -> CustomerAccount:
    return CustomerAccount.objects.filter(customer_id=installment.contract.lead.customer_id).first()


def _remind(installment, actor, times=1):
    for _ in range(times):
        reminder_log(installment=installment, actor=actor, channel=Reminder.Channel.LETTER, note="请尽快付款")


def test_a_reminder_is_logged_against_an_overdue_installment(overdue, rep):
    _remind(overdue, rep)
    reminder = Reminder.objects.get()
    assert (reminder.installment, reminder.author, reminder.sent_on, reminder.answered_at) == (
        overdue,
        rep,
        TODAY,
        None,
    )


@pytest.mark.parametrize("days_overdue", [0, -5])
def test_no_reminder_for_an_installment_not_yet_overdue(days_overdue, rep):
    installment = InstallmentFactory(contract__owner=rep, due_on=TODAY - datetime.timedelta(days=days_overdue))
    with pytest.raises(ValidationError) as exc:
        _remind(installment, rep)
    assert "installment" in exc.value.message_dict
    assert not Reminder.objects.exists()


def test_no_reminder_for_a_paid_installment(rep):
    installment = InstallmentFactory(
        contract__owner=rep, due_on=TODAY - datetime.timedelta(days=9), paid_amount=Decimal("100000.00")
    )
    with pytest.raises(ValidationError):
        _remind(installment, rep)


def test_a_reminder_cannot_be_dated_in_the_future(overdue, rep):
    with pytest.raises(ValidationError) as exc:
        reminder_log(installment=overdue, actor=rep, channel="letter", sent_on=TODAY + datetime.timedelta(days=1))
    assert "sent_on" in exc.value.message_dict


@pytest.mark.parametrize("persona", ["teammate", "outsider", "support"])
def test_others_cannot_log_reminders(persona, overdue, request):
    with pytest.raises(PermissionDenied):
        _remind(overdue, request.getfixturevalue(persona))


def test_two_unanswered_reminders_do_not_suspend_supply(overdue, rep):
    _remind(overdue, rep, times=2)
    assert not CustomerAccount.objects.suspended().exists()


def test_the_third_unanswered_reminder_suspends_supply(overdue, rep, finance):
    _remind(overdue, rep, times=2)
    _remind(overdue, finance)
    account = _account(overdue)
    assert account.supply_suspended_at == NOW
    assert "3" in account.suspension_reason
    audit = MoneyChange.objects.get(action=MoneyChange.Action.SUPPLY_SUSPENDED)
    assert (audit.actor, audit.before, audit.after["supply_suspended"]) == (finance, {"supply_suspended": False}, True)


def test_reminders_on_different_overdue_installments_of_one_customer_add_up(rep):
    contract = ContractFactory(owner=rep, amount=Decimal("200.00"))
    first = InstallmentFactory(contract=contract, amount=Decimal("100.00"), due_on=TODAY - datetime.timedelta(days=40))
    second = InstallmentFactory(contract=contract, amount=Decimal("100.00"), due_on=TODAY - datetime.timedelta(days=3))
    _remind(first, rep, times=2)
    _remind(second, rep)
    assert _account(first).is_supply_suspended


def test_answered_reminders_do_not_count(overdue, rep):
    _remind(overdue, rep, times=2)
    reminder_answer(reminder=Reminder.objects.first(), actor=rep, note="客户承诺月底付款")
    _remind(overdue, rep)
    assert not _account(overdue).is_supply_suspended


def test_answering_needs_a_note_and_happens_once(overdue, rep):
    _remind(overdue, rep)
    reminder = Reminder.objects.get()
    with pytest.raises(ValidationError):
        reminder_answer(reminder=reminder, actor=rep, note=" ")
    reminder_answer(reminder=reminder, actor=rep, note="已回复")
    with pytest.raises(ValidationError):
        reminder_answer(reminder=reminder, actor=rep, note="again")


def test_a_suspended_customer_gets_no_new_contract(overdue, rep):
    _remind(overdue, rep, times=3)
    lead = LeadFactory(
        owner=rep, customer=overdue.contract.lead.customer, stage=Stage.INTENTION, need_known=True, authority_known=True
    )
    VisitFactory(lead=lead, author=rep)
    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=lead, to_stage=Stage.SIGNED, actor=rep, signed_amount=Decimal("5000.00"), signed_on=TODAY)
    message = exc.value.message_dict["customer"][0]
    assert lead.customer.name in message and "suspended" in message
    lead.refresh_from_db()
    assert lead.stage == Stage.INTENTION and not Contract.objects.filter(lead=lead).exists()


def test_paying_the_overdue_debt_restores_supply(overdue, rep, finance):
    _remind(overdue, rep, times=3)
    part = payment_record(installment=overdue, actor=rep, amount=Decimal("400.00"), paid_on=TODAY)
    payment_confirm(payment=part, actor=finance)
    assert _account(overdue).is_supply_suspended  # still 600 overdue
    assert not Reminder.objects.unanswered().exists()  # a payment answers the letters
    rest = payment_record(installment=overdue, actor=rep, amount=Decimal("600.00"), paid_on=TODAY)
    payment_confirm(payment=rest, actor=finance)
    account = _account(overdue)
    assert (account.supply_suspended_at, account.suspension_reason) == (None, "")
    restored = MoneyChange.objects.get(action=MoneyChange.Action.SUPPLY_RESTORED)
    assert (restored.actor, restored.after) == (finance, {"supply_suspended": False})


def test_debt_not_yet_due_does_not_keep_supply_suspended(rep, finance):
    contract = ContractFactory(owner=rep, amount=Decimal("300.00"))
    late = InstallmentFactory(contract=contract, amount=Decimal("100.00"), due_on=TODAY - datetime.timedelta(days=5))
    InstallmentFactory(contract=contract, amount=Decimal("200.00"), due_on=TODAY + datetime.timedelta(days=30))
    _remind(late, rep, times=3)
    payment = payment_record(installment=late, actor=rep, amount=Decimal("100.00"), paid_on=TODAY)
    payment_confirm(payment=payment, actor=finance)
    assert not _account(late).is_supply_suspended


def test_unanswered_reminders_on_paid_installments_are_not_counted_again(rep):
    paid = InstallmentFactory(contract__owner=rep, due_on=TODAY - datetime.timedelta(days=50))
    ReminderFactory.create_batch(2, installment=paid)
    type(paid).objects.filter(pk=paid.pk).update(paid_amount=paid.amount)
    fresh = InstallmentFactory(
        contract__owner=rep,
        contract__lead__customer=paid.contract.lead.customer,
        due_on=TODAY - datetime.timedelta(days=2),
    )
    _remind(fresh, rep)
    assert not _account(fresh).is_supply_suspended


def test_a_hopeless_debt_goes_to_a_collection_owner(overdue, finance, rep, outsider):
    contract_collection_handover(contract=overdue.contract, actor=finance, collection_owner=outsider, note="移交法务")
    contract = Contract.objects.get(pk=overdue.contract_id)
    assert (contract.collection_owner, contract.collection_note, contract.collection_since) == (
        outsider,
        "移交法务",
        NOW,
    )
    assert Contract.objects.visible_to(outsider).filter(pk=contract.pk).exists()  # the collector sees it
    audit = MoneyChange.objects.get(action=MoneyChange.Action.COLLECTION_HANDOVER)
    assert audit.before == {"collection_owner": None, "outstanding": "1000.00"}


def test_only_overdue_debt_goes_to_collection_and_only_by_finance_or_directors(rep, finance, outsider, overdue):
    current = InstallmentFactory(contract__owner=rep, due_on=TODAY)
    with pytest.raises(ValidationError):
        contract_collection_handover(contract=current.contract, actor=finance, collection_owner=outsider, note="x")
    with pytest.raises(PermissionDenied):
        contract_collection_handover(contract=overdue.contract, actor=rep, collection_owner=outsider, note="x")
    with pytest.raises(ValidationError) as exc:
        contract_collection_handover(contract=overdue.contract, actor=finance, collection_owner=outsider, note="")
    assert "note" in exc.value.message_dict
