"""The cadence job: its rules in-process, and beat + worker really running it over the embedded broker."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from crm.choices import Stage
from crm.models import Lead
from funnel.services import leads_flag_cadence
from funnel.tasks import leads_flag_cadence_task
from tests.factories import LeadFactory
from tests.worker import celery_worker, wait_for

NOW = timezone.make_aware(datetime.datetime(2026, 11, 23, 10, 0))


def _ago(days: float) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


@pytest.mark.parametrize(("days", "flagged"), [(14, False), (15.01, True), (16, True)])
def test_follow_up_overdue_after_15_days_without_activity(days, flagged, rep):
    lead = LeadFactory(owner=rep, created_at=_ago(60), last_activity_at=_ago(days), last_progress_at=NOW)
    leads_flag_cadence(now=NOW)
    lead.refresh_from_db()
    assert lead.is_followup_overdue is flagged


def test_never_touched_lead_counts_from_creation(rep):
    fresh = LeadFactory(owner=rep, created_at=_ago(3), last_activity_at=None, last_progress_at=NOW)
    old = LeadFactory(owner=rep, created_at=_ago(20), last_activity_at=None, last_progress_at=NOW)
    leads_flag_cadence(now=NOW)
    assert Lead.objects.get(pk=fresh.pk).is_followup_overdue is False
    assert Lead.objects.get(pk=old.pk).is_followup_overdue is True


@pytest.mark.parametrize(("days", "flagged"), [(29, False), (30.01, True), (31, True)])
def test_verdict_due_after_30_days_without_progress(days, flagged, rep):
    lead = LeadFactory(owner=rep, last_activity_at=NOW, last_progress_at=_ago(days))
    leads_flag_cadence(now=NOW)
    lead.refresh_from_db()
    assert lead.is_verdict_due is flagged


def test_flags_clear_when_the_cause_goes_away(rep):
    lead = LeadFactory(owner=rep, last_activity_at=_ago(20), last_progress_at=_ago(40))
    leads_flag_cadence(now=NOW)
    Lead.objects.filter(pk=lead.pk).update(last_activity_at=NOW, last_progress_at=NOW)
    leads_flag_cadence(now=NOW)
    lead.refresh_from_db()
    assert (lead.is_followup_overdue, lead.is_verdict_due) == (False, False)


def test_pool_and_closed_leads_carry_no_flags(rep):
    pool = LeadFactory(owner=None, created_at=_ago(60), last_progress_at=_ago(60))
    closed = LeadFactory(
        owner=rep, stage=Stage.ABANDONED, is_followup_overdue=True, is_verdict_due=True, last_progress_at=_ago(60)
    )
    leads_flag_cadence(now=NOW)
    assert not Lead.objects.filter(pk__in=[pool.pk, closed.pk]).flagged().exists()


def test_job_is_idempotent_and_writes_only_changes(rep):
    LeadFactory.create_batch(3, owner=rep, last_activity_at=_ago(20), last_progress_at=_ago(40))
    LeadFactory.create_batch(2, owner=rep, last_activity_at=NOW, last_progress_at=NOW)
    assert leads_flag_cadence(now=NOW) == 6  # 3 follow-up + 3 verdict flags raised
    assert leads_flag_cadence(now=NOW) == 0


def test_task_wraps_the_service(rep):
    lead = LeadFactory(owner=rep, last_activity_at=timezone.now() - datetime.timedelta(days=20))
    leads_flag_cadence_task.delay()
    lead.refresh_from_db()
    assert lead.is_followup_overdue


def test_the_job_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "funnel.tasks.leads_flag_cadence_task" in tasks


@pytest.mark.django_db(transaction=True)
def test_beat_and_worker_run_the_job_on_the_embedded_broker(rep, tmp_path):
    """`make run` mode: no broker server, a folder transport; beat schedules, the worker runs."""
    lead = LeadFactory(owner=rep, last_activity_at=timezone.now() - datetime.timedelta(days=20))
    with celery_worker(
        broker_url="filesystem://", var_dir=tmp_path, extra_env={"CADENCE_FLAG_INTERVAL_SECONDS": "1"}
    ) as log_path:
        wait_for(
            lambda: Lead.objects.filter(pk=lead.pk, is_followup_overdue=True).exists(),
            log_path=log_path,
            what="the periodic cadence job",
        )
    assert "leads_flag_cadence_task" in log_path.read_text()
