"""The benchmark scenarios, run against one dataset by `bench.suite` (one process per database).

Pages go through the in-process test client (server time: middleware, views, templates; no network),
jobs run as their Celery tasks do (eager, in-process), and each aggregate has a hand-written SQL
counterpart: the physical limit the ORM version is compared with.
"""

import os
import time
import traceback
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Abs
from django.test import Client
from django.test.utils import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Role, User
from crm.choices import CLOSED_STAGES, OPEN_STAGES, Stage
from funnel.ideal import ideal
from funnel.services.cadence import days_ago_cutoff

from . import sql
from .marker import marker_read
from .timing import Figure, judge, measure, raw_sql

OPEN_TARGET = 300  # the board scenario's rep holds about this many open leads
SLOW_JOB_REPEAT = 3  # a full score recompute takes about a minute: three runs after the warm-up
# Without collectstatic there is no manifest; plain storage resolves {% static %} the same way, minus a dict lookup.
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


class Personas:
    """The people the scenarios act as: a rep holding ~300 open leads, that rep's manager, the director."""

    def __init__(self):
        self.rep = (
            User.objects.filter(role=Role.REP)
            .annotate(open_leads=Count("leads", filter=Q(leads__stage__in=OPEN_STAGES)))
            .order_by(Abs(F("open_leads") - OPEN_TARGET), "pk")
            .first()
        )
        self.manager = User.objects.filter(role=Role.MANAGER, team_id=self.rep.team_id).first()
        self.director = User.objects.filter(role=Role.DIRECTOR).first()

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def get_ok(client: Client, url: str):
    """Return a callable that GETs the URL and insists on a 200."""

    def get() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")

    return get


def url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def board(people: Personas, repeat: int) -> Figure:
    rep = people.rep
    figure = measure(
        f"Rep board page ({rep.open_leads} open leads)",
        get_ok(people.client(rep), reverse("funnel:board")),
        repeat=repeat,
        raw=raw_sql([(sql.BOARD, {"rep": rep.pk, "open": OPEN_STAGES})]),
    )
    figure.note = "raw: the rep's open leads with customer names, in board order"
    return figure


def lead_list_page(people: Personas, repeat: int) -> Figure:
    rep = people.rep
    figure = measure(
        "Lead list page, rep (own + pool)",
        get_ok(people.client(rep), reverse("funnel:lead-list")),
        repeat=repeat,
        raw=raw_sql([(sql.REP_LIST_COUNT, {"rep": rep.pk}), (sql.REP_LIST_PAGE, {"rep": rep.pk, "limit": 50})]),
    )
    figure.note = "raw: count + first page of 50 with customer and owner"
    return judge(figure, limit=100)


def lead_list_api(people: Personas, repeat: int) -> Figure:
    params = {"team": people.manager.team_id, "stage": "intention", "grade": "A"}
    figure = measure(
        "Lead list API, manager: stage=intention&grade=A&o=-score",
        get_ok(people.client(people.manager), reverse("api:lead-list") + "?stage=intention&grade=A&o=-score"),
        repeat=repeat,
        raw=raw_sql([(sql.TEAM_FILTERED_COUNT, params), (sql.TEAM_FILTERED_PAGE, {**params, "limit": 50})]),
    )
    figure.note = "raw: count + first page of 50 with customer and owner"
    return judge(figure, limit=100)


def review_pages(people: Personas, repeat: int) -> list[Figure]:
    url = url_or_none("funnel:review")
    names = ("Manager weekly review (/review/?team=…)", "Director weekly review (/review/)")
    if url is None:
        return [Figure(name=name, status="not built yet", note="funnel:review does not resolve") for name in names]
    team = people.manager.team_id
    manager = measure(
        names[0],
        get_ok(people.client(people.manager), f"{url}?team={team}"),
        repeat=repeat,
        raw=raw_sql([(sql.REVIEW_TEAM, {**review_params(), "team": team})]),
    )
    director = measure(
        names[1],
        get_ok(people.client(people.director), url),
        repeat=repeat,
        raw=raw_sql([(sql.REVIEW_ALL, review_params())]),
    )
    manager.note = "live figures; raw: holdings, medians, cohort reach, week's moves, forecast, flagged lists"
    director.note = "the page reads the nightly rollup; raw: the same figures computed live over every lead"
    return [judge(manager, limit=300, ratio_limit=3), judge(director, limit=1000, ratio_limit=3)]


