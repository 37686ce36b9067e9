"""The receivables API: visibility on every verb, decimal strings, payments recorded and confirmed, flat queries."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Contract, MoneyChange, Payment

from .factories import ContractFactory, InstallmentFactory, PaymentFactory


@pytest.fixture
def api():
    return APIClient()


def _as(api, user) -> APIClient:
    api.force_authenticate(user)
    return api


@pytest.fixture
def contract(rep):
    contract = ContractFactory(owner=rep, amount=Decimal("1234.50"), lead__customer__name="杭州云启软件有限公司")
    InstallmentFactory(contract=contract, number=1, amount=Decimal("1234.50"), due_on=timezone.localdate())
    return contract


@pytest.mark.parametrize(
    ("persona", "count"),
    [
        ("rep", 1),
        ("teammate", 0),
        ("manager", 1),
        ("outsider", 0),
        ("other_manager", 0),
        ("director", 1),
        ("finance", 1),
        ("support", 0),
    ],
)
def test_contracts_follow_the_visibility_rule(persona, count, api, contract, request):
    _as(api, request.getfixturevalue(persona))
    assert api.get("/api/v1/contracts/").json()["count"] == count
    status = 200 if count else 404
    assert api.get(f"/api/v1/contracts/{contract.pk}/").status_code == status
    installment = contract.installments.get()
    assert api.get(f"/api/v1/installments/{installment.pk}/").status_code == status


def test_a_contract_comes_with_its_installments_and_money_as_decimal_strings(api, contract, rep):
    body = _as(api, rep).get(f"/api/v1/contracts/{contract.pk}/").json()
    assert (body["amount"], body["paid_amount"], body["outstanding"]) == ("1234.50", "0.00", "1234.50")
    assert body["customer"]["name"] == "杭州云启软件有限公司" and body["contract_status"] == "active"
    assert body["supply_suspended"] is False
    (installment,) = body["installments"]
    assert (installment["amount"], installment["outstanding"], installment["aging"]) == (
        "1234.50",
        "1234.50",
        "not_due",
    )


def test_installments_filter_by_aging_bucket(api, rep):
    late = InstallmentFactory(contract__owner=rep, due_on=timezone.localdate() - datetime.timedelta(days=31))
    InstallmentFactory(contract__owner=rep, due_on=timezone.localdate())
    results = _as(api, rep).get("/api/v1/installments/", {"bucket": "31_60"}).json()["results"]
    assert [row["id"] for row in results] == [late.pk]


def _record(api, installment, **overrides):
    data = {"installment": installment.pk, "amount": "100.00", "paid_on": timezone.localdate().isoformat()} | overrides
    return api.post("/api/v1/payments/", data, format="json")


def test_a_rep_records_a_payment_and_finance_confirms_it(api, contract, rep, finance):
    response = _record(_as(api, rep), contract.installments.get(), amount="1234.50", reference="BOC-77")
    assert response.status_code == 201
    body = response.json()
    assert (body["payment_status"], body["amount"], body["contract"]) == ("recorded", "1234.50", contract.pk)
    confirmed = _as(api, finance).post(f"/api/v1/payments/{body['id']}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["payment_status"] == "confirmed"
    assert api.get(f"/api/v1/contracts/{contract.pk}/").json()["paid_amount"] == "1234.50"
    again = api.post(f"/api/v1/payments/{body['id']}/confirm/")
    assert again.status_code == 400 and again.json() == {"status": ["这笔付款已经确认过了。"]}  # Chinese first


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-10.00"}, "amount"),
        ({"amount": "1234.51"}, "amount"),  # overpayment
        ({"amount": "1.001"}, "amount"),  # a tenth of a cent
        ({"amount": "abc"}, "amount"),
        ({"paid_on": "2999-01-01"}, "paid_on"),
        ({"paid_on": ""}, "paid_on"),
    ],
)
def test_bad_payments_are_400_with_field_errors_and_write_nothing(overrides, field, api, contract, rep):
    response = _record(_as(api, rep), contract.installments.get(), **overrides)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Payment.objects.exists() and not MoneyChange.objects.exists()


def test_a_payment_on_a_cancelled_contract_is_a_400(api, contract, rep):
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.CANCELLED)
    response = _record(_as(api, rep), contract.installments.get())
    assert response.status_code == 400 and "installment" in response.json()


@pytest.mark.parametrize("persona", ["teammate", "outsider", "support"])
def test_someone_elses_installment_is_a_404(persona, api, contract, request):
    assert _record(_as(api, request.getfixturevalue(persona)), contract.installments.get()).status_code == 404
    assert not Payment.objects.exists()


@pytest.mark.parametrize("persona", ["rep", "manager", "director"])
def test_only_finance_confirms_through_the_api(persona, api, contract, request):
    payment = PaymentFactory(installment=contract.installments.get(), amount=Decimal("1.00"))
    response = _as(api, request.getfixturevalue(persona)).post(f"/api/v1/payments/{payment.pk}/confirm/")
    assert response.status_code == 404
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.RECORDED


def test_finance_rejects_with_a_reason(api, contract, finance):
    payment = PaymentFactory(installment=contract.installments.get(), amount=Decimal("1.00"))
    _as(api, finance)
    assert api.post(f"/api/v1/payments/{payment.pk}/reject/", {}, format="json").status_code == 400
    response = api.post(f"/api/v1/payments/{payment.pk}/reject/", {"reason": "查无此款"}, format="json")
    assert response.status_code == 200 and response.json()["payment_status"] == "rejected"


@pytest.mark.parametrize("page_size", [1, 100])
@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/api/v1/contracts/", 3),  # count, page with customer and reps, installments
        ("/api/v1/installments/", 2),  # count, page with joins and reminder subqueries
        ("/api/v1/payments/", 2),  # count, page with installment and people
    ],
)
def test_lists_do_not_depend_on_page_size(path, queries, page_size, api, rep, django_assert_num_queries):
    for _ in range(110):
        installment = InstallmentFactory(contract__owner=rep)
        PaymentFactory(installment=installment, amount=Decimal("1.00"))
    _as(api, rep)
    with django_assert_num_queries(queries):
        response = api.get(path, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_the_schema_still_validates_with_the_receivables_endpoints():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
