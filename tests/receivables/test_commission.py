"""Commission: the contract's rate on what is collected, less points when late, rounded half up to the cent."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import Payment
from funnel.selectors_receivables import commission_earned, commission_statement
from funnel.services.receivables import cents, late_penalty_points

from .factories import ContractFactory, InstallmentFactory, PaymentFactory

MARCH = datetime.date(2026, 3, 1)


def _payment(installment, amount: str, paid_on: datetime.date, status=Payment.Status.CONFIRMED):
    return PaymentFactory(installment=installment, amount=Decimal(amount), paid_on=paid_on, status=status)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("3.025", "3.03"),
        ("0.005", "0.01"),
        ("0.0049", "0.00"),
        ("2.675", "2.68"),
        ("1.665", "1.67"),
        ("-0.005", "-0.01"),
    ],
)
def test_cents_round_half_up(value, rounded):
    assert cents(Decimal(value)) == Decimal(rounded)  # banker's rounding would give 3.02, 0.00, 2.68, 1.66


def test_commission_on_money_collected_in_time_rounds_half_up():
    assert commission_earned(
        on_time=Decimal("60.50"), late=Decimal("0"), rate=Decimal("5"), penalty=Decimal("2")
    ) == Decimal("3.03")  # 3.025


def test_money_collected_late_earns_the_rate_less_the_penalty_points():
    earned = commission_earned(on_time=Decimal("30000"), late=Decimal("20000"), rate=Decimal("3"), penalty=Decimal("2"))
    assert earned == Decimal("1100.00")  # 30,000 x 3% + 20,000 x 1%


def test_the_penalty_never_makes_the_rate_negative():
    assert commission_earned(on_time=Decimal("0"), late=Decimal("100"), rate=Decimal("1"), penalty=Decimal("5")) == 0


@pytest.mark.parametrize(("points", "ok"), [(0, False), (1, True), ("2.5", True), (5, True), (6, False)])
def test_the_late_penalty_is_configurable_between_1_and_5_points(points, ok, settings):
    settings.COMMISSION_LATE_PENALTY_POINTS = points
    if ok:
        assert late_penalty_points() == Decimal(str(points))
    else:
        with pytest.raises(ImproperlyConfigured):
            late_penalty_points()


@pytest.fixture
def contract(rep):
    """100,000 at 3%: 60,000 due 10 March, 40,000 due 10 April."""
    contract = ContractFactory(owner=rep, amount=Decimal("100000.00"), commission_rate=Decimal("3.00"))
    InstallmentFactory(contract=contract, number=1, amount=Decimal("60000.00"), due_on=datetime.date(2026, 3, 10))
    InstallmentFactory(contract=contract, number=2, amount=Decimal("40000.00"), due_on=datetime.date(2026, 4, 10))
    return contract


def _installment(contract, number):
    return contract.installments.get(number=number)


def test_commission_is_paid_in_proportion_to_collection_and_in_full_only_at_100(contract, rep, settings):
    settings.COMMISSION_LATE_PENALTY_POINTS = 2
    _payment(_installment(contract, 1), "30000.00", datetime.date(2026, 3, 9))  # in time
    _payment(_installment(contract, 1), "30000.00", datetime.date(2026, 3, 20))  # 10 days late
    march = commission_statement(rep=rep, month=MARCH)
    (line,) = march["lines"]
    assert (line.collected_on_time, line.collected_late) == (Decimal("30000.00"), Decimal("30000.00"))
    assert line.commission == Decimal("1200.00")  # 900 + 300
    assert (line.share, line.is_complete) == (Decimal("60.00"), False)
    _payment(_installment(contract, 2), "40000.00", datetime.date(2026, 4, 1))
    (april,) = commission_statement(rep=rep, month=datetime.date(2026, 4, 1))["lines"]
    assert (april.commission, april.commission_to_date, april.is_complete) == (
        Decimal("1200.00"),
        Decimal("2400.00"),  # the full 3% only on time; the late 30,000 earned 1%
        True,
    )


def test_months_add_up_to_the_contracts_commission_to_the_cent(rep):
    contract = ContractFactory(owner=rep, amount=Decimal("100.00"), commission_rate=Decimal("5.00"))
    installment = InstallmentFactory(contract=contract, amount=Decimal("100.00"), due_on=datetime.date(2026, 12, 31))
    for amount, day in (("33.33", 15), ("33.33", 45), ("33.34", 75)):
        _payment(installment, amount, datetime.date(2026, 1, 1) + datetime.timedelta(days=day))
    months = [commission_statement(rep=rep, month=datetime.date(2026, m, 1))["total_commission"] for m in (1, 2, 3)]
    assert months == [Decimal("1.67"), Decimal("1.66"), Decimal("1.67")]  # 1.6665, 3.333, 5.00 to date
    assert sum(months) == Decimal("5.00")  # rounding each payment would pay 5.01


def test_only_confirmed_payments_earn_commission(contract, rep):
    _payment(_installment(contract, 1), "1000.00", datetime.date(2026, 3, 1), status=Payment.Status.RECORDED)
    _payment(_installment(contract, 1), "2000.00", datetime.date(2026, 3, 1), status=Payment.Status.REJECTED)
    assert commission_statement(rep=rep, month=MARCH)["lines"] == []


def test_another_reps_contracts_are_not_on_the_statement(contract, rep, teammate):
    _payment(_installment(contract, 1), "1000.00", datetime.date(2026, 3, 1))
    assert commission_statement(rep=teammate, month=MARCH)["lines"] == []


# The statement page and its export ------------------------------------------------------------------------------------


def test_a_rep_opens_their_statement(client, contract, rep):
    _payment(_installment(contract, 1), "1000.00", datetime.date(2026, 3, 1))
    client.force_login(rep)
    response = client.get(reverse("funnel:commission"), {"month": "2026-03"})
    assert response.status_code == 200
    assert response.context["total_commission"] == Decimal("30.00")
    assert "¥30.00" in response.content.decode()


@pytest.mark.parametrize(("persona", "status"), [("rep", 404), ("manager", 200), ("finance", 200), ("director", 200)])
def test_who_may_open_a_teammates_statement(persona, status, client, teammate, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("funnel:commission"), {"rep": teammate.pk, "month": "2026-03"})
    assert response.status_code == status


def test_another_managers_rep_is_a_404(client, other_manager, rep):
    client.force_login(other_manager)
    assert client.get(reverse("funnel:commission"), {"rep": rep.pk}).status_code == 404


def test_the_statement_exports_to_excel_with_exact_money_and_escaped_text(client, rep, finance):
    contract = ContractFactory(
        owner=rep, amount=Decimal("60.50"), commission_rate=Decimal("5.00"), lead__customer__name="=HYPERLINK(1)"
    )
    installment = InstallmentFactory(contract=contract, amount=Decimal("60.50"), due_on=datetime.date(2026, 3, 31))
    _payment(installment, "60.50", datetime.date(2026, 3, 2))
    client.force_login(finance)
    response = client.get(reverse("funnel:commission-export"), {"rep": rep.pk, "month": "2026-03"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    line = rows[3]
    assert line[1] == "'=HYPERLINK(1)"
    assert line[3] == 60.5 and line[10] == 3.03  # 3.025 rounded half up
    money_cells = [sheet.cell(row=4, column=c) for c in (4, 7, 8, 9, 11, 12)]
    assert {cell.number_format for cell in money_cells} == {"#,##0.00"}
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
