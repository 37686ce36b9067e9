from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from crm.choices import CLOSED_STAGES, FUNNEL_ORDER, OPEN_STAGES, Stage
from crm.models import Lead, Visit

from .ideal import ideal
from .selectors_receivables import lead_card_flags

FLAGGED_ON_MY_WORK = 20
TODO_ON_MY_WORK = 30
BOARD_CARD_FIELDS = (
    "customer__name",
    "customer__tier",
    "stage",
    "grade",
    "score",
    "expected_amount",
    "stage_entered_at",
    "next_step",
    "next_step_date",
    "is_followup_overdue",
    "is_verdict_due",
    "is_out_of_funnel",
    "is_slow",
    "owner_id",
)


@dataclass(frozen=True)
class StageHolding:
    stage: str
    label: str
    count: int
    ideal: int | None

    @property
    def status(self) -> str:
        """Return 'over', 'under' or 'ok' against the ideal holding ('' when there is none)."""
        if self.ideal is None:
            return ""
        if self.count > self.ideal:
            return "over"
        return "under" if self.count < self.ideal else "ok"


@dataclass(frozen=True)
class BoardColumn:
    holding: StageHolding
    leads: list
    next_stage: str | None  # the one-step move a card offers


def work_scope(*, user) -> QuerySet[Lead]:
    """Return the leads "my work" is about: one's own for reps and managers, what one sees otherwise."""
    if user.is_rep or user.is_manager:
        return Lead.objects.filter(owner=user)
    return Lead.objects.visible_to(user)


def my_work(*, user) -> dict:
    """Return the figures and lists of the "my work" page in a fixed number of queries."""
    leads = work_scope(user=user).open()
    totals = leads.aggregate(
        **{stage: Count("pk", filter=Q(stage=stage)) for stage in OPEN_STAGES},
        flagged=Count("pk", filter=Q(is_followup_overdue=True) | Q(is_verdict_due=True) | Q(is_slow=True)),
        pipeline=Sum("expected_amount", filter=Q(stage__in=(Stage.LEAD, Stage.INTENTION, Stage.SIGNED))),
    )
    holding = ideal("holding")
    stages = [StageHolding(stage=s, label=Stage(s).label, count=totals[s], ideal=holding.get(s)) for s in OPEN_STAGES]
    flagged = leads.flagged().select_related("customer").order_by("last_activity_at", "pk")[:FLAGGED_ON_MY_WORK]
    todo = (
        leads.filter(next_step_date__isnull=False)
        .select_related("customer")
        .order_by("next_step_date", "pk")[:TODO_ON_MY_WORK]
    )
    recent_visits = (
        Visit.objects.visible_to(user).filter(author=user).select_related("lead__customer").order_by("-occurred_at")[:8]
    )
    return {
        "stages": stages,
        "open_total": sum(s.count for s in stages),
        "flagged_total": totals["flagged"],
        "pipeline": totals["pipeline"],
        "flagged": list(flagged),
        "todo": list(todo),
        "recent_visits": list(recent_visits),
    }


def board_people(*, viewer) -> QuerySet[User]:
    """Return whose funnels the viewer may open on the board: oneself, or the team's / everyone's reps."""
    if viewer.sees_all or viewer.is_manager:
        return User.objects.visible_to(viewer).active().sales().select_related("team").order_by("team__name", "pk")
    return User.objects.filter(pk=viewer.pk)


def board(*, viewer, owner) -> dict:
    """Return one rep's open leads in stage columns with counts against the ideal, in two queries."""
    leads = (
        Lead.objects.visible_to(viewer).filter(owner=owner).select_related("customer").only("pk", *BOARD_CARD_FIELDS)
    )
    closed = leads.filter(stage__in=CLOSED_STAGES).aggregate(
        implemented=Count("pk", filter=Q(stage=Stage.IMPLEMENTED)),
        abandoned=Count("pk", filter=Q(stage=Stage.ABANDONED)),
    )
    by_stage = {stage: [] for stage in OPEN_STAGES}
    cards = lead_card_flags(leads.open(), today=timezone.localdate())  # supply suspended, strategic visits
    flagged_first = cards.order_by("-is_verdict_due", "-is_followup_overdue", "-score", "pk")
    for lead in flagged_first:
        by_stage[lead.stage].append(lead)
    holding = ideal("holding")
    columns = [
        BoardColumn(
            holding=StageHolding(stage=s, label=Stage(s).label, count=len(cards), ideal=holding.get(s)),
            leads=cards,
            next_stage=FUNNEL_ORDER[FUNNEL_ORDER.index(s) + 1],
        )
        for s, cards in by_stage.items()
    ]
    return {"columns": columns, "closed": closed, "open_total": sum(len(c.leads) for c in columns)}
