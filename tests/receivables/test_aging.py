"""Aging buckets: calendar days overdue in settings.TIME_ZONE, each boundary, and the sums by customer, rep, team."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from crm.models import Installment
from crm.querysets import AgingBucket, bucket_q
from funnel.selectors_receivables import aging, aging_chart
from tests.factories import UserFactory

from .factories import ContractFactory, InstallmentFactory

# 00:30 on 20 May in Shanghai is still 19 May in UTC: the buckets must count Shanghai's calendar days.
NOW = timezone.make_aware(datetime.datetime(2026, 5, 20, 0, 30))
TODAY = datetime.date(2026, 5, 20)

BOUNDARIES = [
    (-1, AgingBucket.NOT_DUE),  # due tomorrow
    (0, AgingBucket.NOT_DUE),  # due today is not overdue yet
    (1, AgingBucket.DAYS_1_30),  # due yesterday
    (30, AgingBucket.DAYS_1_30),
    (31, AgingBucket.DAYS_31_60),
    (60, AgingBucket.DAYS_31_60),
    (61, AgingBucket.DAYS_61_90),
    (90, AgingBucket.DAYS_61_90),
    (91, AgingBucket.OVER_90),
    (400, AgingBucket.OVER_90),
]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _due(days_overdue: int, **kwargs) -> Installment:
    return InstallmentFactory(due_on=TODAY - datetime.timedelta(days=days_overdue), **kwargs)


def test_today_is_the_local_calendar_day():
    assert timezone.localdate() == TODAY
    assert timezone.now().astimezone(datetime.UTC).date() == datetime.date(2026, 5, 19)


@pytest.mark.parametrize(("days_overdue", "bucket"), BOUNDARIES)
def test_each_bucket_boundary_in_calendar_days(days_overdue, bucket, rep):
    installment = _due(days_overdue, contract__owner=rep)
    annotated = Installment.objects.with_aging(timezone.localdate()).get(pk=installment.pk)
    assert annotated.bucket == bucket
    matching = [code for code in AgingBucket.values if Installment.objects.filter(bucket_q(code, TODAY)).exists()]
    assert matching == [bucket]  # the filter the list and drill-down links use agrees, and buckets never overlap


@pytest.mark.parametrize(("days_overdue", "bucket"), BOUNDARIES)
def test_the_aging_page_puts_each_boundary_in_its_bucket(days_overdue, bucket, finance, rep):
    _due(days_overdue, contract__owner=rep, contract__amount=Decimal("100.00"))
    company = aging(user=finance, today=timezone.localdate())["company"]
    assert company.amounts == {code: Decimal("100.00") if code == bucket else Decimal("0.00") for code in AgingBucket}


def test_only_what_confirmed_payments_leave_unpaid_on_active_contracts_ages(finance, rep):
    _due(10, contract__owner=rep, contract__amount=Decimal("1000.00"), paid_amount=Decimal("250.50"))
    _due(10, contract__owner=rep, contract__amount=Decimal("70.00"), paid_amount=Decimal("70.00"))  # paid
    _due(10, contract__owner=rep, contract__status="cancelled", contract__amount=Decimal("5.00"))
    _due(10, contract__owner=rep, contract__status="pending_approval", contract__amount=Decimal("7.00"))
    company = aging(user=finance, today=TODAY)["company"]
    assert (company.total, company.overdue) == (Decimal("749.50"), Decimal("749.50"))


def test_aging_sums_by_customer_rep_team_and_company(finance, rep, teammate, outsider):
    first = ContractFactory(owner=rep, amount=Decimal("300.00"))
    _due(5, contract=first, amount=Decimal("100.00"))
    _due(45, contract=first, amount=Decimal("200.00"))
    _due(0, contract__owner=teammate, contract__amount=Decimal("50.00"))
    _due(95, contract__owner=outsider, contract__amount=Decimal("1000.00"))
    data = aging(user=finance, today=TODAY)
    assert data["company"].cells == [
        ("not_due", Decimal("50.00")),
        ("1_30", Decimal("100.00")),
        ("31_60", Decimal("200.00")),
        ("61_90", Decimal("0.00")),
        ("over_90", Decimal("1000.00")),
    ]
    assert {row.label: row.total for row in data["teams"]} == {
        "华东一组": Decimal("350.00"),
        "华南二组": Decimal("1000.00"),
    }
    assert {row.key: row.overdue for row in data["reps"]} == {
        rep.pk: Decimal("300.00"),
        teammate.pk: Decimal("0.00"),
        outsider.pk: Decimal("1000.00"),
    }
    outsider_customer = Installment.objects.get(contract__owner=outsider).contract.lead.customer_id
    assert data["customers"][0].key == outsider_customer  # most overdue first


def test_a_manager_sees_the_aging_of_the_team_only(manager, rep, outsider):
    _due(5, contract__owner=rep, contract__amount=Decimal("100.00"))
    _due(5, contract__owner=outsider, contract__amount=Decimal("900.00"))
    assert aging(user=manager, today=TODAY)["company"].total == Decimal("100.00")
    assert aging(user=UserFactory(role="support"), today=TODAY)["company"].total == Decimal("0.00")


def test_the_chart_scales_bars_to_the_largest_bucket():
    amounts = dict.fromkeys(AgingBucket.values, Decimal("0"))
    amounts |= {"1_30": Decimal("50"), "over_90": Decimal("200")}
    bars = {bar["code"]: bar["height"] for bar in aging_chart(amounts)}
    assert bars["over_90"] == 180 and bars["1_30"] == 45 and bars["not_due"] == 0
