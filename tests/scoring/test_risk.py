"""The risk assessment of large deals: pass or fail, then A-D by risk and months to close."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from scoring.models import RiskAssessment
from scoring.services.risk import lead_risk_assess
from tests.factories import LeadFactory

GOOD = {"size_budget": 5, "funding_credit": 4, "fit": 4, "competition": 4, "strategic_value": 4}  # 21
FAIR = {"size_budget": 3, "funding_credit": 3, "fit": 3, "competition": 4, "strategic_value": 3}  # 16
POOR = {"size_budget": 3, "funding_credit": 3, "fit": 2, "competition": 3, "strategic_value": 3}  # 14


@pytest.mark.parametrize(
    ("scores", "months", "expected"),
    [(GOOD, 2, "A"), (GOOD, 6, "B"), (FAIR, 3, "B"), (FAIR, 6, "C"), (POOR, 1, "D"), ({**GOOD, "fit": 1}, 1, "D")],
)
def test_classes(scores, months, expected, rep):
    assessment = lead_risk_assess(lead=LeadFactory(owner=rep), actor=rep, scores=scores, months_to_close=months)
    assert assessment.risk_class == expected and assessment.passed is (expected != "D")


def test_a_second_assessment_replaces_the_first(rep):
    lead = LeadFactory(owner=rep)
    lead_risk_assess(lead=lead, actor=rep, scores=POOR, months_to_close=1)
    lead_risk_assess(lead=lead, actor=rep, scores=GOOD, months_to_close=1)
    assert RiskAssessment.objects.get(lead=lead).risk_class == "A"


def test_bad_scores_are_field_errors_and_write_nothing(rep):
    with pytest.raises(ValidationError) as exc:
        lead_risk_assess(lead=LeadFactory(owner=rep), actor=rep, scores={**GOOD, "fit": 9}, months_to_close=99)
    assert {"fit", "months_to_close"} <= set(exc.value.message_dict) and not RiskAssessment.objects.exists()


def test_only_who_may_edit_the_lead_assesses_it(rep, outsider):
    with pytest.raises(PermissionDenied):
        lead_risk_assess(lead=LeadFactory(owner=rep), actor=outsider, scores=GOOD, months_to_close=1)


def test_large_deals_show_the_panel_and_the_form_records_it(client, rep):
    lead = LeadFactory(owner=rep, expected_amount=Decimal("800000"))
    small = LeadFactory(owner=rep, expected_amount=Decimal("50000"))
    client.force_login(rep)
    assert 'data-testid="risk-panel"' in client.get(lead.get_absolute_url()).content.decode()
    assert 'data-testid="risk-panel"' not in client.get(small.get_absolute_url()).content.decode()
    client.post(reverse("scoring:risk-assess", args=[lead.pk]), {**GOOD, "months_to_close": 2})
    assert 'data-testid="risk-class">A' in client.get(lead.get_absolute_url()).content.decode()
