"""The 1/15/30 cadence flags (DOMAIN.md), counted in calendar days of the configured time zone."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.choices import CLOSED_STAGES
from crm.models import Lead

from ..ideal import ideal

FLAGS = ("is_followup_overdue", "is_verdict_due", "is_slow")


def day_start(day: date) -> datetime:
    """Return local midnight at the start of the day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def days_ago_cutoff(now: datetime, days: int) -> datetime:
    """Return the moment before which something is `days` or more calendar days old today.

    With days=15 on the 23rd, anything from the 8th or earlier counts; the 9th does not.
    """
    return day_start(timezone.localdate(now) - timedelta(days=days - 1))


def _followup_rule(now: datetime) -> tuple[Q, Q]:
    """Return (overdue, fine): no logged activity, or never touched since creation, for FOLLOW_UP_AFTER_DAYS."""
    cutoff = days_ago_cutoff(now, settings.FOLLOW_UP_AFTER_DAYS)
    overdue = Q(owner__isnull=False) & (
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    )
    fine = (
        Q(owner__isnull=True)
        | Q(last_activity_at__gte=cutoff)
        | Q(last_activity_at__isnull=True, created_at__gte=cutoff)
    )
    return overdue, fine


def _verdict_rule(now: datetime) -> tuple[Q, Q]:
    """Return (due, fine): no stage progress or verdict for VERDICT_AFTER_DAYS."""
    cutoff = days_ago_cutoff(now, settings.VERDICT_AFTER_DAYS)
    return Q(owner__isnull=False, last_progress_at__lt=cutoff), Q(owner__isnull=True) | Q(last_progress_at__gte=cutoff)


def _slow_rule(now: datetime) -> tuple[Q, Q]:
    """Return (slow, fine): more days in the stage than the ideal state allows for it."""
    slow, fine = Q(pk__in=[]), Q(owner__isnull=True)
    for stage, days in ideal("days_to_next").items():
        cutoff = days_ago_cutoff(now, days + 1)
        slow |= Q(stage=stage, stage_entered_at__lt=cutoff)
        fine |= Q(stage=stage, stage_entered_at__gte=cutoff)
    return Q(owner__isnull=False) & slow, fine


@transaction.atomic
def leads_flag_cadence(*, now: datetime | None = None, lead_ids: list[int] | None = None) -> int:
    """Raise and clear the follow-up, verdict and slow flags; return how many rows changed.

    Only rows whose flag actually changes are written (a full rewrite costs 10x at a million
    leads), so a second run changes nothing and two runs at once cannot disagree. With
    lead_ids, only those leads are refreshed: services call it right after a change.
    """
    now = now or timezone.now()
    leads = Lead.objects.all() if lead_ids is None else Lead.objects.filter(pk__in=lead_ids)
    open_leads = leads.open()
    changed = 0
    for field, (raise_when, clear_when) in (
        ("is_followup_overdue", _followup_rule(now)),
        ("is_verdict_due", _verdict_rule(now)),
        ("is_slow", _slow_rule(now)),
    ):
        changed += open_leads.filter(raise_when, **{field: False}).update(**{field: True})
        changed += open_leads.filter(clear_when, **{field: True}).update(**{field: False})
    # A closed lead needs no follow-up: drop whatever flags it carried when it closed.
    changed += leads.filter(stage__in=CLOSED_STAGES).flagged().update(**dict.fromkeys(FLAGS, False))
    return changed
