"""The 1/15/30 flags at their day boundaries, counted in calendar days of Asia/Shanghai."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from crm.choices import Stage
from crm.models import Lead
from funnel.services import leads_flag_cadence
from tests.factories import LeadFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 23, 0, 30, tzinfo=SHANGHAI)  # just after midnight, where UTC and local days differ


def _local(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, 0, tzinfo=SHANGHAI) if day > 0 else None


def _days_before(days: int, hour: int = 23) -> datetime.datetime:
    return datetime.datetime.combine(NOW.date() - datetime.timedelta(days=days), datetime.time(hour, 30), SHANGHAI)


@pytest.mark.parametrize(("days", "flagged"), [(14, False), (15, True), (16, True)])
def test_follow_up_is_overdue_from_the_15th_calendar_day(days, flagged, rep):
    # 23:30 the evening before: 14 days and 1 hour by the clock, but a 15th calendar day.
    lead = LeadFactory(
        owner=rep, created_at=_days_before(60), last_activity_at=_days_before(days), last_progress_at=NOW
    )
    leads_flag_cadence(now=NOW)
    assert Lead.objects.get(pk=lead.pk).is_followup_overdue is flagged


@pytest.mark.parametrize(("days", "flagged"), [(29, False), (30, True), (31, True)])
def test_verdict_is_due_from_the_30th_calendar_day(days, flagged, rep):
    lead = LeadFactory(owner=rep, last_activity_at=NOW, last_progress_at=_days_before(days))
    leads_flag_cadence(now=NOW)
    assert Lead.objects.get(pk=lead.pk).is_verdict_due is flagged


@pytest.mark.parametrize(
    ("stage", "days", "slow"),
    [
        (Stage.RESOURCE, 1, False),
        (Stage.RESOURCE, 2, True),
        (Stage.CONTACTED, 5, False),
        (Stage.CONTACTED, 6, True),
        (Stage.INTENTION, 5, False),
        (Stage.INTENTION, 6, True),
    ],
)
def test_slow_means_longer_in_the_stage_than_the_ideal_days(stage, days, slow, rep):
    lead = LeadFactory(
        owner=rep, stage=stage, stage_entered_at=_days_before(days, hour=9), last_activity_at=NOW, last_progress_at=NOW
    )
    leads_flag_cadence(now=NOW)
    assert Lead.objects.get(pk=lead.pk).is_slow is slow


def test_the_ideal_days_are_configurable(rep, settings):
    settings.FUNNEL_IDEAL = {"days_to_next": {Stage.CONTACTED: 10}}
    lead = LeadFactory(
        owner=rep, stage=Stage.CONTACTED, stage_entered_at=_days_before(6), last_activity_at=NOW, last_progress_at=NOW
    )
    leads_flag_cadence(now=NOW)
    assert Lead.objects.get(pk=lead.pk).is_slow is False


def test_a_stage_move_clears_the_slow_flag(rep):
    from funnel.services import lead_transition

    lead = LeadFactory(
        owner=rep,
        stage=Stage.CONTACTED,
        grade="A",
        stage_entered_at=_days_before(20),
        last_activity_at=NOW,
        last_progress_at=NOW,
    )
    leads_flag_cadence(now=NOW)
    assert Lead.objects.get(pk=lead.pk).is_slow
    lead = lead_transition(lead=lead, to_stage=Stage.LEAD, actor=rep)
    assert lead.is_slow is False


def test_a_second_run_changes_nothing(rep):
    LeadFactory.create_batch(
        3,
        owner=rep,
        stage=Stage.RESOURCE,
        stage_entered_at=_days_before(40),
        last_activity_at=_days_before(40),
        last_progress_at=_days_before(40),
    )
    assert leads_flag_cadence(now=NOW) == 9
    assert leads_flag_cadence(now=NOW) == 0
