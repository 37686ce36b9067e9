"""The numbers of the weekly review, each computed in a fixed number of queries for a set of reps.

Live figures read leads and stage changes (fast for one team); company-wide pages read the
rollups and snapshots the jobs keep (see rollups.py), so they do not scan every lead.
"""

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.choices import FUNNEL_ORDER, OPEN_STAGES, Stage
from crm.models import Lead, StageChange

from ..ideal import ideal
from ..models import RepStageRollup, Target, WeeklySnapshot

COHORT_DAYS = 91  # move rates are measured on the leads created in the last 13 weeks
FLAGGED_LISTED = 10
TREND_WEEKS = 12


def ratio(part, whole) -> float | None:
    """Return part/whole, or None when there is nothing to divide by (shown as "—")."""
    return None if not whole else float(part) / float(whole)


def median_days(entered: list[datetime], now: datetime) -> float | None:
    if not entered:
        return None
    return round(statistics.median((now - moment).total_seconds() / 86400 for moment in entered), 1)


def holdings_live(rep_ids: list[int], filters: Q, now: datetime) -> tuple[dict, dict]:
    """Return ({rep: {stage: (count, amount)}}, {stage: median days in stage}) from the leads themselves."""
    per_rep = defaultdict(dict)
    rows = (
        Lead.objects.filter(filters, owner_id__in=rep_ids, stage__in=OPEN_STAGES)
        .values("owner_id", "stage")
        .annotate(n=Count("pk"), amount=Sum("expected_amount"))
        .order_by()
    )
    for row in rows:
        per_rep[row["owner_id"]][row["stage"]] = (row["n"], row["amount"] or Decimal(0))
    entered = defaultdict(list)
    for stage, moment in (
        Lead.objects.filter(filters, owner_id__in=rep_ids, stage__in=OPEN_STAGES)
        .values_list("stage", "stage_entered_at")
        .order_by()
    ):
        entered[stage].append(moment)
    return per_rep, {stage: median_days(entered[stage], now) for stage in OPEN_STAGES}


def holdings_rolled_up(rep_ids: list[int]) -> tuple[dict, dict, datetime | None]:
    """Return the same as holdings_live, from the daily rollup, and when it was built."""
    per_rep, medians, built = defaultdict(dict), {}, None
    for row in RepStageRollup.objects.filter(Q(rep_id__in=rep_ids) | Q(rep__isnull=True)).order_by():
        built = row.built_at
        if row.rep_id is None:
            medians[row.stage] = float(row.median_days) if row.median_days is not None else None
        elif row.stage in OPEN_STAGES:
            per_rep[row.rep_id][row.stage] = (row.open_count, row.amount)
    return per_rep, medians, built


def reach_live(rep_ids: list[int], filters: Q, now: datetime) -> dict[str, int]:
    """Return how many of the cohort's leads reached each stage (resource = the cohort's size)."""
    since = now - timedelta(days=COHORT_DAYS)
    cohort = Lead.objects.filter(filters, owner_id__in=rep_ids, created_at__gte=since)
    reached = dict(
        StageChange.objects.filter(lead__in=cohort.values("pk"))
        .values("to_stage")
        .annotate(n=Count("lead_id", distinct=True))
        .order_by()
        .values_list("to_stage", "n")
    )
    reached[Stage.RESOURCE] = cohort.count()
    return reached


def reach_rolled_up(rep_ids: list[int]) -> dict[str, int]:
    totals = defaultdict(int)
    for stage, n in RepStageRollup.objects.filter(rep_id__in=rep_ids).values_list("stage", "reached"):
        totals[stage] += n
    return dict(totals)


def move_rates(reached: dict[str, int]) -> list[dict]:
    """Return, for each stage after 资源, the share of the cohort that reached it, beside the ideal share."""
    created = reached.get(Stage.RESOURCE, 0)
    ideal_share = ideal("reach_share")
    return [
        {
            "stage": stage,
            "reached": reached.get(stage, 0),
            "share": ratio(reached.get(stage, 0), created),
            "ideal": ideal_share.get(stage),
        }
        for stage in FUNNEL_ORDER[1 : FUNNEL_ORDER.index(Stage.SIGNED) + 1]
    ]