def review_params() -> dict:
    """Return the week, cohort and forecast bounds the review uses, for its hand-written twin."""
    from funnel.reports.figures import COHORT_DAYS, close_probability
    from funnel.services.review import week_start_of

    now, today = timezone.now(), timezone.localdate()
    start = week_start_of(now)
    this_month = today.replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    return {
        "open": OPEN_STAGES,
        "now": now,
        "cohort": now - timedelta(days=COHORT_DAYS),
        "start": start,
        "end": start + timedelta(days=7),
        "this_month": this_month,
        "next_month": next_month,
        "after": (next_month + timedelta(days=32)).replace(day=1),
        "p_intention": close_probability(Stage.INTENTION),
        "p_lead": close_probability(Stage.LEAD),
    }


def rollups(repeat: int) -> Figure:
    """Time the nightly job the director's pages read from (and leave its rollup in place for them)."""
    from funnel.tasks import review_rollups_task

    figure = measure(
        "Review rollups and snapshots (nightly task)",
        lambda: review_rollups_task.apply().get(),
        repeat=min(repeat, SLOW_JOB_REPEAT),
        queries=False,
        unit="s",
    )
    figure.note = "no target in the issue; the director's review reads what it builds"
    return figure


def cadence(repeat: int) -> Figure:
    """Time the cadence task one day after the flags were last settled; each run is rolled back, so all see the same."""
    import time_machine

    from funnel.tasks import leads_flag_cadence_task

    tomorrow = timezone.now() + timedelta(days=1)
    changed = []

    def task() -> None:
        with time_machine.travel(tomorrow, tick=True), transaction.atomic():
            changed.append(leads_flag_cadence_task.apply().get())
            transaction.set_rollback(True)

    def raw() -> None:
        with transaction.atomic():
            raw_sql([(sql.CADENCE, cadence_params(tomorrow))])()
            transaction.set_rollback(True)

    figure = measure("Cadence flagging, daily run (task)", task, repeat=repeat, raw=raw, queries=False, unit="s")
    figure.note = f"{changed[-1]:,} flag changes a run; raw: one UPDATE … WHERE flags differ"
    return judge(figure, limit=10, stat="median")


def cadence_params(now) -> dict:
    """Return the cutoffs the cadence service uses, for its hand-written twin."""
    from django.conf import settings

    params = {
        "open": OPEN_STAGES,
        "closed": CLOSED_STAGES,
        "followup": days_ago_cutoff(now, settings.FOLLOW_UP_AFTER_DAYS),
        "verdict": days_ago_cutoff(now, settings.VERDICT_AFTER_DAYS),
    }
    for stage, days in ideal("days_to_next").items():
        params[f"slow_{stage}"] = days_ago_cutoff(now, days + 1)
    return params


def score_recompute(repeat: int) -> list[Figure]:
    """Time the full recompute from no stored scores (every row written), then again with nothing changed."""
    name = "Full score recompute (task)"
    try:
        from scoring.tasks import leads_rescore_all_task
    except ImportError:
        return [Figure(name=name, unit="s", status="not built yet", note="no scoring.tasks.leads_rescore_all_task")]
    results = []

    def task() -> None:
        results.append(leads_rescore_all_task.apply().get())

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE scoring_leadscore")  # as after new rules: no stored score matches
    first = measure(
        "Full score recompute, every score written (task)",
        task,
        repeat=1,
        warmup=0,
        raw=raw_sql([(sql.SCORE_WRITE_FLOOR, {})]),
        queries=False,
        unit="s",
    )
    first.note = f"{results[-1]:,} scores written; raw: one statement rewriting every lead's score (write floor)"
    again = measure(
        "Full score recompute, nothing changed (task)",
        task,
        repeat=min(repeat, SLOW_JOB_REPEAT),
        warmup=0,
        queries=False,
        unit="s",
    )
    again.note = f"{results[-1]:,} scores written: the job reads and scores every lead but writes only changes"
    # The runs above leave some three million dead lead rows; clear them as autovacuum would, so a
    # later run starts from the same state.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) crm_lead, scoring_leadscore")
    return [judge(first, limit=60, stat="median"), judge(again, limit=60, stat="median")]


