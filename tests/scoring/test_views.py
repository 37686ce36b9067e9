"""The scoring settings page (admins only) and the lead's score panel."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from crm.models import Lead
from scoring.models import ScoreRule, ScoringModel
from scoring.selectors import with_score_detail
from scoring.services import lead_rescore, leads_rescore_all, scoring_model_train
from tests.factories import LeadFactory, UserFactory

from .conftest import closed_leads

pytestmark = pytest.mark.urls("tests.scoring.urls")

GOOD_RULE = {"name": "等级 A", "criterion": "grade", "operator": "eq", "value": "A", "points": "20", "is_active": "on"}


def _urls(rule_pk: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("scoring:settings")),
        ("post", reverse("scoring:settings")),
        ("get", reverse("scoring:rule-edit", args=[rule_pk])),
        ("post", reverse("scoring:rule-edit", args=[rule_pk])),
        ("post", reverse("scoring:rule-toggle", args=[rule_pk])),
        ("post", reverse("scoring:model-train")),
        ("post", reverse("scoring:rescore")),
    ]


@pytest.mark.parametrize("persona", ["rep", "manager", "director", "finance", "support"])
def test_only_admins_see_the_settings_everyone_else_gets_404(persona, client, add_rule, request):
    rule = add_rule("grade", 20, operator="eq", value="A")
    client.force_login(request.getfixturevalue(persona))
    for method, url in _urls(rule.pk):
        assert getattr(client, method)(url, GOOD_RULE).status_code == 404, url
    assert list(ScoreRule.objects.values_list("points", "is_active")) == [(20, True)]


@pytest.mark.parametrize("admin", ["superuser", "admin_role"])
def test_admins_see_rules_and_the_model_status(admin, client, add_rule, admin_user):
    user = admin_user if admin == "superuser" else UserFactory(role=Role.ADMIN)
    add_rule("grade", 20, operator="eq", value="A", name="等级 A")
    client.force_login(user)
    with translation.override("en"):
        response = client.get(reverse("scoring:settings"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "等级 A" in page
    assert 'data-testid="points-only"' in page
    assert "已结束线索达到 200 条" in page  # the model needs 200 closed leads


def test_the_status_names_the_model_in_use(client, admin_user, settings):
    settings.SCORING_MIN_CLOSED, settings.SCORING_MIN_PER_OUTCOME, settings.SCORING_CV_FOLDS = 40, 10, 2
    closed_leads(won=30, lost=30)
    model = scoring_model_train()
    client.force_login(admin_user)
    with translation.override("en"):
        page = client.get(reverse("scoring:settings")).content.decode()
    assert f"模型 v{model.version}" in page
    assert 'data-testid="points-only"' not in page
    assert f"{model.cv_auc:.3f}" in page


def test_adding_a_rule(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("scoring:settings"), GOOD_RULE)
    assert response.status_code == 302
    rule = ScoreRule.objects.get()
    assert (rule.criterion, rule.operator, rule.value, rule.points, rule.is_active) == ("grade", "eq", "A", 20, True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"points": "150"}, "points"),
        ({"operator": "gt"}, "operator"),
        ({"value": "Z"}, "value"),
        ({"criterion": "attribute", "attribute_key": "bad key!"}, "attribute_key"),
    ],
)
def test_a_bad_rule_shows_field_errors_and_writes_nothing(change, field, client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("scoring:settings"), {**GOOD_RULE, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="field has-error"' in response.content.decode()
    assert not ScoreRule.objects.exists()


def test_editing_and_switching_a_rule_off(client, admin_user, add_rule):
    rule = add_rule("grade", 20, operator="eq", value="A")
    client.force_login(admin_user)
    assert client.get(reverse("scoring:rule-edit", args=[rule.pk])).status_code == 200
    response = client.post(reverse("scoring:rule-edit", args=[rule.pk]), {**GOOD_RULE, "points": "-5"})
    assert response.status_code == 302
    assert client.post(reverse("scoring:rule-toggle", args=[rule.pk])).status_code == 302
    rule.refresh_from_db()
    assert (rule.points, rule.is_active) == (-5, False)


def test_a_bad_edit_writes_nothing(client, admin_user, add_rule):
    rule = add_rule("grade", 20, operator="eq", value="A")
    client.force_login(admin_user)
    response = client.post(reverse("scoring:rule-edit", args=[rule.pk]), {**GOOD_RULE, "value": "Q", "points": "9"})
    assert response.status_code == 200 and response.context["form"].errors["value"]
    rule.refresh_from_db()
    assert (rule.value, rule.points) == ("A", 20)


def test_the_settings_page_costs_the_same_queries_with_more_rules_and_models(client, admin_user, add_rule):
    client.force_login(admin_user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("scoring:settings")).status_code == 200
        return len(queries)

    add_rule("grade", 20, operator="eq", value="A")
    few = count()
    for i in range(30):
        add_rule("source", i, operator="eq", value="website")
    for version in range(1, 7):
        ScoringModel.objects.create(
            version=version, algorithm="x", trained_at="2026-01-01T00:00Z", n_won=1, n_lost=1, artifact=b"x"
        )
    assert count() == few == 5  # session, user, rules, model versions, closed-lead counts


# --- the panel on the lead page ----------------------------------------------------------


def _render(lead_pk: int) -> str:
    lead = with_score_detail(Lead.objects.all()).get(pk=lead_pk)
    with CaptureQueriesContext(connection) as queries, translation.override("en"):
        html = render_to_string("scoring/lead_score_panel.html", {"lead": lead})
    assert len(queries) == 0, [q["sql"] for q in queries]
    return html


def test_the_panel_shows_the_breakdown_and_points_only_without_a_model(add_rule, rep):
    add_rule("grade", 20, operator="eq", value="A", name="等级 A")
    add_rule("need_known", 8, operator="is_set", name="需求已确认")
    lead = LeadFactory(owner=rep, grade="A", need_known=True)
    assert "Not scored yet" in _render(lead.pk)
    lead_rescore(lead_id=lead.pk)
    html = _render(lead.pk)
    assert "等级 A" in html and "+20" in html and "需求已确认" in html and "28/100" in html
    assert 'data-testid="points-only"' in html


def test_the_panel_shows_probability_version_and_factors(rep, settings):
    settings.SCORING_MIN_CLOSED, settings.SCORING_MIN_PER_OUTCOME, settings.SCORING_CV_FOLDS = 40, 10, 2
    closed_leads(won=30, lost=30, open_=2)
    model = scoring_model_train()
    leads_rescore_all()
    lead = Lead.objects.filter(stage="contacted", grade="A").first()
    html = _render(lead.pk)
    assert 'data-testid="win-probability"' in html and f"model v{model.version}" in html
    assert 'data-testid="top-factors"' in html and "Grade" in html
    signed = Lead.objects.filter(stage="signed").first()
    html = _render(signed.pk)
    assert "win-probability" not in html and "points-only" not in html
