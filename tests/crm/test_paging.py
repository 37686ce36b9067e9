"""The lead list pages own leads and the pool part by part, yet shows exactly the plain ordering."""

import datetime
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.visibility import owned_parts
from crm import paging
from crm.models import Lead
from crm.paging import SPLIT_DEPTH, VisibleRows
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _spread_updates(leads) -> None:
    """Give the leads interleaved update times, with ties, so a wrong merge would show."""
    now = timezone.now()
    randomizer = random.Random(3)
    for lead in leads:
        minutes = randomizer.randrange(40)
        Lead.objects.filter(pk=lead.pk).update(updated_at=now - datetime.timedelta(minutes=minutes))


def _plain(user):
    return list(Lead.objects.visible_to(user).order_by("-updated_at", "-pk").values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_every_page_matches_the_plain_ordering(who, request, rep, teammate, outsider):
    user = request.getfixturevalue(who)
    leads = LeadFactory.create_batch(23, owner=rep) + LeadFactory.create_batch(9, owner=teammate)
    leads += LeadFactory.create_batch(31, owner=None) + LeadFactory.create_batch(12, owner=outsider)
    _spread_updates(leads)
    rows = VisibleRows(Lead.objects.order_by("-updated_at", "-pk"), user=user)
    expected = _plain(user)
    assert len(owned_parts(user)) == 2
    assert rows.count() == len(expected)
    paged = []
    for start in range(0, len(expected), 10):
        paged += [lead.pk for lead in rows[start : start + 10]]
    assert paged == expected


def test_a_director_is_not_split(director):
    assert len(owned_parts(director)) == 1


def test_deep_pages_fall_back_to_plain_slicing(rep, django_assert_num_queries):
    LeadFactory(owner=rep)
    rows = VisibleRows(Lead.objects.order_by("-updated_at", "-pk"), user=rep)
    with django_assert_num_queries(1):
        list(rows[SPLIT_DEPTH : SPLIT_DEPTH + 50])
    with django_assert_num_queries(3):  # the first rows of each part, then the page among them
        list(rows[0:50])


def test_the_list_page_shows_pool_and_own_leads_in_update_order(client, rep, outsider):
    leads = LeadFactory.create_batch(40, owner=rep) + LeadFactory.create_batch(40, owner=None)
    LeadFactory.create_batch(5, owner=outsider)
    _spread_updates(leads)
    client.force_login(rep)
    expected = _plain(rep)
    first = client.get(reverse("funnel:lead-list")).context["page"]
    second = client.get(reverse("funnel:lead-list"), {"page": 2}).context["page"]
    assert first.paginator.count == 80
    assert [lead.pk for lead in first] + [lead.pk for lead in second] == expected


@pytest.mark.parametrize("depth", [SPLIT_DEPTH, 0])
def test_no_path_shows_another_reps_lead(depth, monkeypatch, client, rep, outsider):
    """Split or plain (deep pages), the list applies the visibility rule itself."""
    monkeypatch.setattr(paging, "SPLIT_DEPTH", depth)
    for n in range(3):
        LeadFactory(owner=rep, customer__name=f"苏州恒信{n}号精密机械有限公司")
        LeadFactory(owner=outsider, customer__name=f"杭州恒信{n}号电子有限公司")
    client.force_login(rep)
    page = client.get(reverse("funnel:lead-list"), {"q": "恒信"}).context["page"]
    assert page.paginator.count == 3
    assert {lead.owner_id for lead in page} == {rep.pk}


def test_support_sees_only_the_pool(client, support, rep):
    LeadFactory(owner=rep)
    pool = LeadFactory(owner=None)
    client.force_login(support)
    page = client.get(reverse("funnel:lead-list")).context["page"]
    assert [lead.pk for lead in page] == [pool.pk]
