import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import Stage
from tests.factories import LeadFactory, VisitFactory


def test_login_required(client):
    response = client.get(reverse("funnel:my-work"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_my_work_counts_own_open_leads_against_the_ideal(client, rep, teammate):
    LeadFactory.create_batch(3, owner=rep, stage=Stage.CONTACTED)
    LeadFactory(owner=rep, stage=Stage.ABANDONED)
    LeadFactory(owner=teammate, stage=Stage.CONTACTED)
    client.force_login(rep)
    response = client.get(reverse("funnel:my-work"))
    stages = {s.stage: s for s in response.context["stages"]}
    assert stages["contacted"].count == 3 and stages["contacted"].ideal == 10
    assert stages["contacted"].status == "under"
    assert response.context["open_total"] == 3


def test_to_do_lists_overdue_next_steps_first(client, rep):
    today = timezone.localdate()
    later = LeadFactory(owner=rep, next_step="演示", next_step_date=today + datetime.timedelta(days=3))
    overdue = LeadFactory(owner=rep, next_step="回电", next_step_date=today - datetime.timedelta(days=2))
    client.force_login(rep)
    response = client.get(reverse("funnel:my-work"))
    assert response.context["todo"] == [overdue, later]
    assert "已逾期" in response.content.decode()


def test_flagged_leads_are_listed(client, rep):
    flagged = LeadFactory(owner=rep, is_followup_overdue=True)
    LeadFactory(owner=rep)
    client.force_login(rep)
    response = client.get(reverse("funnel:my-work"))
    assert response.context["flagged"] == [flagged]
    assert response.context["flagged_total"] == 1


@pytest.mark.parametrize("rows", [1, 30])
def test_my_work_query_count_is_flat(rows, client, rep, django_assert_num_queries):
    for lead in LeadFactory.create_batch(
        rows, owner=rep, is_followup_overdue=True, next_step_date=timezone.localdate()
    ):
        VisitFactory(lead=lead)
    client.force_login(rep)
    with django_assert_num_queries(7):  # session, user, totals, flagged, to-do, recent visits, strategic visits
        client.get(reverse("funnel:my-work"))


@pytest.mark.parametrize("persona", ["director", "support", "finance", "admin_user"])
def test_my_work_opens_for_every_role(persona, client, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:my-work")).status_code == 200
