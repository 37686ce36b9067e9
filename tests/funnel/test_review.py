"""Verdicts on 30-day leads, and the Monday agenda built from last week's work."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import Stage
from crm.models import Lead
from funnel.models import ReviewAgenda, Verdict
from funnel.services import lead_verdict, leads_flag_cadence, review_agendas_build
from funnel.tasks import review_agendas_build_task
from tests.factories import LeadFactory, StageChangeFactory, VisitFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)


def _due_lead(rep):
    lead = LeadFactory(
        owner=rep,
        stage=Stage.LEAD,
        last_progress_at=timezone.now() - datetime.timedelta(days=40),
        last_activity_at=timezone.now(),
    )
    leads_flag_cadence()
    lead.refresh_from_db()
    assert lead.is_verdict_due
    return lead


@pytest.mark.parametrize("decision", ["push_on", "lower_effort"])
def test_a_verdict_restarts_the_30_day_clock(decision, manager, rep):
    lead = _due_lead(rep)
    lead_verdict(lead=lead, manager=manager, decision=decision, comment="再跟两周")
    lead.refresh_from_db()
    assert lead.is_verdict_due is False and (timezone.now() - lead.last_progress_at).total_seconds() < 60
    assert Verdict.objects.get().comment == "再跟两周"
    leads_flag_cadence()
    assert Lead.objects.get(pk=lead.pk).is_verdict_due is False


def test_abandon_goes_through_the_stage_rules(manager, rep):
    lead = _due_lead(rep)
    with pytest.raises(ValidationError) as exc:
        lead_verdict(lead=lead, manager=manager, decision="abandon")
    assert "lost_reason" in exc.value.message_dict and not Verdict.objects.exists()
    lead_verdict(lead=lead, manager=manager, decision="abandon", lost_reason="unsuitable")
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == (Stage.ABANDONED, "unsuitable")


def test_only_verdict_due_leads_and_only_their_managers(manager, other_manager, rep):
    fresh = LeadFactory(owner=rep)
    with pytest.raises(ValidationError):
        lead_verdict(lead=fresh, manager=manager, decision="push_on")
    due = _due_lead(rep)
    with pytest.raises(PermissionDenied):
        lead_verdict(lead=due, manager=other_manager, decision="push_on")
    with pytest.raises(PermissionDenied):
        lead_verdict(lead=due, manager=rep, decision="push_on")


def test_the_verdict_dialog_on_the_lead_page(client, manager, rep):
    lead = _due_lead(rep)
    client.force_login(manager)
    assert 'data-testid="verdict"' in client.get(lead.get_absolute_url()).content.decode()
    client.post(reverse("funnel:lead-verdict", args=[lead.pk]), {"decision": "push_on", "comment": "继续"})
    assert Verdict.objects.get(lead=lead).decision == "push_on"


def test_the_agenda_holds_every_open_lead_with_last_weeks_work(team, manager, rep, teammate, other_team):
    last_week = MONDAY - datetime.timedelta(days=3)
    busy = LeadFactory(owner=rep, stage=Stage.LEAD, is_followup_overdue=True)
    VisitFactory(lead=busy, occurred_at=last_week)
    VisitFactory(lead=busy, occurred_at=MONDAY - datetime.timedelta(days=10))  # the week before: not counted
    StageChangeFactory(lead=busy, changed_at=last_week)
    quiet = LeadFactory(owner=teammate, stage=Stage.CONTACTED)
    LeadFactory(owner=rep, stage=Stage.ABANDONED)
    assert review_agendas_build(now=MONDAY) == 2  # both teams, the empty one too
    agenda = ReviewAgenda.objects.get(team=team)
    assert agenda.week_start == datetime.date(2026, 11, 23)
    rows = {item["rep_id"]: item["leads"] for item in agenda.items}
    assert rows[rep.pk] == [
        {
            "lead_id": busy.pk,
            "customer": busy.customer.name,
            "stage": "lead",
            "activities": 1,
            "progressed": True,
            "problems": ["followup_overdue"],
            "next_step": "",
            "next_step_date": None,
        }
    ]
    assert rows[teammate.pk][0]["lead_id"] == quiet.pk and rows[teammate.pk][0]["activities"] == 0
    assert ReviewAgenda.objects.get(team=other_team).items == []


def test_building_twice_keeps_one_agenda_per_team_and_week(team, rep):
    LeadFactory(owner=rep)
    review_agendas_build(now=MONDAY)
    review_agendas_build(now=MONDAY + datetime.timedelta(hours=3))
    assert ReviewAgenda.objects.count() == 1


def test_the_task_builds_agendas(team, rep):
    LeadFactory(owner=rep)
    review_agendas_build_task.delay()
    assert ReviewAgenda.objects.filter(team=team).exists()


@pytest.mark.parametrize("rows", [1, 40])
def test_the_agenda_query_count_does_not_grow_with_leads(rows, team, rep, django_assert_num_queries):
    for lead in LeadFactory.create_batch(rows, owner=rep):
        VisitFactory(lead=lead)
    with django_assert_num_queries(10):  # savepoint, leads with counts, teams; per team: lookup + write + 6 savepoints
        review_agendas_build(now=MONDAY)


@pytest.mark.parametrize(("persona", "teams"), [("manager", 1), ("director", 2), ("rep", 0), ("other_manager", 1)])
def test_agendas_through_the_api_follow_visibility(persona, teams, request, team, other_team, rep):
    request.getfixturevalue("manager")
    request.getfixturevalue("other_manager")
    review_agendas_build(now=MONDAY)
    api = APIClient()
    api.force_authenticate(request.getfixturevalue(persona))
    body = api.get("/api/v1/review-agendas/", {"week_start": "2026-11-23"}).json()
    assert body["count"] == teams
