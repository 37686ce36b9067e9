"""The REST API: tokens, visibility on every verb, stage moves as 409s, no mass assignment, flat queries, schema."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_create
from crm.choices import Stage
from crm.models import Lead, Visit
from tests.factories import ContactFactory, CustomerFactory, LeadFactory, StageChangeFactory, VisitFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def api():
    return APIClient()


def _as(api, user) -> APIClient:
    api.force_authenticate(user)
    return api


def test_a_script_trades_a_password_for_a_token_and_uses_it(api, rep):
    response = api.post("/api/v1/auth/token/", {"username": "rep", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").json()["username"] == "rep"


def test_a_wrong_password_gets_no_token(api, rep):
    assert api.post("/api/v1/auth/token/", {"username": "rep", "password": "nope"}, format="json").status_code == 401


def test_token_requests_are_throttled(api, rep, settings):
    codes = [api.post("/api/v1/auth/token/", {"username": "rep", "password": "x"}).status_code for _ in range(12)]
    assert 429 in codes


def test_a_revoked_token_is_refused(api, rep):
    token, secret = token_create(user=rep)
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/me/").status_code == 200
    assert api.post(f"/api/v1/auth/tokens/{token.pk}/revoke/").status_code == 200
    assert api.get("/api/v1/me/").status_code == 401


def test_a_user_sees_and_revokes_only_their_tokens(api, rep, teammate):
    theirs, _secret = token_create(user=teammate)
    _as(api, rep)
    assert api.get("/api/v1/auth/tokens/").json()["count"] == 0
    assert api.post(f"/api/v1/auth/tokens/{theirs.pk}/revoke/").status_code == 404


VERBS = [
    ("get", "/api/v1/leads/{id}/", None),
    ("patch", "/api/v1/leads/{id}/", {"title": "x"}),
    ("post", "/api/v1/leads/{id}/transition/", {"to": "lead"}),
    ("post", "/api/v1/leads/{id}/release/", {"reason": "x"}),
    ("post", "/api/v1/leads/{id}/assign/", {"to_owner": 1}),
    ("post", "/api/v1/leads/{id}/claim/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), VERBS)
@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager", "finance", "support"])
def test_another_reps_lead_is_404_on_every_verb(method, path, body, persona, api, rep, request):
    lead = LeadFactory(owner=rep, stage=Stage.CONTACTED)
    _as(api, request.getfixturevalue(persona))
    response = getattr(api, method)(path.format(id=lead.pk), body, format="json")
    assert response.status_code == 404
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.title) == (Stage.CONTACTED, rep, "")


def test_a_visit_cannot_be_posted_onto_an_invisible_lead(api, rep, outsider):
    lead = LeadFactory(owner=outsider)
    _as(api, rep)
    body = {"lead": lead.pk, "kind": "call", "outcome": "no_sale", "summary": "x"}
    assert api.post("/api/v1/visits/", body, format="json").status_code == 404
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    "path", ["/api/v1/leads/", "/api/v1/visits/", "/api/v1/stage-changes/", "/api/v1/customers/", "/api/v1/contacts/"]
)
def test_lists_hold_only_visible_records(path, api, rep, outsider):
    mine = LeadFactory(owner=rep)
    theirs = LeadFactory(owner=outsider)
    for lead in (mine, theirs):
        VisitFactory(lead=lead)
        StageChangeFactory(lead=lead)
        ContactFactory(customer=lead.customer, name=f"联系人-{lead.customer.name}")
    _as(api, rep)
    body = api.get(path).json()
    assert body["count"] >= 1 and theirs.customer.name not in str(body)
    if path == "/api/v1/leads/":
        widened = api.get(path, {"owner": outsider.pk})  # ?owner= cannot widen what a rep sees
        assert theirs.customer.name not in widened.content.decode()
        assert widened.status_code == 400 or widened.json()["count"] == 0


def test_a_refused_move_is_409_with_a_readable_reason(api, rep):
    lead = LeadFactory(owner=rep, stage=Stage.LEAD)
    _as(api, rep)
    response = api.post(f"/api/v1/leads/{lead.pk}/transition/", {"to": "intention"}, format="json")
    assert response.status_code == 409
    assert "进入意向需要已知需求和决策权" in response.json()["detail"]
    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_a_move_goes_through_the_same_service(api, rep):
    lead = LeadFactory(owner=rep, stage=Stage.INTENTION)
    _as(api, rep)
    today = timezone.localdate().isoformat()
    response = api.post(
        f"/api/v1/leads/{lead.pk}/transition/",
        {"to": "signed", "signed_amount": "88000.50", "signed_on": today},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == "signed" and body["signed_amount"] == "88000.50"
    assert lead.stage_changes.get().to_stage == "signed"


@pytest.mark.parametrize("field", ["owner", "stage", "score", "win_probability", "created_by", "is_verdict_due"])
def test_protected_fields_cannot_be_written(field, api, rep, teammate):
    lead = LeadFactory(owner=rep)
    _as(api, rep)
    value = {
        "owner": teammate.pk,
        "stage": "signed",
        "score": 99,
        "win_probability": "0.9",
        "created_by": teammate.pk,
        "is_verdict_due": True,
    }[field]
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {field: value}, format="json")
    assert response.status_code == 400 and field in response.json()
    lead.refresh_from_db()
    assert (lead.owner, lead.stage, lead.score) == (rep, Stage.CONTACTED, 0)


def test_an_update_with_a_bad_value_gets_a_field_error(api, rep):
    lead = LeadFactory(owner=rep)
    _as(api, rep)
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {"expected_amount": "-5", "grade": "Z"}, format="json")
    assert response.status_code == 400 and {"expected_amount", "grade"} <= set(response.json())


def test_create_refuses_another_reps_customer(api, rep, outsider):
    CustomerFactory(name="深圳华强电子有限公司", owner=outsider)
    _as(api, rep)
    response = api.post("/api/v1/leads/", {"company": "深圳华强电子", "phone": "13900000002"}, format="json")
    assert response.status_code == 400 and str(outsider) in response.json()["company"][0]


def test_create_and_log_a_visit(api, rep):
    _as(api, rep)
    created = api.post("/api/v1/leads/", {"company": "青岛海纳机械有限公司", "phone": "13900000002"}, format="json")
    assert created.status_code == 201 and created.json()["owner"]["username"] == "rep"
    lead_id = created.json()["id"]
    next_week = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    visit = api.post(
        "/api/v1/visits/",
        {
            "lead": lead_id,
            "kind": "call",
            "outcome": "progress",
            "summary": "沟通需求",
            "next_step": "演示",
            "next_step_date": next_week,
        },
        format="json",
    )
    assert visit.status_code == 201
    assert Lead.objects.get(pk=lead_id).next_step == "演示"


def test_filters_narrow_the_list(api, rep):
    LeadFactory(owner=rep, stage=Stage.INTENTION, grade="A", customer__name="甲公司")
    LeadFactory(owner=rep, stage=Stage.CONTACTED, grade="C", customer__name="乙公司")
    _as(api, rep)
    names = [row["customer"]["name"] for row in api.get("/api/v1/leads/", {"stage": "intention"}).json()["results"]]
    assert names == ["甲公司"]
    assert api.get("/api/v1/leads/", {"grade": "C", "q": "乙"}).json()["count"] == 1
    assert api.get("/api/v1/leads/", {"page_size": 1000}).json()["count"] == 2


@pytest.mark.parametrize("page_size", [1, 100])
def test_list_queries_do_not_depend_on_page_size(page_size, api, rep, django_assert_num_queries):
    LeadFactory.create_batch(120, owner=rep)
    _as(api, rep)
    with django_assert_num_queries(2):  # count, page with customer and owner
        response = api.get("/api/v1/leads/", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_page_size_is_bounded(api, rep):
    LeadFactory.create_batch(205, owner=rep)
    _as(api, rep)
    assert len(api.get("/api/v1/leads/", {"page_size": 5000}).json()["results"]) == 200


def test_money_is_a_decimal_string(api, rep):
    LeadFactory(owner=rep, expected_amount="1234567.89")
    _as(api, rep)
    assert api.get("/api/v1/leads/").json()["results"][0]["expected_amount"] == "1234567.89"


def test_the_schema_validates_and_the_docs_are_served_locally(client, rep):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    client.force_login(rep)
    assert client.get(reverse("api-schema")).status_code == 200
    docs = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs and "cdn" not in docs.lower()


@pytest.mark.parametrize(
    ("path", "queries"),
    [("/api/v1/visits/", 2), ("/api/v1/stage-changes/", 2), ("/api/v1/customers/", 2), ("/api/v1/contacts/", 2)],
)
@pytest.mark.parametrize("page_size", [1, 100])
def test_other_lists_do_not_depend_on_page_size(path, queries, page_size, api, rep, django_assert_num_queries):
    for lead in LeadFactory.create_batch(110, owner=rep):
        VisitFactory(lead=lead)
        StageChangeFactory(lead=lead, actor=rep)
        ContactFactory(customer=lead.customer)
    _as(api, rep)
    with django_assert_num_queries(queries):
        response = api.get(path, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("value", ["1584-06-02T03:07:42-23:45", "0391-04-10T14:35:09+22:35", "9999-12-31T23:59:59"])
def test_datetimes_no_database_can_store_are_field_errors(value, api, rep):
    _as(api, rep)
    response = api.get("/api/v1/leads/", {"updated_after": value})
    assert response.status_code == 400 and "updated_after" in response.json()
