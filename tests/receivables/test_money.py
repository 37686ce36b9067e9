"""The money rules: contracts from signing, payment plans, payments recorded and confirmed, credit limits, audit."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.choices import Stage
from crm.models import Contract, CustomerAccount, Installment, Lead, MoneyChange, Payment, StageChange
from funnel.models import Webhook, WebhookDelivery
from funnel.services import (
    contract_approve,
    contract_cancel,
    contract_plan_set,
    contract_rate_set,
    credit_limit_set,
    customer_exposure,
    lead_transition,
    payment_confirm,
    payment_record,
    payment_reject,
)
from tests.factories import LeadFactory, VisitFactory

from .factories import ContractFactory, CustomerAccountFactory, PaymentFactory, contract_with_plan

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 10, 0))
TODAY = datetime.date(2026, 3, 10)
MONEY_TABLES = (Contract, Installment, Payment, MoneyChange, CustomerAccount, StageChange)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _counts() -> list[int]:
    return [model.objects.count() for model in MONEY_TABLES]


def _refused(key: str, call, *args, **kwargs):
    """Assert the call fails with a message on `key` and writes nothing."""
    before = _counts()
    paid = list(Installment.objects.order_by("pk").values_list("paid_amount", flat=True))
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    assert key in exc.value.message_dict, exc.value.message_dict
    assert _counts() == before
    assert list(Installment.objects.order_by("pk").values_list("paid_amount", flat=True)) == paid
    return exc.value.message_dict[key]


def _ready_to_sign(rep, **customer):
    lead = LeadFactory(owner=rep, stage=Stage.INTENTION, need_known=True, authority_known=True, **customer)
    VisitFactory(lead=lead, author=rep)
    return lead


def _sign(lead, actor, amount="120000.00"):
    return lead_transition(
        lead=lead, to_stage=Stage.SIGNED, actor=actor, signed_amount=Decimal(amount), signed_on=TODAY
    )


# Contracts from signing ----------------------------------------------------------------------------------------------


def test_signing_creates_an_active_contract_with_one_installment_for_the_whole_amount(rep, settings):
    settings.RECEIVABLES_DEFAULT_DUE_DAYS = 30
    lead = _ready_to_sign(rep)
    _sign(lead, rep)
    contract = Contract.objects.get(lead=lead)
    assert (contract.owner, contract.amount, contract.signed_on, contract.status) == (
        rep,
        Decimal("120000.00"),
        TODAY,
        Contract.Status.ACTIVE,
    )
    assert contract.commission_rate == Decimal("3.00")
    assert list(contract.installments.values_list("number", "due_on", "amount")) == [
        (1, TODAY + datetime.timedelta(days=30), Decimal("120000.00"))
    ]
    audit = MoneyChange.objects.get(contract=contract)
    assert (audit.action, audit.actor, audit.before) == (MoneyChange.Action.CONTRACT_CREATED, rep, {})
    assert audit.after["amount"] == "120000.00" and audit.customer_id == lead.customer_id


def test_signing_again_after_a_step_back_keeps_the_one_contract(rep, manager):
    lead = _ready_to_sign(rep)
    _sign(lead, rep)
    lead_transition(lead=lead, to_stage=Stage.INTENTION, actor=manager)
    _sign(lead, manager)
    assert Contract.objects.filter(lead=lead).count() == 1


def test_signing_again_for_another_amount_is_refused_while_the_contract_lives(rep, manager):
    lead = _ready_to_sign(rep)
    _sign(lead, rep)
    lead_transition(lead=lead, to_stage=Stage.INTENTION, actor=manager)
    _refused("signed_amount", _sign, lead, manager, "99.00")
    assert Lead.objects.get(pk=lead.pk).stage == Stage.INTENTION


def test_a_contract_over_the_credit_limit_waits_for_a_director(rep, director):
    lead = _ready_to_sign(rep)
    CustomerAccountFactory(customer=lead.customer, credit_limit=Decimal("150000.00"))
    ContractFactory(lead__customer=lead.customer, owner=rep, amount=Decimal("40000.00"), paid_amount=Decimal("5000"))
    _sign(lead, rep)  # exposure 35,000 + 120,000 > 150,000
    contract = Contract.objects.get(lead=lead)
    assert contract.status == Contract.Status.PENDING_APPROVAL
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SIGNED  # the signing stands; the contract waits
    contract_approve(contract=contract, actor=director)
    contract.refresh_from_db()
    assert (contract.status, contract.approved_by) == (Contract.Status.ACTIVE, director)
    assert MoneyChange.objects.filter(contract=contract, action=MoneyChange.Action.CONTRACT_APPROVED).exists()


def test_a_contract_within_the_credit_limit_is_active_at_once(rep):
    lead = _ready_to_sign(rep)
    CustomerAccountFactory(customer=lead.customer, credit_limit=Decimal("120000.00"))
    _sign(lead, rep)
    assert Contract.objects.get(lead=lead).status == Contract.Status.ACTIVE


def test_contracts_awaiting_approval_count_against_the_limit(rep):
    lead = _ready_to_sign(rep)
    CustomerAccountFactory(customer=lead.customer, credit_limit=Decimal("150000.00"))
    ContractFactory(lead__customer=lead.customer, owner=rep, amount=Decimal("40000"), status="pending_approval")
    _sign(lead, rep)
    assert Contract.objects.get(lead=lead).status == Contract.Status.PENDING_APPROVAL


@pytest.mark.parametrize("persona", ["rep", "manager", "finance"])
def test_only_a_director_approves_over_the_limit(persona, rep, request):
    contract = ContractFactory(owner=rep, status=Contract.Status.PENDING_APPROVAL)
    with pytest.raises(PermissionDenied):
        contract_approve(contract=contract, actor=request.getfixturevalue(persona))
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.PENDING_APPROVAL


def test_approving_an_active_contract_is_refused(rep, director):
    _refused("status", contract_approve, contract=ContractFactory(owner=rep), actor=director)


def test_exposure_is_what_active_contracts_still_owe(rep):
    customer = LeadFactory(owner=rep).customer
    ContractFactory(lead__customer=customer, owner=rep, amount=Decimal("100.00"), paid_amount=Decimal("40.50"))
    ContractFactory(lead__customer=customer, owner=rep, amount=Decimal("10.00"), status="cancelled")
    ContractFactory(lead__customer=customer, owner=rep, amount=Decimal("7.00"), status="pending_approval")
    assert customer_exposure(customer_id=customer.pk) == Decimal("59.50")


def test_credit_limit_changes_are_kept_with_before_and_after(finance, rep):
    customer = LeadFactory(owner=rep).customer
    credit_limit_set(customer=customer, actor=finance, credit_limit=Decimal("80000.00"))
    credit_limit_set(customer=customer, actor=finance, credit_limit=None)
    changes = MoneyChange.objects.filter(customer=customer).order_by("pk")
    assert [(c.before, c.after) for c in changes] == [
        ({"credit_limit": None}, {"credit_limit": "80000.00"}),
        ({"credit_limit": "80000.00"}, {"credit_limit": None}),
    ]
    assert {c.actor for c in changes} == {finance}


def test_a_negative_credit_limit_is_refused(finance, rep):
    customer = LeadFactory(owner=rep).customer
    _refused("credit_limit", credit_limit_set, customer=customer, actor=finance, credit_limit=Decimal("-1"))


def test_a_rep_cannot_set_a_credit_limit(rep):
    with pytest.raises(PermissionDenied):
        credit_limit_set(customer=LeadFactory(owner=rep).customer, actor=rep, credit_limit=Decimal("1"))


# Payment plans -------------------------------------------------------------------------------------------------------


def test_a_plan_that_adds_up_replaces_the_installments(rep):
    contract = contract_with_plan(owner=rep, amounts=["1000.00"], dues=[TODAY])
    plan = [(TODAY + datetime.timedelta(days=60), Decimal("333.34")), (TODAY, Decimal("666.66"))]
    contract_plan_set(contract=contract, actor=rep, installments=plan, terms="30% 预付, 70% 验收后")
    assert list(contract.installments.values_list("number", "due_on", "amount")) == [
        (1, TODAY, Decimal("666.66")),
        (2, TODAY + datetime.timedelta(days=60), Decimal("333.34")),
    ]
    audit = MoneyChange.objects.get(contract=contract, action=MoneyChange.Action.PLAN_SET)
    assert audit.before["installments"] == [{"number": 1, "due_on": "2026-03-10", "amount": "1000.00"}]
    assert len(audit.after["installments"]) == 2 and audit.after["terms"] == "30% 预付, 70% 验收后"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ([("0", 0), ("1000.00", 30)], "more than zero"),
        ([("-100.00", 0), ("1100.00", 30)], "more than zero"),
        ([("500.00", 0), ("499.99", 30)], "add up to ¥999.99, not the contract amount ¥1,000.00"),
        ([("500.00", 0), ("500.01", 30)], "add up to ¥1,000.01"),
        ([("1000.00", -1)], "before the contract was signed"),
        ([], "at least one"),
    ],
)
def test_a_plan_that_does_not_add_up_is_refused_and_nothing_changes(plan, message, rep):
    contract = contract_with_plan(owner=rep, amounts=["1000.00"], dues=[TODAY], signed_on=TODAY)
    rows = [(TODAY + datetime.timedelta(days=days), Decimal(amount)) for amount, days in plan]
    messages = _refused("installments", contract_plan_set, contract=contract, actor=rep, installments=rows, terms="")
    assert any(message in m for m in messages), messages


def test_the_plan_is_fixed_once_a_payment_is_on_record(rep):
    contract = contract_with_plan(owner=rep, amounts=["1000.00"], dues=[TODAY])
    PaymentFactory(installment=contract.installments.get(), amount=Decimal("10.00"))
    rows = [(TODAY, Decimal("1000.00"))]
    _refused("installments", contract_plan_set, contract=contract, actor=rep, installments=rows, terms="")


def test_someone_elses_plan_cannot_be_set(rep, teammate):
    contract = contract_with_plan(owner=rep, amounts=["1000.00"], dues=[TODAY])
    with pytest.raises(PermissionDenied):
        contract_plan_set(contract=contract, actor=teammate, installments=[(TODAY, Decimal("1000"))], terms="")


# Payments ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def contract(rep):
    return contract_with_plan(
        owner=rep,
        amounts=["600.00", "400.00"],
        dues=[TODAY - datetime.timedelta(days=5), TODAY + datetime.timedelta(days=25)],
    )


def _first(contract) -> Installment:
    return contract.installments.get(number=1)


def test_a_recorded_payment_does_not_count_until_finance_confirms_it(contract, rep, finance):
    payment = payment_record(
        installment=_first(contract), actor=rep, amount=Decimal("250.00"), paid_on=TODAY, reference="BOC-001"
    )
    assert payment.status == Payment.Status.RECORDED
    assert _first(contract).paid_amount == Decimal("0.00")
    payment_confirm(payment=payment, actor=finance)
    contract.refresh_from_db()
    first = _first(contract)
    assert (first.paid_amount, first.paid_on, contract.paid_amount) == (Decimal("250.00"), None, Decimal("250.00"))
    payment.refresh_from_db()
    assert (payment.status, payment.confirmed_by, payment.confirmed_at) == (Payment.Status.CONFIRMED, finance, NOW)


def test_an_installment_paid_in_full_remembers_the_day(contract, rep, finance):
    early = payment_record(
        installment=_first(contract), actor=rep, amount=Decimal("100"), paid_on=TODAY - datetime.timedelta(days=3)
    )
    rest = payment_record(installment=_first(contract), actor=finance, amount=Decimal("500"), paid_on=TODAY)
    payment_confirm(payment=rest, actor=finance)
    payment_confirm(payment=early, actor=finance)
    first = _first(contract)
    assert (first.paid_amount, first.paid_on) == (Decimal("600.00"), TODAY)


@pytest.mark.parametrize(
    ("amount", "paid_on", "key"),
    [
        (Decimal("0"), TODAY, "amount"),
        (Decimal("-50.00"), TODAY, "amount"),
        (None, TODAY, "amount"),
        (Decimal("600.01"), TODAY, "amount"),  # overpays the installment
        (Decimal("10.00"), TODAY + datetime.timedelta(days=1), "paid_on"),
        (Decimal("10.00"), None, "paid_on"),
    ],
)
def test_bad_payments_are_refused_with_a_field_message_and_write_nothing(amount, paid_on, key, contract, rep):
    _refused(key, payment_record, installment=_first(contract), actor=rep, amount=amount, paid_on=paid_on)


def test_payments_waiting_for_finance_count_against_overpayment(contract, rep):
    payment_record(installment=_first(contract), actor=rep, amount=Decimal("500.00"), paid_on=TODAY)
    message = _refused(
        "amount", payment_record, installment=_first(contract), actor=rep, amount=Decimal("100.01"), paid_on=TODAY
    )
    assert "¥100.00" in message[0]


def test_rejected_payments_free_the_amount_again(contract, rep, finance):
    wrong = payment_record(installment=_first(contract), actor=rep, amount=Decimal("600.00"), paid_on=TODAY)
    payment_reject(payment=wrong, actor=finance, reason="银行无此笔")
    payment = payment_record(installment=_first(contract), actor=rep, amount=Decimal("600.00"), paid_on=TODAY)
    assert payment.status == Payment.Status.RECORDED
    assert Payment.objects.get(pk=wrong.pk).reject_reason == "银行无此笔"


def test_a_payment_on_a_cancelled_contract_is_refused(contract, rep):
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.CANCELLED)
    message = _refused(
        "installment", payment_record, installment=_first(contract), actor=rep, amount=Decimal("1"), paid_on=TODAY
    )
    assert "cancelled" in message[0]


def test_a_payment_on_a_contract_awaiting_approval_is_refused(contract, rep):
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.PENDING_APPROVAL)
    _refused("installment", payment_record, installment=_first(contract), actor=rep, amount=Decimal("1"), paid_on=TODAY)


def test_a_second_confirmation_is_refused_and_counts_nothing_twice(contract, rep, finance):
    payment = payment_record(installment=_first(contract), actor=rep, amount=Decimal("600.00"), paid_on=TODAY)
    payment_confirm(payment=payment, actor=finance)
    message = _refused("status", payment_confirm, payment=payment, actor=finance)
    assert message == ["This payment is already confirmed."]
    assert Contract.objects.get(pk=contract.pk).paid_amount == Decimal("600.00")


def test_a_rejected_payment_cannot_be_confirmed(contract, rep, finance):
    payment = payment_record(installment=_first(contract), actor=rep, amount=Decimal("1.00"), paid_on=TODAY)
    payment_reject(payment=payment, actor=finance, reason="重复")
    _refused("status", payment_confirm, payment=payment, actor=finance)


def test_confirming_never_overpays_even_if_the_installment_changed_meanwhile(contract, rep, finance):
    payment = PaymentFactory(installment=_first(contract), amount=Decimal("600.00"))
    Installment.objects.filter(pk=_first(contract).pk).update(paid_amount=Decimal("100.00"))
    _refused("amount", payment_confirm, payment=payment, actor=finance)


@pytest.mark.parametrize("persona", ["rep", "manager", "director", "admin_user"])
def test_only_finance_confirms_or_rejects(persona, contract, request):
    payment = PaymentFactory(installment=_first(contract), amount=Decimal("1.00"))
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        payment_confirm(payment=payment, actor=actor)
    with pytest.raises(PermissionDenied):
        payment_reject(payment=payment, actor=actor, reason="x")
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.RECORDED


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager", "support"])
def test_others_cannot_record_payments_on_a_contract(persona, contract, request):
    with pytest.raises(PermissionDenied):
        payment_record(
            installment=_first(contract), actor=request.getfixturevalue(persona), amount=Decimal("1"), paid_on=TODAY
        )
    assert not Payment.objects.exists()


@pytest.mark.parametrize("persona", ["rep", "manager", "director", "finance"])
def test_the_rep_their_manager_directors_and_finance_record_payments(persona, contract, request):
    payment_record(
        installment=_first(contract), actor=request.getfixturevalue(persona), amount=Decimal("1"), paid_on=TODAY
    )
    assert Payment.objects.count() == 1


def test_every_money_change_is_in_the_history(contract, rep, finance):
    payment = payment_record(installment=_first(contract), actor=rep, amount=Decimal("600.00"), paid_on=TODAY)
    payment_confirm(payment=payment, actor=finance)
    history = list(
        MoneyChange.objects.filter(contract=contract).order_by("pk").values("action", "actor", "before", "after")
    )
    assert [(h["action"], h["actor"]) for h in history] == [
        (MoneyChange.Action.PAYMENT_RECORDED, rep.pk),
        (MoneyChange.Action.PAYMENT_CONFIRMED, finance.pk),
    ]
    assert history[1]["before"] == {"status": "recorded", "installment_paid": "0.00", "contract_paid": "0.00"}
    assert history[1]["after"]["contract_paid"] == "600.00"


def test_confirming_posts_the_payment_confirmed_webhook_after_commit(
    contract, rep, finance, django_capture_on_commit_callbacks, monkeypatch
):
    Webhook.objects.create(name="ERP", url="https://erp.example.com/hook", events=["payment.confirmed"], secret="s")
    sent = []
    monkeypatch.setattr("funnel.tasks.webhook_deliver_task.delay", sent.append)
    payment = payment_record(installment=_first(contract), actor=rep, amount=Decimal("600.00"), paid_on=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        payment_confirm(payment=payment, actor=finance)
    delivery = WebhookDelivery.objects.get()
    assert sent == [delivery.pk]
    data = delivery.payload["data"]
    assert (delivery.event, data["amount"], data["contract"]["paid_amount"]) == (
        "payment.confirmed",
        "600.00",
        "600.00",
    )
    assert data["customer"]["id"] == contract.lead.customer_id


# Cancelling and the commission rate ----------------------------------------------------------------------------------


def test_finance_cancels_a_contract_without_payments(contract, finance):
    contract_cancel(contract=contract, actor=finance, reason="客户撤单")
    contract.refresh_from_db()
    assert (contract.status, contract.cancel_reason) == (Contract.Status.CANCELLED, "客户撤单")
    assert MoneyChange.objects.get(action=MoneyChange.Action.CONTRACT_CANCELLED).before["status"] == "active"


def test_a_contract_with_payments_cannot_be_cancelled(contract, rep, finance):
    payment_record(installment=_first(contract), actor=rep, amount=Decimal("1"), paid_on=TODAY)
    _refused("status", contract_cancel, contract=contract, actor=finance, reason="x")


def test_cancelling_needs_a_reason_and_a_rep_cannot(contract, rep, finance):
    _refused("reason", contract_cancel, contract=contract, actor=finance, reason=" ")
    with pytest.raises(PermissionDenied):
        contract_cancel(contract=contract, actor=rep, reason="x")


def test_the_commission_rate_is_set_by_finance_with_history(contract, finance, rep):
    contract_rate_set(contract=contract, actor=finance, commission_rate=Decimal("4.50"))
    assert Contract.objects.get(pk=contract.pk).commission_rate == Decimal("4.50")
    assert MoneyChange.objects.get(action=MoneyChange.Action.RATE_SET).after == {"commission_rate": "4.50"}
    _refused("commission_rate", contract_rate_set, contract=contract, actor=finance, commission_rate=Decimal("101"))
    with pytest.raises(PermissionDenied):
        contract_rate_set(contract=contract, actor=rep, commission_rate=Decimal("9"))
