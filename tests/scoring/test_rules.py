"""The points score: each kind of rule, clamping to 0-100, and a breakdown that adds up."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.choices import BuyingRole, Stage
from scoring.models import LeadScore, ScoreRule
from scoring.services import lead_rescore, reading, rule_check
from tests.factories import ContactFactory, LeadFactory, VisitFactory

TODAY = timezone.localdate()


def _points(lead) -> int:
    lead_rescore(lead_id=lead.pk)
    return LeadScore.objects.get(lead=lead).points


def _days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


# (criterion, operator, value, attribute key, a lead that matches, a lead that does not)
CASES = [
    ("grade", "eq", "A", "", {"grade": "A"}, {"grade": "B"}),
    ("grade", "ne", "C", "", {"grade": "A"}, {"grade": "C"}),
    ("grade", "is_not_set", "", "", {"grade": ""}, {"grade": "C"}),
    ("source", "eq", "referral_customer", "", {"source": "referral_customer"}, {"source": "yellow_pages"}),
    ("source", "in", "referral_customer, referral_friend", "", {"source": "referral_friend"}, {"source": "website"}),
    ("stage", "eq", "intention", "", {"stage": Stage.INTENTION}, {"stage": Stage.LEAD}),
    ("customer_tier", "eq", "strategic", "", {"customer__tier": "strategic"}, {"customer__tier": "general"}),
    ("customer_size", "in", "large, enterprise", "", {"customer__size": "large"}, {"customer__size": "small"}),
    ("customer_industry", "eq", "制造业", "", {"customer__industry": "制造业"}, {"customer__industry": "教育培训"}),
    ("budget_known", "is_set", "", "", {"budget_known": True}, {"budget_known": False}),
    ("budget_known", "is_not_set", "", "", {"budget_known": False}, {"budget_known": True}),
    ("authority_known", "is_set", "", "", {"authority_known": True}, {"authority_known": False}),
    ("need_known", "is_set", "", "", {"need_known": True}, {"need_known": False}),
    ("timeline", "", "3", "", {"timeline_date": _days(60)}, {"timeline_date": _days(120)}),
    ("timeline", "", "12", "", {"timeline_date": _days(300)}, {"timeline_date": None}),
    ("budget_amount", "gte", "500000", "", {"budget_amount": Decimal("500000")}, {"budget_amount": Decimal("499999")}),
    ("budget_amount", "is_not_set", "", "", {"budget_amount": None}, {"budget_amount": Decimal("1")}),
    ("expected_amount", "lt", "10000", "", {"expected_amount": Decimal("9000")}, {"expected_amount": None}),
    ("attribute", "eq", "制造业", "industry", {"attributes": {"industry": "制造业"}}, {"attributes": {}}),
    (
        "attribute",
        "ne",
        "制造业",
        "industry",
        {"attributes": {"industry": "零售"}},
        {"attributes": {"industry": "制造业"}},
    ),
    ("attribute", "in", "苏州, 无锡", "city", {"attributes": {"city": "无锡"}}, {"attributes": {"city": "上海"}}),
    ("attribute", "gt", "100", "staff", {"attributes": {"staff": "250"}}, {"attributes": {"staff": 80}}),
    ("attribute", "eq", "10", "visits", {"attributes": {"visits": 10.0}}, {"attributes": {"visits": "ten"}}),
    ("attribute", "is_set", "", "utm.campaign", {"attributes": {"utm": {"campaign": "双十一"}}}, {"attributes": {}}),
    ("attribute", "eq", "crm", "interests", {"attributes": {"interests": ["ERP", "CRM"]}}, {"attributes": {}}),
    ("attribute", "eq", "yes", "trial", {"attributes": {"trial": True}}, {"attributes": {"trial": False}}),
]


@pytest.mark.parametrize(("criterion", "operator", "value", "key", "matching", "other"), CASES)
def test_each_rule_gives_points_only_to_leads_that_match(
    add_rule, rep, criterion, operator, value, key, matching, other
):
    add_rule(criterion, 7, operator=operator, value=value, key=key)
    assert _points(LeadFactory(owner=rep, **matching)) == 7
    assert _points(LeadFactory(owner=rep, **other)) == 0


def test_decision_maker_counts_only_when_met_in_a_visit(add_rule, rep):
    add_rule("decision_maker_reached", 10, operator="is_set")
    lead = LeadFactory(owner=rep)
    VisitFactory(lead=lead, contact=ContactFactory(customer=lead.customer, role=BuyingRole.INFLUENCER))
    assert _points(lead) == 0
    VisitFactory(lead=lead, contact=ContactFactory(customer=lead.customer, role=BuyingRole.DECISION_MAKER))
    assert _points(lead) == 10


def test_engagement_grows_with_recent_visits_and_halves_every_15_quiet_days(add_rule, rep):
    add_rule("engagement", 20, value="4")
    now = timezone.now()
    lead = LeadFactory(owner=rep)
    assert _points(lead) == 0
    VisitFactory(lead=lead, occurred_at=now - datetime.timedelta(days=40))  # outside the 30-day window
    VisitFactory.create_batch(2, lead=lead, occurred_at=now - datetime.timedelta(hours=1))
    assert _points(lead) == 10  # 2 of 4 visits, just now
    lead_rescore(lead_id=lead.pk, now=now + datetime.timedelta(days=15))
    assert LeadScore.objects.get(lead=lead).points == 5  # half as much after 15 quiet days


def test_negative_points_subtract(add_rule, rep):
    add_rule("grade", 30, operator="eq", value="A")
    add_rule("source", -10, operator="eq", value="yellow_pages")
    assert _points(LeadFactory(owner=rep, grade="A", source="yellow_pages")) == 20


def test_the_score_is_clamped_to_0_100_and_the_breakdown_keeps_every_rule(add_rule, rep):
    for _ in range(3):
        add_rule("grade", 40, operator="eq", value="A")
    add_rule("grade", -50, operator="eq", value="C")
    high, low = LeadFactory(owner=rep, grade="A"), LeadFactory(owner=rep, grade="C")
    assert (_points(high), _points(low)) == (100, 0)
    detail = LeadScore.objects.get(lead=high)
    assert [item["points"] for item in detail.breakdown] == [40, 40, 40]
    assert detail.breakdown_total == 120
    high.refresh_from_db()
    assert high.score == 100


def test_the_breakdown_sums_to_the_score_and_names_each_rule(add_rule, rep):
    grade = add_rule("grade", 20, operator="eq", value="A", name="等级 A")
    bant = add_rule("need_known", 8, operator="is_set", name="需求已确认")
    add_rule("source", 15, operator="eq", value="referral_customer")
    lead = LeadFactory(owner=rep, grade="A", need_known=True, source="website")
    assert _points(lead) == 28
    detail = LeadScore.objects.get(lead=lead)
    assert detail.breakdown == [
        {"rule": grade.pk, "name": "等级 A", "points": 20},
        {"rule": bant.pk, "name": "需求已确认", "points": 8},
    ]
    assert sum(item["points"] for item in detail.breakdown) == detail.points


def test_inactive_rules_give_nothing(add_rule, rep):
    rule = add_rule("grade", 20, operator="eq", value="A")
    ScoreRule.objects.filter(pk=rule.pk).update(is_active=False)
    assert _points(LeadFactory(owner=rep, grade="A")) == 0


def test_attribute_rules_are_skipped_where_leads_keep_no_attributes(add_rule, rep, monkeypatch):
    add_rule("attribute", 10, operator="eq", value="制造业", key="industry")
    monkeypatch.setattr(reading, "lead_has_attributes", lambda: False)
    assert _points(LeadFactory(owner=rep, attributes={"industry": "制造业"})) == 0


def test_the_shipped_defaults_cover_grade_source_bant_engagement_tier_and_an_attribute(rep):
    from importlib import import_module

    from django.apps import apps

    import_module("scoring.migrations.0002_default_rules").add_rules(apps, None)
    criteria = set(ScoreRule.objects.values_list("criterion", flat=True))
    assert {"grade", "source", "budget_known", "authority_known", "need_known", "timeline"} <= criteria
    assert {"decision_maker_reached", "engagement", "customer_tier", "attribute"} <= criteria
    points = dict(ScoreRule.objects.filter(criterion="source").values_list("value", "points"))
    assert points["referral_customer"] > points["yellow_pages"] and points["referral_friend"] > points["yellow_pages"]
    assert ScoreRule.objects.get(criterion="attribute").attribute_key == "industry"
    strategic = LeadFactory(owner=rep, grade="A", source="referral_customer", customer__tier="strategic")
    plain = LeadFactory(owner=rep, grade="C", source="yellow_pages", attributes={"industry": "零售"})
    assert _points(strategic) > _points(plain)
    for rule in ScoreRule.objects.all():
        rule_check(rule)  # every default passes the settings page's own check


@pytest.mark.parametrize(
    ("fields", "error_on"),
    [
        ({"criterion": "grade", "operator": "gt", "value": "A"}, "operator"),
        ({"criterion": "grade", "operator": "eq", "value": "D"}, "value"),
        ({"criterion": "source", "operator": "in", "value": "website, fax"}, "value"),
        ({"criterion": "budget_amount", "operator": "gte", "value": "a lot"}, "value"),
        ({"criterion": "timeline", "operator": "", "value": "0"}, "value"),
        ({"criterion": "engagement", "operator": "", "value": ""}, "value"),
        ({"criterion": "attribute", "operator": "eq", "value": "x", "attribute_key": ""}, "attribute_key"),
        ({"criterion": "attribute", "operator": "eq", "value": "", "attribute_key": "industry"}, "value"),
        ({"criterion": "attribute", "operator": "lt", "value": "many", "attribute_key": "staff"}, "value"),
    ],
)
def test_a_condition_that_does_not_fit_is_a_field_error(fields, error_on):
    rule = ScoreRule(name="x", points=5, **{"attribute_key": "", **fields})
    with pytest.raises(ValidationError) as error:
        rule_check(rule)
    assert error_on in error.value.message_dict


def test_the_check_tidies_what_does_not_apply():
    rule = ScoreRule(name="x", points=5, criterion="budget_known", operator="is_set", value="junk", attribute_key="k")
    rule_check(rule)
    assert (rule.value, rule.attribute_key) == ("", "")
    rule = ScoreRule(
        name="x", points=5, criterion="attribute", operator="in", value=" a ,b,, c", attribute_key="attributes.k"
    )
    rule_check(rule)
    assert (rule.value, rule.attribute_key) == ("a, b, c", "k")