def compare_suite(people: Personas, repeat: int) -> list[Figure]:
    """The figures other Django CRMs were measured on at 100,000 leads, with query counts and raw SQL."""
    director = people.client(people.director)
    page = measure(
        "Lead list, first page (director, all leads)",
        get_ok(director, reverse("funnel:lead-list")),
        repeat=repeat,
        raw=raw_sql([(sql.ALL_COUNT, {}), (sql.ALL_PAGE, {"limit": 50})]),
    )
    funnel_api = measure(
        "Funnel by stage (director, API)",
        get_ok(director, reverse("api:funnel-by-stage")),
        repeat=repeat,
        raw=raw_sql([(sql.FUNNEL_REPORT, {})]),
    )
    funnel_api.note = "count and expected amount per stage for every rep's leads; raw: the same GROUP BY"
    funnel = measure(
        "Funnel by stage (director's my-work page)",
        get_ok(director, reverse("funnel:my-work")),
        repeat=repeat,
        raw=raw_sql([(sql.FUNNEL_BY_STAGE, {})]),
    )
    funnel.note = "the page also lists flagged leads and next steps; raw: count per stage"
    review_url = url_or_none("funnel:review")
    if review_url is not None:
        rollups(1)  # the nightly job the director's review reads
        review = measure(
            "Funnel by stage (director's weekly review)",
            get_ok(director, review_url),
            repeat=repeat,
            raw=raw_sql([(sql.FUNNEL_BY_STAGE, {})]),
        )
        review.note = "the page reads the nightly rollup and shows far more; raw: count per stage"
    api = measure(
        "REST list of 100 (director)",
        get_ok(director, reverse("api:lead-list") + "?page_size=100"),
        repeat=repeat,
        raw=raw_sql([(sql.ALL_COUNT, {}), (sql.ALL_PAGE, {"limit": 100})]),
    )
    monthly = measure(
        "Monthly conversion summary (director, 12 months, API)",
        get_ok(director, reverse("api:monthly-conversion")),
        repeat=repeat,
        raw=raw_sql([(statement, {}) for statement in sql.MONTHLY_CONVERSION.strip().split(";\n")]),
    )
    measured = [page, funnel_api, funnel, *([review] if review_url else []), monthly, api]
    figures = measured
    for figure in measured:
        judge(figure, limit=1000, stat="median", ratio_limit=1.5)
        figure.target = "≤ 1.5× raw"
        figure.status = "OK" if figure.ratio is not None and figure.ratio <= 1.5 else "MISS"
    return figures


def main_suite(people: Personas, repeat: int, intake_seconds: float) -> list[Figure]:
    from .intake import intake_throughput

    scenarios = [
        ("Rep board page", lambda: [board(people, repeat)]),
        ("Lead list page", lambda: [lead_list_page(people, repeat)]),
        ("Lead list API", lambda: [lead_list_api(people, repeat)]),
        ("Review rollups", lambda: [rollups(repeat)] if url_or_none("funnel:review") else []),
        ("Weekly review pages", lambda: review_pages(people, repeat)),
    ]
    # The intake runs before the full recompute: the gigabytes that rewrites leave PostgreSQL to
    # vacuum and checkpoint halved the intake measured after it, as no working day would see.
    if intake_seconds > 0:
        scenarios.append(("Intake throughput", lambda: [intake_throughput(seconds=intake_seconds)]))
    scenarios += [
        ("Cadence flagging", lambda: [cadence(repeat)]),
        ("Full score recompute", lambda: score_recompute(repeat)),
    ]
    return [figure for name, scenario in scenarios for figure in guarded(name, scenario)]


def guarded(name: str, scenario) -> list[Figure]:
    """Run one scenario; a failure becomes an ERROR line (and a non-zero exit) instead of ending the run."""
    try:
        return scenario()
    except Exception as error:  # reported, and the run exits non-zero at the end
        traceback.print_exc()
        return [Figure(name=name, status="ERROR", note=f"{type(error).__name__}: {error}")]


def run(suite: str, repeat: int, intake_seconds: float) -> dict:
    with connection.cursor() as cursor:
        dataset = marker_read(cursor)
    if dataset is None:
        raise SystemExit("No finished benchmark dataset in this database: run manage.py gen_bench_data first.")
    people = Personas()
    started, load_before = time.monotonic(), os.getloadavg()
    with override_settings(STORAGES=PLAIN_STATIC):
        if suite == "main":
            figures = main_suite(people, repeat, intake_seconds)
        else:
            figures = guarded("100k comparison", lambda: compare_suite(people, repeat))
    return {
        "suite": suite,
        "database": connection.settings_dict["NAME"],
        "dataset": dataset,
        "personas": {"rep": people.rep.username, "rep_open_leads": people.rep.open_leads},
        "seconds": round(time.monotonic() - started, 1),
        # Other work on the same two cores skews every figure: the load average says how much there was.
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "figures": [figure.as_dict() for figure in figures],
    }
