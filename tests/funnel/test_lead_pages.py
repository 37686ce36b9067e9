import pytest
from django.urls import reverse

from crm.choices import Stage
from tests.factories import ContactFactory, LeadFactory, StageChangeFactory, VisitFactory


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("rep", 200),
        ("teammate", 404),
        ("manager", 200),
        ("outsider", 404),
        ("other_manager", 404),
        ("director", 200),
        ("support", 404),
        ("finance", 404),
    ],
)
def test_lead_page_is_404_for_those_who_may_not_see_it(persona, status, client, rep, request):
    lead = LeadFactory(owner=rep)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:lead-detail", args=[lead.pk])).status_code == status


def test_lead_page_shows_history_visits_and_contacts(client, rep):
    lead = LeadFactory(owner=rep, stage=Stage.GRADED)
    StageChangeFactory(lead=lead, from_stage=Stage.RESOURCE, to_stage=Stage.GRADED, actor=rep)
    VisitFactory(lead=lead, summary="介绍了产品方案", next_step="发送报价")
    ContactFactory(customer=lead.customer, name="李总")
    client.force_login(rep)
    body = client.get(reverse("funnel:lead-detail", args=[lead.pk])).content.decode()
    assert lead.customer.name in body
    assert "介绍了产品方案" in body and "发送报价" in body and "李总" in body
    assert "分级" in body  # zh-hans by default


def test_lead_page_query_count_does_not_grow_with_history(client, rep, django_assert_max_num_queries):
    lead = LeadFactory(owner=rep)
    VisitFactory.create_batch(20, lead=lead)
    StageChangeFactory.create_batch(10, lead=lead, actor=rep)
    ContactFactory.create_batch(5, customer=lead.customer)
    client.force_login(rep)
    # session, user, lead+customer+owner, contacts, visits+authors, stage changes+actors, owner changes+people
    with django_assert_max_num_queries(7):
        assert client.get(reverse("funnel:lead-detail", args=[lead.pk])).status_code == 200


def test_lead_list_shows_only_visible_leads(client, rep, outsider):
    mine = LeadFactory(owner=rep, customer__name="我的客户有限公司")
    LeadFactory(owner=outsider, customer__name="别人的客户有限公司")
    pool = LeadFactory(owner=None, customer__name="公海客户有限公司")
    client.force_login(rep)
    body = client.get(reverse("funnel:lead-list")).content.decode()
    assert mine.customer.name in body and pool.customer.name in body
    assert "别人的客户有限公司" not in body


def test_lead_list_filters_by_stage_and_text(client, rep):
    LeadFactory(owner=rep, stage=Stage.INTENTION, customer__name="意向客户甲有限公司")
    LeadFactory(owner=rep, stage=Stage.CONTACTED, customer__name="接触客户乙有限公司")
    client.force_login(rep)
    body = client.get(reverse("funnel:lead-list"), {"stage": "intention"}).content.decode()
    assert "意向客户甲" in body and "接触客户乙" not in body
    body = client.get(reverse("funnel:lead-list"), {"q": "客户乙"}).content.decode()
    assert "接触客户乙" in body and "意向客户甲" not in body


@pytest.mark.parametrize("rows", [1, 50])
def test_lead_list_query_count_is_flat(rows, client, rep, django_assert_num_queries):
    LeadFactory.create_batch(rows, owner=rep)
    client.force_login(rep)
    # session, user, a count and the first rows of own leads and of the pool, the page with customer and owner
    with django_assert_num_queries(7):
        client.get(reverse("funnel:lead-list"))


def test_the_flagged_filter_splits_leads_with_any_flag_from_the_rest(client, rep):
    calm = LeadFactory(owner=rep)
    one_flag = LeadFactory(owner=rep, is_slow=True)
    two_flags = LeadFactory(owner=rep, is_followup_overdue=True, is_verdict_due=True)
    client.force_login(rep)
    flagged = client.get(reverse("funnel:lead-list"), {"flagged": "true"}).context["page"]
    calm_only = client.get(reverse("funnel:lead-list"), {"flagged": "false"}).context["page"]
    assert {lead.pk for lead in flagged} == {one_flag.pk, two_flags.pk}
    assert [lead.pk for lead in calm_only] == [calm.pk]
