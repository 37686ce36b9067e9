"""The rep's pages over HTTP: 404 for others' leads on every action, double submits, tampered ids, flat queries."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Stage
from crm.models import Lead, Visit
from tests.factories import ContactFactory, CustomerFactory, LeadFactory, VisitFactory

ACTIONS = ["funnel:visit-new", "funnel:lead-move", "funnel:lead-edit", "funnel:lead-release", "funnel:contact-new"]


def _visit_data(**extra) -> dict:
    return {
        "kind": "call",
        "outcome": "progress",
        "summary": "电话沟通",
        "next_step": "发送报价单",
        "next_step_date": (timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
        "form_token": str(uuid.uuid4()),
        **extra,
    }


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager", "finance", "support"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_reps_lead_is_404_on_every_action(action, persona, method, client, rep, request):
    lead = LeadFactory(owner=rep)
    client.force_login(request.getfixturevalue(persona))
    url = reverse(action, args=[lead.pk]) + "?to=lead"
    response = getattr(client, method)(url, _visit_data(to_stage="lead", reason="x", name="张三"))
    assert response.status_code in (404, 405)
    assert response.status_code == 404 or method == "get"
    assert not Visit.objects.exists()
    assert Lead.objects.get(pk=lead.pk).stage == lead.stage


@pytest.mark.parametrize("persona", ["rep", "teammate", "outsider"])
def test_reps_cannot_assign(persona, client, rep, request):
    lead = LeadFactory(owner=rep)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:lead-assign", args=[lead.pk])).status_code == 404


def test_a_double_submitted_visit_form_creates_one_visit(client, rep):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    data = _visit_data()
    first = client.post(reverse("funnel:visit-new", args=[lead.pk]), data)
    second = client.post(reverse("funnel:visit-new", args=[lead.pk]), data)
    assert first.status_code == second.status_code == 302
    assert Visit.objects.filter(lead=lead).count() == 1


def test_a_tampered_contact_id_is_a_field_error(client, rep):
    lead = LeadFactory(owner=rep)
    stranger = ContactFactory(customer=CustomerFactory())
    client.force_login(rep)
    response = client.post(reverse("funnel:visit-new", args=[lead.pk]), _visit_data(contact=stranger.pk))
    assert response.status_code == 200
    assert "contact" in response.context["form"].errors
    assert not Visit.objects.exists()


def test_visit_errors_are_in_english_after_the_switch(client, rep):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(reverse("funnel:visit-new", args=[lead.pk]), _visit_data(next_step=""))
    assert "Every visit that goes on needs a next step." in response.content.decode()


def test_htmx_posts_get_a_partial_and_a_redirect_header(client, rep):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    url = reverse("funnel:visit-new", args=[lead.pk])
    bad = client.post(url, _visit_data(summary=""), headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "<html" not in bad.content.decode()
    good = client.post(url, _visit_data(), headers={"HX-Request": "true"})
    assert good.status_code == 204 and good["HX-Redirect"] == lead.get_absolute_url()


def test_next_only_redirects_inside_the_site(client, rep):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("funnel:visit-new", args=[lead.pk]), {**_visit_data(), "next": "https://evil.example.com/"}
    )
    assert response["Location"] == lead.get_absolute_url()


def test_move_refusal_is_shown_on_the_form_and_changes_nothing(client, rep):
    lead = LeadFactory(owner=rep, stage=Stage.LEAD)
    client.force_login(rep)
    response = client.post(reverse("funnel:lead-move", args=[lead.pk]), {"to_stage": "intention"})
    assert response.status_code == 200
    assert "进入意向需要已知需求和决策权" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_grading_happens_in_the_move_to_graded(client, rep):
    lead = LeadFactory(owner=rep, stage=Stage.RESOURCE, grade="")
    client.force_login(rep)
    client.post(reverse("funnel:lead-move", args=[lead.pk]), {"to_stage": "graded", "grade": "A"})
    lead.refresh_from_db()
    assert (lead.stage, lead.grade) == (Stage.GRADED, "A")


def test_duplicate_customer_is_refused_with_the_owners_name(client, rep, outsider):
    LeadFactory(owner=outsider, customer__name="深圳华强电子有限公司", customer__phone="13800000001")
    client.force_login(rep)
    response = client.post(
        reverse("funnel:lead-new"), {"company": "深圳华强电子 有限公司", "phone": "13900000002", "source": "other"}
    )
    assert response.status_code == 200
    assert str(outsider) in response.context["form"].errors["company"][0]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("rows", [30, 300])
def test_board_query_count_is_the_same_at_30_and_300_leads(rows, client, rep, django_assert_num_queries):
    LeadFactory.create_batch(rows, owner=rep, stage=Stage.CONTACTED)
    LeadFactory.create_batch(2, owner=rep, stage=Stage.ABANDONED)
    client.force_login(rep)
    with django_assert_num_queries(5):  # session, user, people, closed counts, open cards with customers
        response = client.get(reverse("funnel:board"))
    assert sum(c.holding.count for c in response.context["columns"]) == rows


@pytest.mark.parametrize("rows", [30, 300])
def test_lead_list_query_count_is_the_same_at_30_and_300_leads(rows, client, rep, django_assert_num_queries):
    LeadFactory.create_batch(rows, owner=rep)
    client.force_login(rep)
    # session, user, a count and the first rows of own leads and of the pool, the page with customer and owner
    with django_assert_num_queries(7):
        client.get(reverse("funnel:lead-list"), {"o": "-score", "q": "恒信"})


def test_manager_switches_between_own_reps_but_not_other_teams(client, manager, rep, outsider):
    LeadFactory(owner=rep, customer__name="我的团队客户有限公司")
    client.force_login(manager)
    response = client.get(reverse("funnel:board"), {"rep": rep.pk})
    assert "我的团队客户有限公司" in response.content.decode()
    assert client.get(reverse("funnel:board"), {"rep": outsider.pk}).status_code == 404


def test_a_rep_sees_only_their_own_board(client, rep, teammate):
    client.force_login(rep)
    assert client.get(reverse("funnel:board"), {"rep": teammate.pk}).status_code == 404


def test_owner_filter_cannot_widen_visibility(client, rep, outsider):
    LeadFactory(owner=outsider, customer__name="别组客户有限公司")
    client.force_login(rep)
    body = client.get(reverse("funnel:lead-list"), {"owner": outsider.pk}).content.decode()
    assert "别组客户有限公司" not in body


def test_text_search_finds_contacts_and_phones(client, rep):
    lead = LeadFactory(owner=rep, customer__name="青岛海纳机械有限公司")
    ContactFactory(customer=lead.customer, name="王建国", phone="+86 137 1234 5678")
    LeadFactory(owner=rep, customer__name="无关公司有限公司")
    client.force_login(rep)
    for query in ("王建国", "13712345678"):
        body = client.get(reverse("funnel:lead-list"), {"q": query}).content.decode()
        assert "青岛海纳机械有限公司" in body and "无关公司有限公司" not in body


def test_pool_shows_cooling_leads_without_a_claim_button(client, rep):
    cooling = LeadFactory(owner=None, stage=Stage.ABANDONED, closed_at=timezone.now())
    client.force_login(rep)
    body = client.get(reverse("funnel:pool")).content.decode()
    assert "冷处理中" in body and f"claim-{cooling.pk}" not in body


def test_visits_on_the_lead_page_are_newest_first(client, rep):
    lead = LeadFactory(owner=rep)
    VisitFactory(lead=lead, summary="较早的拜访", occurred_at=timezone.now() - datetime.timedelta(days=2))
    VisitFactory(lead=lead, summary="最新的拜访")
    client.force_login(rep)
    body = client.get(lead.get_absolute_url()).content.decode()
    assert body.index("最新的拜访") < body.index("较早的拜访")


def test_the_lead_page_shows_who_owned_it(client, manager, rep, teammate):
    from funnel.services import lead_assign

    lead = LeadFactory(owner=rep)
    lead_assign(lead=lead, to_owner=teammate, actor=manager, reason="客户要求换人")
    client.force_login(manager)
    body = client.get(lead.get_absolute_url()).content.decode()
    assert "负责人变更记录" in body and "客户要求换人" in body
