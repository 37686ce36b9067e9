"""Every receivables route that takes an id, on every verb, tried by people who must not reach the object: 404."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Contract, CustomerAccount, Installment, MoneyChange, Payment, Reminder

from .factories import InstallmentFactory, PaymentFactory, ReminderFactory

VERBS = ("get", "post", "put", "patch", "delete")


def _installment(rep):
    return InstallmentFactory(
        contract__owner=rep, amount=Decimal("100000.00"), due_on=timezone.localdate() - datetime.timedelta(days=40)
    )


def _payment(rep):
    return PaymentFactory(installment=_installment(rep), amount=Decimal("10.00"))


OBJECTS = {
    "funnel:contract-detail": lambda rep: _installment(rep).contract,
    "funnel:contract-plan": lambda rep: _installment(rep).contract,
    "funnel:payment-new": lambda rep: _installment(rep).contract,
    "funnel:contract-approve": lambda rep: _installment(rep).contract,
    "funnel:contract-cancel": lambda rep: _installment(rep).contract,
    "funnel:contract-rate": lambda rep: _installment(rep).contract,
    "funnel:contract-collection": lambda rep: _installment(rep).contract,
    "funnel:payment-confirm": _payment,
    "funnel:payment-reject": _payment,
    "funnel:reminder-new": _installment,
    "funnel:reminder-answer": lambda rep: ReminderFactory(installment=_installment(rep)),
    "funnel:customer-receivables": lambda rep: _installment(rep).contract.lead.customer,
    "funnel:customer-credit-limit": lambda rep: _installment(rep).contract.lead.customer,
    "api:contract-detail": lambda rep: _installment(rep).contract,
    "api:installment-detail": _installment,
    "api:payment-detail": _payment,
    "api:payment-confirm": _payment,
    "api:payment-reject": _payment,
}


def _state():
    return (
        list(Contract.objects.values_list("pk", "status", "paid_amount", "commission_rate", "collection_owner_id")),
        list(Installment.objects.values_list("pk", "amount", "due_on", "paid_amount")),
        list(Payment.objects.values_list("pk", "status")),
        list(Reminder.objects.values_list("pk", "answered_at")),
        list(CustomerAccount.objects.values_list("pk", "credit_limit", "supply_suspended_at")),
        MoneyChange.objects.count(),
    )


@pytest.mark.parametrize("name", sorted(OBJECTS))
@pytest.mark.parametrize("persona", ["outsider", "other_manager", "teammate", "support"])
def test_someone_elses_receivables_are_404_on_every_verb(name, persona, rep, client, request):
    obj = OBJECTS[name](rep)
    user = request.getfixturevalue(persona)
    url = reverse(name, args=[obj.pk])
    if name.startswith("api:"):
        client = APIClient()
        client.force_authenticate(user)
    else:
        client.force_login(user)
    before = _state()
    for verb in VERBS:
        status = getattr(client, verb)(url, {"reason": "x", "credit_limit": "1", "amount": "1"}).status_code
        assert status in (404, 405), f"{verb.upper()} {name} as {persona}: {status}"
    assert _state() == before
