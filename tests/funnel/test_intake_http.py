"""Web-to-lead over real HTTP against a live server: every answer of the contract, and nothing half-written."""

import json

import pytest
import requests

from accounts.models import IntakeKey
from accounts.services import intake_key_create, intake_key_revoke
from crm.choices import Stage
from crm.models import Lead
from funnel.models import IntakeSubmission
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "https://www.example-marketing.cn"


@pytest.fixture
def form_key(db):
    key, secret = intake_key_create(name="官网表单", source="web_form", allowed_origins=[ORIGIN])
    return key, secret


@pytest.fixture
def post(live_server, form_key):
    _key, secret = form_key

    def send(body=None, *, headers=None, raw=None, key=secret, content_type="application/json"):
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if key is not None:
            all_headers["Authorization"] = f"Api-Key {key}"
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        return requests.post(f"{live_server.url}/api/v1/intake/leads/", data=data, headers=all_headers, timeout=10)

    return send


LEAD = {
    "company": "  苏州恒信精密机械有限公司 ",
    "contact_name": "李总",
    "phone": "+86 139-1234-5678",
    "email": "Li@HengXin.CN",
    "city": "苏州",
    "message": "想了解价格",
    "utm_source": "baidu",
    "attributes": {"industry": "制造业", "employees": 300},
}


def test_a_new_lead_is_created_at_resource(post):
    response = post(LEAD)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "created"
    lead = Lead.objects.select_related("customer").get(pk=body["id"])
    assert lead.stage == Stage.RESOURCE and lead.owner is None and lead.source == "web_form"
    assert lead.customer.name == "苏州恒信精密机械有限公司"
    assert lead.customer.phone == "13912345678" and lead.customer.email == "li@hengxin.cn"
    assert lead.attributes == {"industry": "制造业", "employees": 300} and lead.utm_source == "baidu"
    assert lead.stage_changes.count() == 1


def test_a_duplicate_is_recorded_on_the_existing_lead(post, rep):
    existing = LeadFactory(owner=rep, customer__name="苏州恒信精密机械有限公司")
    response = post({**LEAD, "company": "苏州恒信精密机械 有限公司"})
    assert response.status_code == 200 and response.json() == {"id": existing.pk, "status": "duplicate"}
    assert Lead.objects.count() == 1
    existing.refresh_from_db()
    assert existing.owner == rep
    assert existing.intake_submissions.get().status == IntakeSubmission.Status.DUPLICATE


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(post):
    first = post(LEAD, headers={"Idempotency-Key": "form-123"})
    again = post(LEAD, headers={"Idempotency-Key": "form-123"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Lead.objects.count() == 1


def test_a_reused_idempotency_key_with_another_body_is_422(post):
    post(LEAD, headers={"Idempotency-Key": "form-123"})
    response = post({**LEAD, "company": "别的公司"}, headers={"Idempotency-Key": "form-123"})
    assert response.status_code == 422 and "detail" in response.json()
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "13912345678"}, "company"),
        ({"company": "某公司"}, "phone"),
        ({"company": "某公司", "phone": "12345"}, "phone"),
        ({"company": "某公司", "email": "not-an-email"}, "email"),
        ({"company": "某公司", "phone": "13912345678", "attributes": {"a": {"b": 1}}}, "attributes"),
        ({"company": "某公司", "phone": "13912345678", "attributes": {f"k{i}": i for i in range(51)}}, "attributes"),
        ({"company": "某公司", "phone": "13912345678", "source": "martians"}, "source"),
    ],
)
def test_bad_fields_get_field_errors_and_store_nothing(post, body, field):
    response = post(body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Lead.objects.exists() and not IntakeSubmission.objects.exists()


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"company": "x"', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        ('{"company": "苏州"}'.encode("gbk"), "application/json", 400),
        (b"company=x", "text/plain", 415),
    ],
)
def test_malformed_bodies_are_4xx_never_500(post, raw, content_type, status):
    assert post(raw=raw, content_type=content_type).status_code == status
    assert not Lead.objects.exists()


def test_a_body_over_64_kib_is_413(post):
    response = post({**LEAD, "message": "长" * 30000})
    assert response.status_code == 413
    assert not Lead.objects.exists()


def test_missing_unknown_and_revoked_keys_are_401(post, form_key):
    assert post(LEAD, key=None).status_code == 401
    assert post(LEAD, key="crm_key_nope").status_code == 401
    intake_key_revoke(key=form_key[0])
    assert post(LEAD).status_code == 401
    assert not Lead.objects.exists()


def test_a_key_revoked_after_use_is_refused_at_once(post, form_key):
    assert post(LEAD).status_code == 201  # the key is now remembered by the server
    intake_key_revoke(key=form_key[0])
    assert post({**LEAD, "company": "杭州西湖电子有限公司", "phone": "13900000002"}).status_code == 401
    assert Lead.objects.count() == 1