def week_moves(rep_ids: list[int], filters: Q, start: datetime, end: datetime) -> dict:
    """Return the week's signings, amount, abandons by reason and out-of-funnel signings."""
    changes = StageChange.objects.filter(
        changed_at__gte=start, changed_at__lt=end, lead__owner_id__in=rep_ids, lead__in=Lead.objects.filter(filters)
    )
    signings = changes.filter(to_stage=Stage.SIGNED).aggregate(
        n=Count("pk"), amount=Sum("lead__signed_amount"), outside=Count("pk", filter=Q(is_out_of_funnel=True))
    )
    reasons = dict(
        changes.filter(to_stage=Stage.ABANDONED)
        .values("lead__lost_reason")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("lead__lost_reason", "n")
    )
    per_rep, outside_per_rep = {}, {}
    for owner, n, outside in (
        changes.filter(to_stage=Stage.SIGNED)
        .values("lead__owner_id")
        .annotate(n=Count("pk"), outside=Count("pk", filter=Q(is_out_of_funnel=True)))
        .order_by()
        .values_list("lead__owner_id", "n", "outside")
    ):
        per_rep[owner], outside_per_rep[owner] = n, outside
    return {
        "signings": signings["n"],
        "signed_amount": signings["amount"] or Decimal(0),
        "out_of_funnel": signings["outside"],
        "abandoned": sum(reasons.values()),
        "abandon_reasons": reasons,
        "signings_by_rep": per_rep,
        "out_of_funnel_by_rep": outside_per_rep,
    }


def flagged_lists(rep_ids: list[int], filters: Q) -> dict:
    """Return the follow-up-overdue and verdict-due leads (the first ones, and how many)."""
    leads = Lead.objects.filter(filters, owner_id__in=rep_ids, stage__in=OPEN_STAGES).select_related(
        "customer", "owner"
    )
    counts = leads.aggregate(
        followup=Count("pk", filter=Q(is_followup_overdue=True)), verdict=Count("pk", filter=Q(is_verdict_due=True))
    )
    return {
        "followup_count": counts["followup"],
        "verdict_count": counts["verdict"],
        "followup": list(leads.filter(is_followup_overdue=True).order_by("last_activity_at", "pk")[:FLAGGED_LISTED]),
        "verdict": list(leads.filter(is_verdict_due=True).order_by("last_progress_at", "pk")[:FLAGGED_LISTED]),
    }


def trends(rep_ids: list[int], week: date) -> list[dict]:
    """Return 12 weeks of new leads, signings and amount from the weekly snapshots."""
    first = week - timedelta(weeks=TREND_WEEKS - 1)
    rows = {
        row["week_start"]: row
        for row in WeeklySnapshot.objects.filter(rep_id__in=rep_ids, week_start__gte=first, week_start__lte=week)
        .values("week_start")
        .annotate(new=Sum("new_leads"), signings=Sum("signings"), amount=Sum("signed_amount"))
        .order_by()
    }
    weeks = [first + timedelta(weeks=i) for i in range(TREND_WEEKS)]
    return [
        {
            "week": w.isoformat(),
            "new_leads": rows.get(w, {}).get("new") or 0,
            "signings": rows.get(w, {}).get("signings") or 0,
            "signed_amount": rows.get(w, {}).get("amount") or Decimal(0),
        }
        for w in weeks
    ]


def previous_week_counts(rep_ids: list[int], week: date) -> dict[int, dict[str, int]]:
    """Return each rep's open leads per stage at the end of the week before (from its snapshot)."""
    return {
        rep_id: counts
        for rep_id, counts in WeeklySnapshot.objects.filter(
            rep_id__in=rep_ids, week_start=week - timedelta(weeks=1)
        ).values_list("rep_id", "stage_counts")
    }


def close_probability(stage: str) -> float:
    """Return the ideal chance that a lead in this stage signs: the ideal reach of 签约 over the stage's."""
    shares = ideal("reach_share")
    signed = shares.get(Stage.SIGNED, 0)
    return 1.0 if stage == Stage.SIGNED else signed / (shares.get(stage) or 1.0) if stage in shares else signed


def forecast_live(rep_ids: list[int], filters: Q, today: date) -> dict[int, tuple[Decimal, Decimal]]:
    """Return each rep's weighted pipeline (amount × win probability) closing this month and next."""
    this_month = today.replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    after = (next_month + timedelta(days=32)).replace(day=1)
    result = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows = Lead.objects.filter(
        filters,
        owner_id__in=rep_ids,
        stage__in=(Stage.LEAD, Stage.INTENTION, Stage.SIGNED),
        expected_close_date__gte=this_month,
        expected_close_date__lt=after,
        expected_amount__isnull=False,
    ).values_list("owner_id", "stage", "expected_amount", "win_probability", "expected_close_date")
    for owner_id, stage, amount, probability, closes in rows:
        chance = Decimal(str(probability if probability is not None else close_probability(stage)))
        result[owner_id][0 if closes < next_month else 1] += amount * chance
    return {
        rep: (a.quantize(Decimal("0.01"), ROUND_HALF_UP), b.quantize(Decimal("0.01"), ROUND_HALF_UP))
        for rep, (a, b) in result.items()
    }


