from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team
from crm.choices import OPEN_STAGES, Stage
from crm.models import Lead, StageChange, Visit

from ..models import ReviewAgenda, Verdict
from .cadence import day_start
from .transitions import lead_transition


@transaction.atomic
def lead_verdict(
    *, lead: Lead, manager, decision: str, comment: str = "", lost_reason: str = "", lost_note: str = ""
) -> Verdict:
    """Record a manager's verdict on a lead with no progress for 30 days; it restarts the 30-day clock.

    Abandoning goes through the stage service, so its rules (a lost reason) apply.
    """
    if not manager.manages_leads:
        raise PermissionDenied
    lead = Lead.objects.editable_by(manager).select_for_update(of=("self",)).filter(pk=lead.pk).first()
    if lead is None:
        raise PermissionDenied
    if decision not in Verdict.Decision.values:
        raise ValidationError({"decision": _("Choose push on, lower the effort or abandon.")})
    if not lead.is_verdict_due:
        raise ValidationError({"decision": _("This lead has no verdict due.")})
    if decision == Verdict.Decision.ABANDON:
        lead_transition(
            lead=lead,
            to_stage=Stage.ABANDONED,
            actor=manager,
            reason=comment,
            lost_reason=lost_reason,
            lost_note=lost_note,
        )
    else:
        Lead.objects.filter(pk=lead.pk).update(last_progress_at=timezone.now(), is_verdict_due=False)
    return Verdict.objects.create(lead=lead, manager=manager, decision=decision, comment=comment.strip())


def week_start_of(now: datetime) -> datetime:
    """Return local midnight of the Monday of the week `now` falls in."""
    today = timezone.localdate(now)
    return day_start(today - timedelta(days=today.weekday()))


def _count(model, since: datetime, until: datetime, time_field: str):
    rows = (
        model.objects.filter(lead=OuterRef("pk"), **{f"{time_field}__gte": since, f"{time_field}__lt": until})
        .order_by()
        .values("lead")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _problems(lead: Lead) -> list[str]:
    return [
        name
        for name, raised in (
            ("followup_overdue", lead.is_followup_overdue),
            ("verdict_due", lead.is_verdict_due),
            ("slow", lead.is_slow),
        )
        if raised
    ]


@transaction.atomic
def review_agendas_build(*, now: datetime | None = None) -> int:
    """Build (or rebuild) this week's review agenda of every team from last week's work; return how many.

    One query reads every open lead of every team with last week's visit and move counts; the
    agenda is a snapshot, so the meeting sees the week as it was even after leads move on.
    """
    now = now or timezone.now()
    week = week_start_of(now)
    since = week - timedelta(days=7)
    leads = (
        Lead.objects.filter(stage__in=OPEN_STAGES, owner__team__isnull=False, owner__is_active=True)
        .select_related("customer", "owner")
        .annotate(
            visits_last_week=_count(Visit, since, week, "occurred_at"),
            moves_last_week=_count(StageChange, since, week, "changed_at"),
        )
        .order_by("owner__team_id", "owner_id", "-is_verdict_due", "-is_followup_overdue", "stage", "pk")
    )
    by_team: dict[int, dict[int, dict]] = {}
    for lead in leads.iterator(chunk_size=2000):
        reps = by_team.setdefault(lead.owner.team_id, {})
        rep = reps.setdefault(lead.owner_id, {"rep_id": lead.owner_id, "rep": str(lead.owner), "leads": []})
        rep["leads"].append(
            {
                "lead_id": lead.pk,
                "customer": lead.customer.name,
                "stage": lead.stage,
                "activities": lead.visits_last_week,
                "progressed": lead.moves_last_week > 0,
                "problems": _problems(lead),
                "next_step": lead.next_step,
                "next_step_date": lead.next_step_date.isoformat() if lead.next_step_date else None,
            }
        )
    built = 0
    for team in Team.objects.all():
        ReviewAgenda.objects.update_or_create(
            team=team, week_start=week.date(), defaults={"items": list(by_team.get(team.pk, {}).values())}
        )
        built += 1
    return built
