"""The manager's Monday meeting in a real browser: the review page with its charts, then review mode."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.choices import Stage
from funnel.models import ReviewComment, Verdict
from funnel.services import leads_flag_cadence, review_agendas_build
from tests.factories import LeadFactory, VisitFactory

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def meeting(rep, teammate, manager):
    now = timezone.now()
    stale = LeadFactory(
        owner=rep,
        stage=Stage.LEAD,
        customer__name="杭州云启软件有限公司",
        last_progress_at=now - datetime.timedelta(days=45),
        last_activity_at=now,
    )
    busy = LeadFactory(owner=rep, stage=Stage.INTENTION, customer__name="苏州恒信精密机械有限公司")
    VisitFactory(lead=busy, occurred_at=now - datetime.timedelta(days=7), summary="演示了报表功能")
    LeadFactory.create_batch(4, owner=teammate, stage=Stage.CONTACTED)
    leads_flag_cadence()
    review_agendas_build(now=now + datetime.timedelta(days=7))  # next Monday's agenda covers this week
    review_agendas_build(now=now)
    return {"stale": stale, "busy": busy}


def test_the_review_page_shows_figures_and_charts(page, live_server, meeting, manager, rep):
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/review/")
    expect(page.get_by_role("heading", name="周会", exact=False).first).to_be_visible()
    expect(page.get_by_test_id("kpi-open")).to_have_text("6")
    expect(page.get_by_test_id("review-table")).to_contain_text(str(rep))
    page.wait_for_function("document.querySelector('#chart-funnel').width > 0")
    screenshot(page, "review")
    page.goto(f"{live_server.url}/review/?print=1")
    page.emulate_media(media="print")
    screenshot(page, "review-print")


def test_review_mode_steps_through_a_reps_leads(page, live_server, meeting, manager, rep):
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/review/")
    page.get_by_test_id(f"review-mode-{rep.pk}").click()
    expect(page.get_by_test_id("review-step")).to_contain_text("共 2 条")
    screenshot(page, "review-mode")
    page.get_by_label("评语").fill("下周约决策人面谈")
    page.get_by_test_id("save-comment").click()
    expect(page.get_by_text("评语已保存。")).to_be_visible()
    assert ReviewComment.objects.get().text == "下周约决策人面谈"
    if not page.get_by_test_id("verdict").count():
        page.get_by_test_id("next").click()
    page.get_by_test_id("verdict").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("继续推进").check()
    dialog.get_by_test_id("submit").click()
    expect(page.get_by_text("已记录定夺：继续推进。")).to_be_visible()
    assert Verdict.objects.get(lead=meeting["stale"]).decision == "push_on"
