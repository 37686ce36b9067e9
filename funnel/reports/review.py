"""The weekly review (1/15/30): who may see which scope, and every figure of the page in one dict."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from crm.choices import OPEN_STAGES, Stage

from ..ideal import ideal
from ..models import RepStageRollup
from ..services.cadence import day_start
from . import figures
from .rollups import rollups_build

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass
class ReviewScope:
    viewer: User
    team: Team | None
    rep: User | None
    reps: list[User]
    week: date  # the Monday
    source: str = ""
    grade: str = ""
    filters: Q = field(default_factory=Q)

    @property
    def rep_ids(self) -> list[int]:
        return [rep.pk for rep in self.reps]

    @property
    def company_wide(self) -> bool:
        return self.team is None and self.rep is None

    @property
    def owner_ids(self) -> list[int] | None:
        """The reps whose leads count, or None for the whole company (the pool and departed reps included)."""
        return None if self.company_wide else self.rep_ids

    @property
    def week_label(self) -> str:
        year, number, _day = self.week.isocalendar()
        return f"{year}-W{number:02d}"


def parse_week(value: str | None, today: date) -> date:
    """Return the Monday of an ISO week written YYYY-Www, or of the current week."""
    match = WEEK_PATTERN.match(value or "")
    if not match:
        return today - timedelta(days=today.weekday())
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise Http404 from None


def review_scope(
    *,
    viewer,
    team_id: str | None = None,
    rep_id: str | None = None,
    week: str | None = None,
    source: str = "",
    grade: str = "",
) -> ReviewScope:
    """Return what the viewer asked to review, or 404: a manager sees only their team, a director any."""
    if not viewer.manages_leads:
        raise Http404
    team = None
    if viewer.sees_all:
        if team_id:
            team = Team.objects.filter(pk=team_id).first() if str(team_id).isdigit() else None
            if team is None:
                raise Http404
    else:
        if viewer.team_id is None or (team_id and str(team_id) != str(viewer.team_id)):
            raise Http404
        team = viewer.team
    people = User.objects.active().sales().select_related("team").order_by("team__name", "username")
    if team is not None:
        people = people.filter(team=team)
    reps = list(people)
    rep = None
    if rep_id:
        rep = next((person for person in reps if str(person.pk) == str(rep_id)), None)
        if rep is None:
            raise Http404
    filters = Q()
    if source:
        filters &= Q(source=source)
    if grade:
        filters &= Q(grade=grade)
    return ReviewScope(
        viewer=viewer,
        team=team,
        rep=rep,
        reps=[rep] if rep else reps,
        week=parse_week(week, timezone.localdate()),
        source=source,
        grade=grade,
        filters=filters,
    )


def _exceptions(row: dict, medians: dict, moves: list[dict], abandon_rate: float | None) -> list[str]:
    """Return the exceptions of DOMAIN.md a manager should hear about, each with a short reason."""
    found = []
    holding = ideal("holding")
    intentions = row["stages"].get(Stage.INTENTION, 0)
    if intentions >= 2 * holding[Stage.INTENTION] and row["signings"] == 0:
        found.append(_("Many intentions (%(n)d) but no signing this week") % {"n": intentions})
    if row["out_of_funnel"]:
        found.append(_("%(n)d signing(s) outside the funnel") % {"n": row["out_of_funnel"]})
    for move in moves:
        if move["share"] is not None and move["ideal"] and move["share"] < 0.5 * move["ideal"]:
            found.append(
                _("Low move rate into %(stage)s: %(share).0f%% against %(ideal).0f%%")
                % {"stage": Stage(move["stage"]).label, "share": move["share"] * 100, "ideal": move["ideal"] * 100}
            )
    if abandon_rate is not None and abandon_rate > 0.5:
        found.append(_("High abandon rate: %(rate).0f%%") % {"rate": abandon_rate * 100})
    days = ideal("days_to_next")
    for stage, value in medians.items():
        if value is not None and stage in days and value > 2 * days[stage] + 1:
            found.append(
                _("Cycle too long in %(stage)s: median %(days).0f days against %(ideal)d")
                % {"stage": Stage(stage).label, "days": value, "ideal": days[stage]}
            )
    return found


def weekly_review(scope: ReviewScope) -> dict:
    """Return every figure of the weekly review for the scope, per rep and in total."""
    now = timezone.now()
    start, end = day_start(scope.week), day_start(scope.week + timedelta(days=7))
    rep_ids = scope.rep_ids
    rolled_up = scope.company_wide and not (scope.source or scope.grade)
    as_of = None
    if rolled_up:
        if not RepStageRollup.objects.exists():
            rollups_build(now=now)
        holdings, medians, as_of = figures.holdings_rolled_up(rep_ids)
        reached = figures.reach_rolled_up(rep_ids)
        forecast = figures.forecast_rolled_up(rep_ids)
    else:
        holdings, medians = figures.holdings_live(rep_ids, scope.filters, now)
        reached = figures.reach_live(rep_ids, scope.filters, now)
        forecast = figures.forecast_live(rep_ids, scope.filters, timezone.localdate(now))
    week = figures.week_moves(rep_ids, scope.filters, start, end)
    previous = figures.previous_week_counts(rep_ids, scope.week)
    moves = figures.move_rates(reached)
    holding_ideal = ideal("holding")
    rows = []
    for rep in scope.reps:
        stages = {stage: holdings.get(rep.pk, {}).get(stage, (0, Decimal(0)))[0] for stage in OPEN_STAGES}
        total = sum(stages.values())
        before = previous.get(rep.pk)
        rows.append(
            {
                "rep": rep,
                "stages": stages,
                "total": total,
                "change": None if before is None else total - sum(before.values()),
                "signings": week["signings_by_rep"].get(rep.pk, 0),
                "out_of_funnel": week["out_of_funnel_by_rep"].get(rep.pk, 0),
                "forecast": forecast.get(rep.pk, (Decimal(0), Decimal(0))),
            }
        )
    totals = {stage: sum(row["stages"][stage] for row in rows) for stage in OPEN_STAGES}
    open_total = sum(totals.values())
    abandon_rate = figures.ratio(week["abandoned"], open_total + week["abandoned"])
    for row in rows:
        row["exceptions"] = _exceptions(row, {}, [], None)
    scope_row = {"stages": totals, "signings": week["signings"], "out_of_funnel": week["out_of_funnel"]}
    return {
        "scope": scope,
        "start": start,
        "end": end,
        "as_of": as_of or now,
        "rolled_up": rolled_up,
        "rows": rows,
        "stage_totals": [
            {
                "stage": s,
                "label": Stage(s).label,
                "count": totals[s],
                "ideal": holding_ideal.get(s),
                "ideal_team": holding_ideal[s] * len(rows) if s in holding_ideal else None,
            }
            for s in OPEN_STAGES
        ],
        "open_total": open_total,
        "medians": [
            {"stage": s, "label": Stage(s).label, "days": medians.get(s), "ideal": ideal("days_to_next").get(s)}
            for s in OPEN_STAGES
        ],
        "moves": [{**move, "label": Stage(move["stage"]).label} for move in moves],
        "week": week,
        "abandon_rate": abandon_rate,
        "flagged": figures.flagged_lists(rep_ids, scope.filters),
        "trends": figures.trends(rep_ids, scope.week),
        "targets": figures.targets_progress(rep_ids, scope.team.pk if scope.team else None, scope.week),
        "forecast_total": (
            sum((row["forecast"][0] for row in rows), Decimal(0)),
            sum((row["forecast"][1] for row in rows), Decimal(0)),
        ),
        "exceptions": _exceptions(scope_row, medians, moves, abandon_rate),
    }