def forecast_rolled_up(rep_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    rows = RepStageRollup.objects.filter(rep_id__in=rep_ids, stage=Stage.RESOURCE).values_list(
        "rep_id", "forecast_this_month", "forecast_next_month"
    )
    return {rep: (a, b) for rep, a, b in rows}


def targets_progress(rep_ids: list[int], team_id: int | None, day: date) -> list[dict]:
    """Return the targets running on the day (the reps', and the team's) with what has been achieved.

    Two queries whatever the number of targets: the targets, then every signing in their periods.
    """
    scope = Q(rep_id__in=rep_ids) | (Q(team_id=team_id) if team_id else Q(team__isnull=False))
    targets = list(
        Target.objects.filter(scope, period_start__lte=day, period_end__gte=day).select_related("rep", "team")
    )
    if not targets:
        return []
    start = timezone.make_aware(datetime.combine(min(t.period_start for t in targets), datetime.min.time()))
    end = timezone.make_aware(
        datetime.combine(max(t.period_end for t in targets) + timedelta(days=1), datetime.min.time())
    )
    signings = list(
        StageChange.objects.filter(
            to_stage=Stage.SIGNED, changed_at__gte=start, changed_at__lt=end, lead__owner_id__in=rep_ids
        ).values_list("lead__owner_id", "changed_at", "lead__signed_amount")
    )
    result = []
    for target in targets:
        members = {target.rep_id} if target.rep_id else set(rep_ids)
        done = [
            amount or Decimal(0)
            for owner, moment, amount in signings
            if owner in members and target.period_start <= timezone.localdate(moment) <= target.period_end
        ]
        result.append(
            {
                "target": target,
                "signings": len(done),
                "amount": sum(done, Decimal(0)),
                "signings_share": ratio(len(done), target.signings),
                "amount_share": ratio(sum(done, Decimal(0)), target.amount),
            }
        )
    return result


def _per_month(rows) -> dict[date, int]:
    """Turn (month start, count) rows into {first day of month: count}, whatever type the database gives."""
    return {(month.date() if isinstance(month, datetime) else month): n for month, n in rows}


def _owned_by(rep_ids: list[int] | None, field: str = "owner_id") -> Q:
    """Filter on the reps' leads; None stands for every lead of the company."""
    return Q() if rep_ids is None else Q(**{f"{field}__in": rep_ids})


def monthly_conversion(rep_ids: list[int] | None, *, months: int, today: date) -> list[dict]:
    """Return, per calendar month in TIME_ZONE, the new leads, the signings and signings ÷ new leads.

    Two GROUP BY queries whatever the number of leads or months; rep_ids None counts the whole company.
    """
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    zone = timezone.get_current_timezone()
    new = _per_month(
        Lead.objects.filter(_owned_by(rep_ids), created_at__gte=since)
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("*"))  # COUNT(*), not COUNT(id): the created_at index alone answers it
        .order_by()
        .values_list("month", "n")
    )
    signed = _per_month(
        StageChange.objects.filter(_owned_by(rep_ids, "lead__owner_id"), to_stage=Stage.SIGNED, changed_at__gte=since)
        .annotate(month=TruncMonth("changed_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("*"))  # the (to_stage, changed_at) index alone answers it
        .order_by()
        .values_list("month", "n")
    )
    rows, month = [], first
    for _ in range(months):
        rows.append(
            {
                "month": month.strftime("%Y-%m"),
                "new_leads": new.get(month, 0),
                "signings": signed.get(month, 0),
                "conversion": ratio(signed.get(month, 0), new.get(month, 0)),
            }
        )
        month = (month + timedelta(days=32)).replace(day=1)
    return rows


def funnel_by_stage(rep_ids: list[int] | None) -> list[dict]:
    """Return every stage in funnel order with its leads, their expected amount and the ideal holding.

    One GROUP BY over the reps' leads (None: every lead of the company), as cheap as the bare count.
    """
    rows = {
        row["stage"]: row
        for row in Lead.objects.filter(_owned_by(rep_ids))
        .values("stage")
        .annotate(n=Count("pk"), amount=Sum("expected_amount"))
        .order_by()
    }
    holding = ideal("holding")
    return [
        {
            "stage": stage,
            "label": Stage(stage).label,
            "count": rows.get(stage, {}).get("n", 0),
            "amount": rows.get(stage, {}).get("amount") or Decimal(0),
            "ideal": holding.get(stage),
        }
        for stage in (*FUNNEL_ORDER, Stage.ABANDONED)
    ]
