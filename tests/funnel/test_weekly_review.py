"""Every figure of the weekly review against numbers worked out by hand (Asia/Shanghai weeks)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import Stage
from funnel.models import Target, WeeklySnapshot
from funnel.reports.review import review_scope, weekly_review
from funnel.reports.rollups import rollups_build, weekly_snapshots_take
from tests.factories import LeadFactory, StageChangeFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=SH)  # Wednesday of ISO week 2026-W48 (Mon 23 Nov)
WEEK = "2026-W48"


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SH)


def _history(lead, stages, when):
    previous = Stage.RESOURCE
    for stage in stages:
        StageChangeFactory(lead=lead, from_stage=previous, to_stage=stage, changed_at=when)
        previous = stage


@pytest.fixture
def world(rep, teammate, manager):
    """rep: 3 contacted, 1 intention, 1 signed this week, 2 abandoned (one this week); teammate: nothing."""
    created = at(26, month=10)
    with time_machine.travel(NOW, tick=False):
        contacted = [
            LeadFactory(
                owner=rep, stage=Stage.CONTACTED, stage_entered_at=NOW - datetime.timedelta(days=d), created_at=created
            )
            for d in (2, 4, 10)
        ]
        for lead in contacted:
            _history(lead, [Stage.GRADED, Stage.CONTACTED], created)
        intention = LeadFactory(
            owner=rep,
            stage=Stage.INTENTION,
            stage_entered_at=NOW - datetime.timedelta(days=6),
            created_at=created,
            expected_amount=Decimal("100000"),
            expected_close_date=datetime.date(2026, 11, 30),
        )
        _history(intention, [Stage.GRADED, Stage.CONTACTED, Stage.LEAD, Stage.INTENTION], created)
        signed = LeadFactory(
            owner=rep,
            stage=Stage.SIGNED,
            stage_entered_at=at(24),
            created_at=created,
            signed_amount=Decimal("100000.00"),
        )
        _history(signed, [Stage.GRADED, Stage.CONTACTED, Stage.LEAD, Stage.INTENTION], created)
        StageChangeFactory(lead=signed, from_stage=Stage.INTENTION, to_stage=Stage.SIGNED, changed_at=at(24))
        inside = LeadFactory(owner=rep, stage=Stage.ABANDONED, lost_reason="refused", created_at=created)
        _history(inside, [Stage.GRADED], created)
        StageChangeFactory(
            lead=inside, from_stage=Stage.GRADED, to_stage=Stage.ABANDONED, changed_at=at(23, 0, 30)
        )  # 00:30 Monday in Shanghai is still Sunday in UTC
        outside = LeadFactory(owner=rep, stage=Stage.ABANDONED, lost_reason="unreachable", created_at=created)
        _history(outside, [Stage.GRADED], created)
        StageChangeFactory(lead=outside, from_stage=Stage.GRADED, to_stage=Stage.ABANDONED, changed_at=at(22, 23, 30))
    return {"intention": intention, "signed": signed}


@pytest.fixture
def review(world, manager):
    with time_machine.travel(NOW, tick=False):
        return weekly_review(review_scope(viewer=manager, week=WEEK))


def _row(review, user):
    return next(row for row in review["rows"] if row["rep"] == user)


def test_holdings_per_rep_and_in_total(review, rep, teammate):
    assert _row(review, rep)["stages"] == {
        "resource": 0,
        "graded": 0,
        "contacted": 3,
        "lead": 0,
        "intention": 1,
        "signed": 1,
    }
    assert _row(review, rep)["total"] == 5 and _row(review, teammate)["total"] == 0
    contacted = next(s for s in review["stage_totals"] if s["stage"] == "contacted")
    assert (contacted["count"], contacted["ideal"], contacted["ideal_team"]) == (3, 10, 30)  # 3 people in the team


def test_median_days_in_stage(review):
    medians = {m["stage"]: m["days"] for m in review["medians"]}
    assert medians["contacted"] == 4.0 and medians["intention"] == 6.0 and medians["signed"] == 1.1
    assert medians["resource"] is None


def test_move_rates_over_the_cohort(review):
    shares = {m["stage"]: (m["reached"], m["share"], m["ideal"]) for m in review["moves"]}
    assert shares["graded"] == (7, 1.0, 1.0)
    assert shares["contacted"] == (5, pytest.approx(5 / 7), 0.9)
    assert shares["lead"] == (2, pytest.approx(2 / 7), 0.5)
    assert shares["signed"] == (1, pytest.approx(1 / 7), 0.1)


def test_the_week_runs_monday_to_sunday_in_shanghai(review, rep):
    week = review["week"]
    assert (week["signings"], week["signed_amount"]) == (1, Decimal("100000.00"))
    assert week["abandoned"] == 1 and week["abandon_reasons"] == {"refused": 1}
    assert review["abandon_rate"] == pytest.approx(1 / 6)  # abandoned / (open at the end + abandoned)
    assert _row(review, rep)["signings"] == 1


def test_forecast_weights_the_amount_by_the_chance_to_sign(review, rep):
    # intention: ideal signed share 10% over intention 30% = 1/3 of 100,000
    assert _row(review, rep)["forecast"][0] == Decimal("33333.33")


def test_an_empty_team_shows_dashes_not_errors(client, director, other_team, world):
    UserFactory(username="lonely", role="rep", team=other_team)
    with time_machine.travel(NOW, tick=False):
        client.force_login(director)
        response = client.get(reverse("funnel:review"), {"team": other_team.pk, "week": WEEK})
    assert response.status_code == 200
    assert response.context["abandon_rate"] is None
    assert 'data-testid="kpi-abandon">—' in response.content.decode()


def test_week_over_week_comes_from_last_weeks_snapshot(world, manager, rep):
    with time_machine.travel(NOW, tick=False):
        weekly_snapshots_take(week=datetime.date(2026, 11, 16))
        snapshot = WeeklySnapshot.objects.get(rep=rep, week_start=datetime.date(2026, 11, 16))
        # At the end of W47 the signed lead was still at intention and the W48 abandon had not happened.
        assert snapshot.stage_counts == {"contacted": 3, "intention": 2, "graded": 1}
        assert (snapshot.abandoned, snapshot.signings) == (1, 0)
        data = weekly_review(review_scope(viewer=manager, week=WEEK))
    assert _row(data, rep)["change"] == 5 - 6


def test_targets_show_progress(world, manager, rep):
    Target.objects.create(
        rep=rep,
        period_start=datetime.date(2026, 11, 1),
        period_end=datetime.date(2026, 11, 30),
        signings=4,
        amount=Decimal("400000"),
    )
    with time_machine.travel(NOW, tick=False):
        data = weekly_review(review_scope(viewer=manager, week=WEEK))
    progress = data["targets"][0]
    assert (progress["signings"], progress["signings_share"], progress["amount_share"]) == (1, 0.25, 0.25)


def test_an_out_of_funnel_signing_is_an_exception(world, manager, rep):
    from crm.models import StageChange

    StageChange.objects.filter(to_stage=Stage.SIGNED).update(is_out_of_funnel=True)
    with time_machine.travel(NOW, tick=False):
        data = weekly_review(review_scope(viewer=manager, week=WEEK))
    assert any("漏斗外" in text for text in data["exceptions"])


def test_the_director_sees_the_company_from_the_rollups(world, director, rep):
    with time_machine.travel(NOW, tick=False):
        rollups_build()
        data = weekly_review(review_scope(viewer=director, week=WEEK))
    assert data["rolled_up"] is True
    assert _row(data, rep)["stages"]["contacted"] == 3
    assert {m["stage"]: m["days"] for m in data["medians"]}["contacted"] == 4.0
    assert {m["stage"]: m["reached"] for m in data["moves"]}["contacted"] == 5


@pytest.mark.parametrize(
    ("persona", "team_of"), [("rep", None), ("support", None), ("finance", None), ("manager", "other_team")]
)
def test_nobody_sees_figures_they_may_not(persona, team_of, request, other_team):
    viewer = request.getfixturevalue(persona)
    team_id = request.getfixturevalue(team_of).pk if team_of else None
    with pytest.raises(Http404):
        review_scope(viewer=viewer, team_id=team_id)


def test_a_manager_cannot_pick_another_teams_rep(manager, outsider):
    with pytest.raises(Http404):
        review_scope(viewer=manager, rep_id=str(outsider.pk))


def test_the_api_gives_the_same_figures(world, manager, other_manager, other_team):
    api = APIClient()
    api.force_authenticate(manager)
    with time_machine.travel(NOW, tick=False):
        body = api.get("/api/v1/reports/weekly-review/", {"week": WEEK}).json()
        assert api.get("/api/v1/reports/weekly-review/", {"team": other_team.pk}).status_code == 404
    assert body["week"] == WEEK and body["signings"] == 1 and body["signed_amount"] == "100000.00"
    assert body["abandon_reasons"] == {"refused": 1}


@pytest.mark.parametrize("size", [1, 4])
def test_the_page_query_count_does_not_grow_with_reps_or_leads(size, client, team, manager, django_assert_num_queries):
    for i in range(size):
        rep = UserFactory(username=f"r{size}-{i}", role="rep", team=team)
        for lead in LeadFactory.create_batch(size * 3, owner=rep, stage=Stage.CONTACTED):
            StageChangeFactory(lead=lead, to_stage=Stage.CONTACTED)
    client.force_login(manager)
    with django_assert_num_queries(18):  # the same 18 for one rep with 3 leads and four reps with 12 each
        assert client.get(reverse("funnel:review")).status_code == 200


def test_the_export_is_a_spreadsheet(client, world, manager):
    with time_machine.travel(NOW, tick=False):
        client.force_login(manager)
        response = client.get(reverse("funnel:review-export"), {"week": WEEK})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_monthly_conversion_counts_new_leads_and_signings_per_shanghai_month(world, manager, rep):
    from funnel.reports.figures import monthly_conversion

    LeadFactory(owner=rep, created_at=at(30, 23, 30, month=9))  # 23:30 on 30 Sep in Shanghai is still September
    rows = monthly_conversion([rep.pk], months=3, today=datetime.date(2026, 11, 25))
    assert [r["month"] for r in rows] == ["2026-09", "2026-10", "2026-11"]
    assert (rows[0]["new_leads"], rows[0]["signings"], rows[0]["conversion"]) == (1, 0, 0.0)
    assert (rows[1]["new_leads"], rows[1]["signings"]) == (7, 0)  # the world's leads, created on 26 Oct
    assert (rows[2]["signings"], rows[2]["conversion"]) == (1, None)  # no new lead in November: "—"


def test_monthly_conversion_through_the_api(world, manager, other_team):
    api = APIClient()
    api.force_authenticate(manager)
    with time_machine.travel(NOW, tick=False):
        body = api.get("/api/v1/reports/monthly-conversion/", {"months": 2}).json()
        assert api.get("/api/v1/reports/monthly-conversion/", {"team": other_team.pk}).status_code == 404
    assert body["months"][-1] == {"month": "2026-11", "new_leads": 0, "signings": 1, "conversion": None}


def test_funnel_by_stage_counts_the_teams_leads_in_funnel_order(world, manager, outsider, django_assert_num_queries):
    LeadFactory(owner=outsider, stage=Stage.CONTACTED)  # another team
    LeadFactory(owner=None, stage=Stage.CONTACTED)  # the pool belongs to no rep
    api = APIClient()
    api.force_authenticate(manager)
    with django_assert_num_queries(2):  # the team's people, one GROUP BY
        body = api.get("/api/v1/reports/funnel/").json()
    stages = {row["stage"]: row for row in body["stages"]}
    assert [row["stage"] for row in body["stages"]] == [
        "resource", "graded", "contacted", "lead", "intention", "signed", "implemented", "abandoned"
    ]  # fmt: skip
    assert {stage: row["count"] for stage, row in stages.items() if row["count"]} == {
        "contacted": 3,
        "intention": 1,
        "signed": 1,
        "abandoned": 2,
    }
    assert stages["intention"]["amount"] == "100000.00" and stages["resource"]["amount"] == "0.00"
    assert stages["contacted"]["label"] == "接触" and stages["contacted"]["ideal"] is not None


def test_the_company_funnel_and_conversion_count_the_pool_and_departed_reps(world, director, rep):
    departed = UserFactory(role="rep", is_active=False)
    api = APIClient()
    api.force_authenticate(director)
    with time_machine.travel(NOW, tick=False):
        LeadFactory(owner=None, stage=Stage.RESOURCE)
        LeadFactory(owner=departed, stage=Stage.RESOURCE)
        stages = {row["stage"]: row["count"] for row in api.get("/api/v1/reports/funnel/").json()["stages"]}
        months = api.get("/api/v1/reports/monthly-conversion/", {"months": 1}).json()["months"]
        team = {
            row["stage"]: row["count"]
            for row in api.get("/api/v1/reports/funnel/", {"team": rep.team_id}).json()["stages"]
        }
    assert stages["resource"] == 2 and stages["contacted"] == 3
    assert team["resource"] == 0  # a team's funnel is its reps' leads only
    assert months == [{"month": "2026-11", "new_leads": 2, "signings": 1, "conversion": 0.5}]


def test_funnel_by_stage_keeps_to_the_viewers_scope(world, manager, rep, other_team):
    api = APIClient()
    api.force_authenticate(manager)
    assert api.get("/api/v1/reports/funnel/", {"team": other_team.pk}).status_code == 404
    api.force_authenticate(rep)
    assert api.get("/api/v1/reports/funnel/").status_code == 404  # reps have no team report


def test_the_page_names_abandon_reasons_in_chinese(client, world, manager):
    with time_machine.travel(NOW, tick=False):
        client.force_login(manager)
        body = client.get(reverse("funnel:review"), {"week": WEEK}).content.decode()
    assert "<span>拒绝</span> <b>1</b>" in body
