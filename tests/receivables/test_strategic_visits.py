"""Strategic customers need two visits a month from their rep; shortfalls show on "my work" and the manager's pages."""

import datetime

import pytest
import time_machine
from django.template.loader import render_to_string
from django.utils import timezone

from crm.choices import Tier, VisitKind
from funnel.selectors_receivables import my_strategic_visits, strategic_visits
from tests.factories import LeadFactory, VisitFactory

NOW = timezone.make_aware(datetime.datetime(2026, 4, 10, 9, 0))
TODAY = datetime.date(2026, 4, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _strategic(owner, name="战略客户"):
    return LeadFactory(owner=owner, customer__tier=Tier.STRATEGIC, customer__name=name)


def _visit(lead, author, when, kind=VisitKind.VISIT):
    return VisitFactory(lead=lead, author=author, kind=kind, occurred_at=timezone.make_aware(when))


def test_a_strategic_customer_visited_once_this_month_is_short(rep):
    lead = _strategic(rep)
    _visit(lead, rep, datetime.datetime(2026, 4, 2, 10))
    for day in (3, 20):
        _visit(lead, rep, datetime.datetime(2026, 3, day, 10))
    (customer,) = my_strategic_visits(user=rep, today=TODAY)["customers"]
    assert (customer.visits_this_month, customer.visits_last_month) == (1, 2)


def test_two_visits_this_and_last_month_are_enough(rep):
    lead = _strategic(rep)
    for when in (datetime.datetime(2026, 4, 1, 0, 10), datetime.datetime(2026, 4, 9), (datetime.datetime(2026, 3, 1))):
        _visit(lead, rep, when)
    _visit(lead, rep, datetime.datetime(2026, 3, 31, 23, 50))
    assert my_strategic_visits(user=rep, today=TODAY)["customers"] == []


def test_calls_and_other_peoples_visits_do_not_count(rep, teammate):
    lead = _strategic(rep)
    _visit(lead, rep, datetime.datetime(2026, 4, 2), kind=VisitKind.CALL)
    _visit(lead, rep, datetime.datetime(2026, 4, 3), kind=VisitKind.EMAIL)
    _visit(lead, teammate, datetime.datetime(2026, 4, 4))
    (customer,) = my_strategic_visits(user=rep, today=TODAY)["customers"]
    assert customer.visits_this_month == 0


def test_only_strategic_customers_are_watched(rep):
    LeadFactory(owner=rep, customer__tier=Tier.IMPORTANT)
    assert my_strategic_visits(user=rep, today=TODAY)["customers"] == []


def test_a_manager_sees_the_teams_shortfalls_and_a_rep_only_their_own(rep, teammate, manager, outsider):
    _strategic(rep, "甲")
    _strategic(teammate, "乙")
    _strategic(outsider, "丙")
    assert {c.name for c in strategic_visits(user=manager, today=TODAY)["customers"]} == {"甲", "乙"}
    assert [c.name for c in my_strategic_visits(user=rep, today=TODAY)["customers"]] == ["甲"]


def test_the_my_work_include_renders_the_shortfalls(rep, django_assert_num_queries):
    _strategic(rep, "苏州恒信")
    with django_assert_num_queries(1):
        strategic = my_strategic_visits(user=rep, today=TODAY)
    html = render_to_string("receivables/includes/my_strategic_visits.html", {"strategic": strategic})
    assert "苏州恒信" in html and "0/2" in html and 'data-testid="strategic-visits"' in html
