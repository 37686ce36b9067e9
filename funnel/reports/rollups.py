"""The jobs behind the company-wide review: a daily per-rep × stage rollup and the weekly snapshots."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import User
from crm.choices import OPEN_STAGES, Stage
from crm.models import Lead, StageChange

from ..models import RepStageRollup, WeeklySnapshot
from ..services.cadence import day_start
from . import figures


def _sales_reps() -> dict[int, int | None]:
    return dict(User.objects.sales().values_list("pk", "team_id"))


@transaction.atomic
def rollups_build(*, now: datetime | None = None) -> int:
    """Rebuild every rep's per-stage counts, amounts, medians, move-rate cohort and forecast; return rows written.

    Runs nightly (and when the review finds none); it replaces the rows, so running it twice is harmless.
    """
    now = now or timezone.now()
    reps = _sales_reps()
    rep_ids = list(reps)
    # One GROUP BY for counts, amounts and flags, and one pass over the stage times for the medians.
    per_rep, flags = defaultdict(dict), defaultdict(dict)
    for row in (
        Lead.objects.filter(owner_id__in=rep_ids, stage__in=OPEN_STAGES)
        .values("owner_id", "stage")
        .annotate(
            n=Count("pk"),
            amount=Sum("expected_amount"),
            f=Count("pk", filter=Q(is_followup_overdue=True)),
            v=Count("pk", filter=Q(is_verdict_due=True)),
        )
        .order_by()
    ):
        per_rep[row["owner_id"]][row["stage"]] = (row["n"], row["amount"] or Decimal(0))
        flags[row["owner_id"]][row["stage"]] = (row["f"], row["v"])
    entered = defaultdict(lambda: defaultdict(list))
    company = defaultdict(list)
    for owner, stage, moment in (
        Lead.objects.filter(owner_id__in=rep_ids, stage__in=OPEN_STAGES)
        .values_list("owner_id", "stage", "stage_entered_at")
        .iterator(chunk_size=5000)
    ):
        entered[owner][stage].append(moment)
        company[stage].append(moment)
    reached = defaultdict(dict)
    since = now - timedelta(days=figures.COHORT_DAYS)
    for owner, stage, n in (
        StageChange.objects.filter(lead__created_at__gte=since, lead__owner_id__in=rep_ids)
        .values("lead__owner_id", "to_stage")
        .annotate(n=Count("lead_id", distinct=True))
        .order_by()
        .values_list("lead__owner_id", "to_stage", "n")
    ):
        reached[owner][stage] = n
    for owner, n in (
        Lead.objects.filter(created_at__gte=since, owner_id__in=rep_ids)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("owner_id", "n")
    ):
        reached[owner][Stage.RESOURCE] = n
    forecast = figures.forecast_live(rep_ids, Q(), timezone.localdate(now))
    rows = []
    for rep_id, team_id in reps.items():
        for stage in OPEN_STAGES:
            count, amount = per_rep.get(rep_id, {}).get(stage, (0, Decimal(0)))
            followup, verdict = flags.get(rep_id, {}).get(stage, (0, 0))
            this_month, next_month = (
                forecast.get(rep_id, (Decimal(0), Decimal(0))) if stage == Stage.RESOURCE else (0, 0)
            )
            rows.append(
                RepStageRollup(
                    rep_id=rep_id,
                    team_id=team_id,
                    stage=stage,
                    open_count=count,
                    amount=amount,
                    median_days=figures.median_days(entered[rep_id][stage], now),
                    followup_overdue=followup,
                    verdict_due=verdict,
                    reached=reached[rep_id].get(stage, 0),
                    forecast_this_month=this_month,
                    forecast_next_month=next_month,
                    built_at=now,
                )
            )
    rows += [
        RepStageRollup(stage=stage, median_days=figures.median_days(company[stage], now), built_at=now)
        for stage in OPEN_STAGES
    ]
    RepStageRollup.objects.all().delete()
    RepStageRollup.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _stage_at(moment: datetime, rep_ids: list[int]) -> dict[int, dict[str, int]]:
    """Return each rep's open leads per stage as they stood at the moment, rebuilt from the stage history."""
    last = {}
    for lead_id, stage in (
        StageChange.objects.filter(changed_at__lt=moment, lead__owner_id__in=rep_ids)
        .order_by("lead_id", "changed_at", "pk")
        .values_list("lead_id", "to_stage")
        .iterator(chunk_size=5000)
    ):
        last[lead_id] = stage
    owners = dict(Lead.objects.filter(pk__in=list(last)).values_list("pk", "owner_id"))
    counts = defaultdict(lambda: defaultdict(int))
    for lead_id, stage in last.items():
        if stage in OPEN_STAGES:
            counts[owners[lead_id]][stage] += 1
    return counts


@transaction.atomic
def weekly_snapshots_take(*, week: date) -> int:
    """Write each rep's snapshot for the week starting on `week` (a Monday); safe to run again.

    The current week is read from the leads; a past week is rebuilt from the stage history, so
    the first run can backfill the trend charts.
    """
    reps = _sales_reps()
    rep_ids = list(reps)
    start, end = day_start(week), day_start(week + timedelta(days=7))
    now = timezone.now()
    if end > now:
        holdings = defaultdict(dict)
        for owner, stage, n in (
            Lead.objects.filter(owner_id__in=rep_ids, stage__in=OPEN_STAGES)
            .values("owner_id", "stage")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("owner_id", "stage", "n")
        ):
            holdings[owner][stage] = n
    else:
        holdings = _stage_at(end, rep_ids)
    new = dict(
        Lead.objects.filter(owner_id__in=rep_ids, created_at__gte=start, created_at__lt=end)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("owner_id", "n")
    )
    moves = defaultdict(dict)
    for row in (
        StageChange.objects.filter(
            changed_at__gte=start,
            changed_at__lt=end,
            lead__owner_id__in=rep_ids,
            to_stage__in=(Stage.SIGNED, Stage.ABANDONED),
        )
        .values("lead__owner_id", "to_stage")
        .annotate(n=Count("pk"), amount=Sum("lead__signed_amount"))
        .order_by()
    ):
        moves[row["lead__owner_id"]][row["to_stage"]] = (row["n"], row["amount"] or Decimal(0))
    written = 0
    for rep_id, team_id in reps.items():
        signed = moves[rep_id].get(Stage.SIGNED, (0, Decimal(0)))
        WeeklySnapshot.objects.update_or_create(
            week_start=week,
            rep_id=rep_id,
            defaults={
                "team_id": team_id,
                "stage_counts": dict(holdings.get(rep_id, {})),
                "new_leads": new.get(rep_id, 0),
                "signings": signed[0],
                "signed_amount": signed[1],
                "abandoned": moves[rep_id].get(Stage.ABANDONED, (0, 0))[0],
                "taken_at": now,
            },
        )
        written += 1
    return written


def snapshots_backfill(*, weeks: int = figures.TREND_WEEKS, today: date | None = None) -> int:
    """Take the snapshots of the last `weeks` weeks that are missing (the trend charts' history)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    taken = set(WeeklySnapshot.objects.values_list("week_start", flat=True).distinct())
    written = 0
    for back in range(weeks - 1, -1, -1):
        week = monday - timedelta(weeks=back)
        if week not in taken or back == 0:
            written += weekly_snapshots_take(week=week)
    return written
