"""Time the scoring jobs on a large funnel (PostgreSQL): training, full recompute, sweep, one lead.

    createdb -h 127.0.0.1 -U postgres scoring_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scoring_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scoring_bench .venv/bin/python bench/scoring_bench.py --leads 100000

The first run builds the demo funnel (funnel.demo, bulk_create) with intake attributes added by
SQL; later runs reuse it. Not part of the test run.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm.models import Lead  # noqa: E402
from scoring.models import LeadScore  # noqa: E402
from scoring.services import (  # noqa: E402
    lead_rescore,
    leads_rescore_all,
    leads_rescore_stale,
    leads_stale_ids,
    scoring_model_train,
)

ATTRIBUTES_SQL = """
UPDATE crm_lead SET attributes = jsonb_build_object(
    'industry', (ARRAY['制造业', '软件和信息技术', '批发零售', '医疗健康', '教育培训'])[1 + (id * 7919) % 5],
    'employees', 10 + (id * 104729) % 3000,
    'channel', (ARRAY['官网表单', '展会', '搜索广告', '转介绍'])[1 + (id * 31) % 4]
) WHERE attributes = '{}'::jsonb
"""


def timed(label: str, func, *args, **kwargs):
    started, cpu = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s (Python CPU {cpu:.2f} s) -> {result}", flush=True)
    return result


def build(leads: int) -> None:
    from funnel.demo import demo_build

    timed(f"build {leads} demo leads", demo_build, leads=leads, reps=max(20, leads // 100), seed=7)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(ATTRIBUTES_SQL)
        print(f"attributes on {cursor.rowcount} leads: {time.perf_counter() - started:.2f} s")
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--only-recompute", action="store_true", help="time full recomputes only")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run against PostgreSQL (DATABASE_URL)"
    if not Lead.objects.exists():
        build(args.leads)
    print(f"leads: {Lead.objects.count()}, scored: {LeadScore.objects.count()}", flush=True)
    if not args.skip_train:
        model = timed("train (CV + fit)", scoring_model_train)
        if model is not None:
            print(f"  v{model.version}: AUC {model.cv_auc:.3f} on {model.n_won} won / {model.n_lost} lost")
    if args.only_recompute:
        for _ in range(3):
            timed("full recompute", leads_rescore_all)
        return
    timed("full recompute (every row written)", leads_rescore_all)
    timed("full recompute again (nothing changes)", leads_rescore_all)
    timed("full recompute a day later (decay)", leads_rescore_all, now=timezone.now() + timedelta(days=1))
    timed("full recompute back to today", leads_rescore_all)
    timed("stale ids (none)", lambda: len(leads_stale_ids()))
    touched = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:1000])
    Lead.objects.filter(pk__in=touched).update(updated_at=timezone.now())
    timed("sweep after 1,000 edits", leads_rescore_stale)
    one = []
    for pk in touched[:30]:
        Lead.objects.filter(pk=pk).update(need_known=True, updated_at=timezone.now())
        started = time.perf_counter()
        lead_rescore(lead_id=pk)
        one.append(time.perf_counter() - started)
    print(f"one lead: median {statistics.median(one) * 1000:.0f} ms, max {max(one) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
