"""The finance pages: visibility per persona (404s), flat query counts, the forms behind them, exports."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.choices import Stage, Tier
from crm.models import Contract, CustomerAccount, Installment, Payment, Reminder
from tests.factories import LeadFactory, UserFactory, VisitFactory

from .factories import ContractFactory, CustomerAccountFactory, InstallmentFactory, PaymentFactory

PERSONAS = [
    ("rep", 200),
    ("teammate", 404),
    ("manager", 200),
    ("outsider", 404),
    ("other_manager", 404),
    ("director", 200),
    ("admin_user", 200),
    ("finance", 200),
    ("support", 404),
]


def _today():
    return timezone.localdate()


@pytest.fixture
def contract(rep):
    contract = ContractFactory(owner=rep, amount=Decimal("1000.00"), lead__customer__name="苏州恒信精密机械有限公司")
    InstallmentFactory(
        contract=contract, number=1, amount=Decimal("600.00"), due_on=_today() - datetime.timedelta(days=40)
    )
    InstallmentFactory(
        contract=contract, number=2, amount=Decimal("400.00"), due_on=_today() + datetime.timedelta(days=20)
    )
    return contract


@pytest.mark.parametrize(("persona", "status"), PERSONAS)
def test_contract_page_is_404_for_those_who_may_not_see_it(persona, status, client, contract, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:contract-detail", args=[contract.pk])).status_code == status


@pytest.mark.parametrize(("persona", "status"), PERSONAS)
def test_customer_receivables_page_follows_the_same_rule(persona, status, client, contract, request):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("funnel:customer-receivables", args=[contract.lead.customer_id])
    assert client.get(url).status_code == status


def test_the_collection_owner_sees_the_contract_handed_to_them(client, contract, outsider):
    Contract.objects.filter(pk=contract.pk).update(collection_owner=outsider)
    client.force_login(outsider)
    assert client.get(reverse("funnel:contract-detail", args=[contract.pk])).status_code == 200


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("rep", {"mine"}),
        ("teammate", {"theirs"}),
        ("manager", {"mine", "theirs"}),
        ("finance", {"mine", "theirs", "other"}),
    ],
)
def test_the_receivables_list_shows_what_the_user_may_see(persona, visible, client, rep, teammate, outsider, request):
    for owner, name in ((rep, "mine"), (teammate, "theirs"), (outsider, "other")):
        InstallmentFactory(contract__owner=owner, contract__lead__customer__name=name, due_on=_today())
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("funnel:receivables")).context["page"]
    assert {row.contract.lead.customer.name for row in page} == visible


def test_the_owner_filter_cannot_widen_visibility(client, rep, outsider):
    InstallmentFactory(contract__owner=outsider, contract__lead__customer__name="别组客户")
    client.force_login(rep)
    body = client.get(reverse("funnel:receivables"), {"owner": outsider.pk}).content.decode()
    assert "别组客户" not in body


def test_the_list_filters_by_aging_bucket_and_shows_paid_ones_on_request(client, finance, rep):
    late = InstallmentFactory(contract__owner=rep, due_on=_today() - datetime.timedelta(days=45))
    InstallmentFactory(contract__owner=rep, due_on=_today() - datetime.timedelta(days=5))
    paid = InstallmentFactory(contract__owner=rep, paid_amount=Decimal("100000.00"))
    client.force_login(finance)
    assert [r.pk for r in client.get(reverse("funnel:receivables"), {"bucket": "31_60"}).context["page"]] == [late.pk]
    assert paid.pk not in [r.pk for r in client.get(reverse("funnel:receivables")).context["page"]]
    assert paid.pk in [r.pk for r in client.get(reverse("funnel:receivables"), {"status": "paid"}).context["page"]]


def _book(rows: int, owners: list) -> None:
    for i in range(rows):
        owner = owners[i % len(owners)]
        installment = InstallmentFactory(
            contract__owner=owner, due_on=_today() - datetime.timedelta(days=i % 120), amount=Decimal("100000.00")
        )
        if i % 3 == 0:
            PaymentFactory(installment=installment, amount=Decimal("10.00"))
            Reminder.objects.create(installment=installment, sent_on=_today(), author=owner)
        if i % 5 == 0:
            CustomerAccountFactory(customer=installment.contract.lead.customer, supply_suspended_at=timezone.now())


@pytest.mark.parametrize("rows", [30, 300])
@pytest.mark.parametrize(
    ("url_name", "queries"),
    [
        ("funnel:receivables", 7),  # session, user, total, count, page with joins and reminders; filter choices x2
        ("funnel:aging", 6),  # session, user, company, teams, reps, customers
        ("funnel:reminders-due", 5),  # session, user, count, page, suspended customers
        ("funnel:payment-confirmations", 4),  # session, user, count, page with joins
        ("funnel:contract-approvals", 4),  # session, user, count, page with exposure
    ],
)
def test_finance_pages_cost_the_same_at_30_and_300_rows(
    rows, url_name, queries, client, finance, rep, teammate, django_assert_num_queries
):
    _book(rows, [rep, teammate])
    Contract.objects.filter(pk__in=Contract.objects.values("pk")[:20]).update(status="pending_approval")
    client.force_login(finance)
    with django_assert_num_queries(queries):
        assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("installments", [1, 40])
def test_the_contract_page_costs_the_same_however_long_its_history(
    installments, client, rep, django_assert_num_queries
):
    contract = ContractFactory(owner=rep, amount=Decimal("40000.00"))
    for number in range(1, installments + 1):
        installment = InstallmentFactory(contract=contract, number=number, amount=Decimal("1000.00"))
        PaymentFactory(installment=installment, amount=Decimal("1.00"))
        Reminder.objects.create(installment=installment, sent_on=_today(), author=rep)
    client.force_login(rep)
    # session, user, contract+joins, installments, payments, reminders, money history, editable?
    with django_assert_num_queries(8):
        client.get(reverse("funnel:contract-detail", args=[contract.pk]))


# Actions through the pages ------------------------------------------------------------------------------------------


def test_a_rep_records_a_payment_and_finance_confirms_it_on_the_pages(client, contract, rep, finance):
    first = contract.installments.get(number=1)
    client.force_login(rep)
    response = client.post(
        reverse("funnel:payment-new", args=[contract.pk]),
        {"installment": first.pk, "amount": "600.00", "paid_on": _today().isoformat(), "reference": "ICBC-9"},
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    client.force_login(finance)
    body = client.get(reverse("funnel:payment-confirmations")).content.decode()
    assert "ICBC-9" in body and f'data-testid="confirm-{payment.pk}"' in body
    client.post(reverse("funnel:payment-confirm", args=[payment.pk]))
    assert Installment.objects.get(pk=first.pk).paid_amount == Decimal("600.00")
    response = client.post(reverse("funnel:payment-confirm", args=[payment.pk]), follow=True)
    assert "这笔付款已经确认过了。" in response.content.decode() or "already confirmed" in response.content.decode()


def test_an_overpayment_shows_a_field_error_in_the_dialog_and_saves_nothing(client, contract, rep):
    client.force_login(rep)
    response = client.post(
        reverse("funnel:payment-new", args=[contract.pk]),
        {"installment": contract.installments.get(number=1).pk, "amount": "600.01", "paid_on": _today().isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert "<html" not in response.content.decode()  # the htmx partial
    assert not Payment.objects.exists()


def test_another_contracts_installment_is_a_field_error(client, contract, rep):
    other = InstallmentFactory(contract__owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("funnel:payment-new", args=[contract.pk]),
        {"installment": other.pk, "amount": "1.00", "paid_on": _today().isoformat()},
    )
    assert "installment" in response.context["form"].errors and not Payment.objects.exists()


def test_finance_cannot_edit_leads(client, contract, finance):
    client.force_login(finance)
    lead = contract.lead
    assert client.get(reverse("funnel:lead-detail", args=[lead.pk])).status_code == 404
    response = client.post(reverse("funnel:lead-move", args=[lead.pk]), {"to_stage": "implemented"})
    assert response.status_code == 404
    assert client.post(reverse("funnel:lead-edit", args=[lead.pk]), {"title": "x"}).status_code == 404


def test_a_rep_cannot_confirm_a_payment(client, contract, rep):
    payment = PaymentFactory(installment=contract.installments.get(number=1), amount=Decimal("5.00"))
    client.force_login(rep)
    assert client.post(reverse("funnel:payment-confirm", args=[payment.pk])).status_code == 404
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.RECORDED


def test_the_payment_plan_page_refuses_installments_that_do_not_add_up(client, contract, rep):
    client.force_login(rep)
    data = {
        "installments-TOTAL_FORMS": "2",
        "installments-INITIAL_FORMS": "0",
        "installments-0-due_on": _today().isoformat(),
        "installments-0-amount": "500.00",
        "installments-1-due_on": _today().isoformat(),
        "installments-1-amount": "400.00",
        "terms": "分两期",
    }
    response = client.post(reverse("funnel:contract-plan", args=[contract.pk]), data)
    assert response.status_code == 200 and "¥900.00" in response.content.decode()
    assert contract.installments.count() == 2 and Contract.objects.get(pk=contract.pk).terms == ""
    data["installments-1-amount"] = "500.00"
    assert client.post(reverse("funnel:contract-plan", args=[contract.pk]), data).status_code == 302
    assert sorted(contract.installments.values_list("amount", flat=True)) == [Decimal("500.00"), Decimal("500.00")]


def test_a_reminder_logged_from_the_reminders_page(client, contract, rep, finance):
    overdue = contract.installments.get(number=1)
    client.force_login(finance)
    assert overdue in list(client.get(reverse("funnel:reminders-due")).context["page"])
    response = client.post(
        reverse("funnel:reminder-new", args=[overdue.pk]), {"channel": "letter", "sent_on": _today().isoformat()}
    )
    assert response.status_code == 302 and Reminder.objects.get().author == finance
    assert overdue not in list(client.get(reverse("funnel:reminders-due")).context["page"])  # reminded just now


def test_a_director_approves_a_contract_over_the_limit_on_the_approvals_page(client, rep, director):
    contract = ContractFactory(owner=rep, status=Contract.Status.PENDING_APPROVAL)
    CustomerAccountFactory(customer=contract.lead.customer, credit_limit=Decimal("10.00"))
    client.force_login(director)
    assert f'data-testid="approve-{contract.pk}"' in client.get(reverse("funnel:contract-approvals")).content.decode()
    client.post(reverse("funnel:contract-approve", args=[contract.pk]))
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE


def test_finance_sets_a_credit_limit_and_a_rep_may_not(client, contract, rep, finance):
    url = reverse("funnel:customer-credit-limit", args=[contract.lead.customer_id])
    client.force_login(rep)
    assert client.post(url, {"credit_limit": "5"}).status_code == 404
    client.force_login(finance)
    assert client.post(url, {"credit_limit": "-5"}).context["form"].errors["credit_limit"]
    assert client.post(url, {"credit_limit": "50000.00"}).status_code == 302
    assert CustomerAccount.objects.get(customer=contract.lead.customer).credit_limit == Decimal("50000.00")


def test_the_receivables_export_is_scoped_exact_and_escaped(client, rep, outsider):
    InstallmentFactory(contract__owner=rep, contract__lead__customer__name="@SUM(A1)", amount=Decimal("1234.50"))
    InstallmentFactory(contract__owner=outsider, contract__lead__customer__name="别组客户")
    client.force_login(rep)
    sheet = load_workbook(io.BytesIO(client.get(reverse("funnel:receivables-export")).content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and rows[0][1] == "'@SUM(A1)"
    assert sheet.cell(row=2, column=6).number_format == "#,##0.00" and sheet.cell(row=2, column=6).value == 1234.5


# The customer's flags where the customer appears ---------------------------------------------------------------------


def test_the_lead_page_shows_the_contract_and_the_suspension(client, rep, django_assert_max_num_queries):
    lead = LeadFactory(owner=rep, stage=Stage.SIGNED)
    contract = ContractFactory(lead=lead, owner=rep, amount=Decimal("8888.00"), paid_amount=Decimal("888.00"))
    InstallmentFactory(contract=contract, amount=Decimal("8888.00"), due_on=datetime.date(2026, 9, 1))
    CustomerAccountFactory(customer=lead.customer, supply_suspended_at=timezone.now())
    client.force_login(rep)
    with django_assert_max_num_queries(7):  # as before: the contract is annotated on the lead's own query
        body = client.get(reverse("funnel:lead-detail", args=[lead.pk])).content.decode()
    assert 'data-testid="lead-contract"' in body and "¥8,888.00" in body and "2026-09-01" in body
    assert 'data-testid="supply-suspended"' in body


def test_the_board_card_flags_a_suspended_customer_and_missing_strategic_visits(client, rep):
    suspended = LeadFactory(owner=rep, stage=Stage.CONTACTED)
    CustomerAccountFactory(customer=suspended.customer, supply_suspended_at=timezone.now())
    strategic = LeadFactory(owner=rep, stage=Stage.CONTACTED, customer__tier=Tier.STRATEGIC)
    VisitFactory(lead=strategic, author=rep, kind="visit")
    client.force_login(rep)
    body = client.get(reverse("funnel:board")).content.decode()
    card = body.split(f'data-testid="card-{suspended.pk}"')[1].split("</article>")[0]
    assert 'data-testid="supply-suspended"' in card
    card = body.split(f'data-testid="card-{strategic.pk}"')[1].split("</article>")[0]
    assert 'data-testid="visits-short"' in card and "1/2" in card


@pytest.mark.parametrize("persona", ["rep", "manager", "director", "finance", "support"])
def test_every_finance_page_opens_for_every_role(persona, db, client, request):
    client.force_login(request.getfixturevalue(persona))
    for name in (
        "receivables",
        "aging",
        "reminders-due",
        "payment-confirmations",
        "contract-approvals",
        "commission",
        "collection-targets",
    ):
        assert client.get(reverse(f"funnel:{name}")).status_code == 200, name


def test_support_sees_no_receivables(client, contract, support):
    client.force_login(support)
    assert list(client.get(reverse("funnel:receivables")).context["page"]) == []


def test_strategic_visits_page_lists_customers_short_of_visits(client, manager, rep, outsider):
    LeadFactory(owner=rep, customer__tier=Tier.STRATEGIC, customer__name="战略客户甲")
    LeadFactory(owner=outsider, customer__tier=Tier.STRATEGIC, customer__name="别组战略客户")
    client.force_login(manager)
    body = client.get(reverse("funnel:strategic-visits")).content.decode()
    assert "战略客户甲" in body and "别组战略客户" not in body
    client.force_login(UserFactory(role="finance"))
    assert client.get(reverse("funnel:strategic-visits")).status_code == 404


# The funnel's move dialog drives the contract ------------------------------------------------------------------------


def test_signing_on_the_move_dialog_creates_the_contract(client, rep):
    lead = LeadFactory(owner=rep, stage=Stage.INTENTION, need_known=True, authority_known=True)
    VisitFactory(lead=lead, author=rep)
    client.force_login(rep)
    data = {"to_stage": "signed", "signed_amount": "88000.50", "signed_on": _today().isoformat()}
    assert client.post(reverse("funnel:lead-move", args=[lead.pk]), data).status_code == 302
    contract = Contract.objects.get(lead=lead)
    assert (contract.amount, contract.installments.get().amount) == (Decimal("88000.50"), Decimal("88000.50"))


def test_the_move_to_implemented_explains_what_is_missing(client, rep):
    lead = LeadFactory(owner=rep, stage=Stage.SIGNED)
    contract = ContractFactory(lead=lead, owner=rep, amount=Decimal("100.00"), paid_amount=Decimal("40.00"))
    client.force_login(rep)
    url = reverse("funnel:lead-move", args=[lead.pk])
    response = client.post(url, {"to_stage": "implemented", "implementation_accepted": "on"})
    assert response.status_code == 200 and "¥40.00" in response.content.decode()  # 40 of 100 confirmed
    Contract.objects.filter(pk=contract.pk).update(paid_amount=Decimal("100.00"))
    response = client.post(url, {"to_stage": "implemented"})
    assert response.status_code == 200 and response.context["form"].errors["implementation_accepted"]
    assert client.post(url, {"to_stage": "implemented", "implementation_accepted": "on"}).status_code == 302
    assert Contract.objects.get(pk=contract.pk).implementation_accepted_at is not None