def test_the_key_is_never_taken_from_the_query_string(live_server, form_key):
    response = requests.post(f"{live_server.url}/api/v1/intake/leads/?api_key={form_key[1]}", json=LEAD, timeout=10)
    assert response.status_code == 401


def test_over_the_rate_is_429_with_retry_after(post, form_key):
    IntakeKey.objects.filter(pk=form_key[0].pk).update(rate_per_minute=2)
    codes = [post({"company": f"公司{i}", "phone": f"1390000000{i}"}).status_code for i in range(2)]
    assert codes == [201, 201]
    limited = post({"company": "公司9", "phone": "13900000009"})
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert Lead.objects.count() == 2


def test_a_plain_form_post_works_and_redirects(live_server, form_key):
    key, secret = form_key
    IntakeKey.objects.filter(pk=key.pk).update(redirect_url="https://www.example-marketing.cn/thanks")
    response = requests.post(
        f"{live_server.url}/api/v1/intake/leads/",
        data={
            "api_key": secret,
            "company": "杭州云启软件有限公司",
            "phone": "0571-88886666",
            "attributes.industry": "软件",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://www.example-marketing.cn/thanks?status=created&id=")
    lead = Lead.objects.get()
    assert lead.customer.phone == "0571-88886666" and lead.attributes == {"industry": "软件"}


def test_cors_allows_only_the_keys_origins(live_server, post):
    url = f"{live_server.url}/api/v1/intake/leads/"
    allowed = requests.options(url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}, timeout=10)
    assert allowed.headers.get("Access-Control-Allow-Origin") == ORIGIN
    other = requests.options(url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in other.headers
    assert post(LEAD, headers={"Origin": ORIGIN}).headers["Access-Control-Allow-Origin"] == ORIGIN
    assert post(LEAD, headers={"Origin": "https://evil.example"}).status_code == 403


def test_round_robin_spreads_new_leads_over_the_team(live_server, team, rep, teammate, manager):
    _key, secret = intake_key_create(name="展会表单", team=team, assignment=IntakeKey.Assignment.ROUND_ROBIN)
    for i in range(6):
        requests.post(
            f"{live_server.url}/api/v1/intake/leads/",
            json={"company": f"展会客户{i}", "phone": f"1390000000{i}"},
            headers={"Authorization": f"Api-Key {secret}"},
            timeout=10,
        )
    owners = list(Lead.objects.order_by("pk").values_list("owner__username", flat=True))
    assert sorted(set(owners)) == ["manager", "rep", "teammate"] and owners[:3] == owners[3:]


def test_city_rules_assign_to_a_named_rep(live_server, rep):
    _key, secret = intake_key_create(
        name="城市表单", assignment=IntakeKey.Assignment.RULES, rules={"city": {"苏州": "rep"}}
    )
    for phone, city in (("13800138001", "苏州"), ("13800138002", "杭州")):
        requests.post(
            f"{live_server.url}/api/v1/intake/leads/",
            json={"company": f"{city}客户", "phone": phone, "city": city},
            headers={"Authorization": f"Api-Key {secret}"},
            timeout=10,
        )
    assert dict(Lead.objects.values_list("customer__city", "owner__username")) == {"苏州": "rep", "杭州": None}


def test_over_the_daily_cap_posts_are_parked_not_dropped(post, form_key):
    IntakeKey.objects.filter(pk=form_key[0].pk).update(daily_cap=1)
    assert post(LEAD).status_code == 201
    parked = post({"company": "第二家公司", "phone": "13700000000"})
    assert parked.status_code == 202 and parked.json() == {"status": "parked"}
    assert Lead.objects.count() == 1
    assert IntakeSubmission.objects.get(status="parked").payload["company"] == "第二家公司"


def test_concurrent_twins_store_one_lead(post):
    """Ten posts of one company at once: one lead; every answer is 2xx and names it."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [({"company": "宁波海曙贸易有限公司", "phone": f"1360000000{i % 3}"}, f"twin-{i % 3}") for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda item: post(item[0], headers={"Idempotency-Key": item[1]}), bodies))
    assert Lead.objects.count() == 1
    lead_id = Lead.objects.get().pk
    assert [
        (r.status_code, r.json()) for r in responses if r.status_code not in (200, 201) or r.json()["id"] != lead_id
    ] == []
    assert sum(r.json()["status"] == "created" for r in responses) >= 1


def test_a_filled_honeypot_is_kept_as_spam_without_a_lead(post):
    response = post({**LEAD, "website": "http://spam.example"})
    assert response.status_code == 202 and response.json() == {"status": "spam"}
    assert not Lead.objects.exists()
    assert IntakeSubmission.objects.get().status == IntakeSubmission.Status.SPAM
