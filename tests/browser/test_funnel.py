"""A rep's day in a real browser: log a visit, move leads, meet a refusal, claim from the pool; a manager reassigns."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.choices import Stage
from crm.models import Lead, Visit
from tests.factories import LeadFactory, VisitFactory

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _next_week() -> str:
    return (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def test_rep_logs_a_visit_from_the_board_in_three_clicks(page, live_server, rep):
    lead = LeadFactory(
        owner=rep, stage=Stage.CONTACTED, customer__name="苏州恒信精密机械有限公司", is_followup_overdue=True
    )
    log_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/board/")
    expect(page.get_by_test_id("count-contacted")).to_contain_text("1")
    screenshot(page, "board")
    page.get_by_test_id(f"log-visit-{lead.pk}").click()  # click 1
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_role("heading", name="记录拜访")).to_be_visible()
    dialog.get_by_label("概要").fill("电话沟通，客户想看演示")
    dialog.get_by_label("下一步", exact=True).fill("安排产品演示")
    dialog.get_by_label("下一步日期").fill(_next_week())
    screenshot(page, "visit-dialog")
    dialog.get_by_test_id("submit").click()  # click 2
    expect(page.get_by_text("已记录对 苏州恒信精密机械有限公司 的拜访")).to_be_visible()
    lead.refresh_from_db()
    assert Visit.objects.filter(lead=lead).count() == 1
    assert lead.next_step == "安排产品演示" and lead.is_followup_overdue is False


def test_visit_form_shows_field_errors_and_saves_nothing(page, live_server, rep):
    lead = LeadFactory(owner=rep, stage=Stage.CONTACTED)
    log_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("log-visit").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_test_id("submit").click()
    expect(dialog.get_by_text("该字段是必填项。")).to_be_visible()
    dialog.get_by_label("概要").fill("拜访了客户")
    dialog.get_by_test_id("submit").click()
    expect(dialog.get_by_text("继续跟进的拜访必须写明下一步。")).to_be_visible()
    screenshot(page, "visit-errors")
    assert not Visit.objects.exists()


def test_rep_moves_a_lead_forward_and_is_refused_an_illegal_move(page, live_server, rep):
    ready = LeadFactory(owner=rep, stage=Stage.CONTACTED, grade="A", customer__name="杭州云启软件有限公司")
    blocked = LeadFactory(owner=rep, stage=Stage.LEAD, grade="B", customer__name="宁波海曙贸易有限公司")
    log_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/board/")
    page.get_by_test_id(f"move-{ready.pk}").click()
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_role("heading", name="推进到线索")).to_be_visible()
    dialog.get_by_test_id("submit").click()
    expect(page.get_by_text("杭州云启软件有限公司 已进入线索阶段")).to_be_visible()
    assert Lead.objects.get(pk=ready.pk).stage == Stage.LEAD

    page.goto(f"{live_server.url}/leads/{blocked.pk}/")
    page.get_by_test_id("move-menu").click()
    expect(page.get_by_test_id("move-to-signed")).to_have_count(0)  # reps do not skip
    page.get_by_test_id("move-to-intention").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_test_id("submit").click()
    expect(dialog.get_by_role("alert")).to_contain_text("进入意向需要已知需求和决策权")
    screenshot(page, "move-refused")
    assert Lead.objects.get(pk=blocked.pk).stage == Stage.LEAD


def test_rep_abandons_with_a_reason(page, live_server, rep):
    lead = LeadFactory(owner=rep, stage=Stage.CONTACTED)
    log_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("move-menu").click()
    page.get_by_test_id("move-to-abandoned").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_test_id("submit").click()
    expect(dialog.get_by_text("请说明放弃的原因。")).to_be_visible()
    dialog.get_by_label("放弃原因").select_option("bought_elsewhere")
    dialog.get_by_test_id("submit").click()
    expect(page.get_by_text("已进入放弃阶段")).to_be_visible()
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == (Stage.ABANDONED, "bought_elsewhere")


def test_manager_reassigns_a_lead(page, live_server, manager, rep, teammate):
    lead = LeadFactory(owner=rep, stage=Stage.LEAD, customer__name="广州番禺电子有限公司")
    log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/board/?rep={rep.pk}")
    expect(page.get_by_test_id(f"card-{lead.pk}")).to_be_visible()
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.get_by_test_id("assign").click()
    page.get_by_label("分配给").select_option(str(teammate.pk))
    screenshot(page, "assign")
    page.get_by_test_id("submit").click()
    expect(page.get_by_text(f"广州番禺电子有限公司 现在由 {teammate} 负责")).to_be_visible()
    lead.refresh_from_db()
    assert lead.owner == teammate and lead.customer.owner == teammate


def test_rep_claims_from_the_pool(page, live_server, rep):
    lead = LeadFactory(owner=None, stage=Stage.RESOURCE, customer__name="天津滨海物流有限公司")
    log_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/pool/")
    screenshot(page, "pool")
    page.get_by_test_id(f"claim-{lead.pk}").click()
    expect(page.get_by_text("天津滨海物流有限公司 现在归你负责")).to_be_visible()
    assert Lead.objects.get(pk=lead.pk).owner == rep


def test_phone_board_and_visit_form(phone_page, live_server, rep):
    lead = LeadFactory(
        owner=rep, stage=Stage.LEAD, grade="A", next_step="发送报价单", next_step_date=timezone.localdate()
    )
    VisitFactory(lead=lead)
    LeadFactory.create_batch(3, owner=rep, stage=Stage.CONTACTED)
    log_in(phone_page, live_server, "rep")
    phone_page.goto(f"{live_server.url}/board/")
    expect(phone_page.get_by_test_id(f"card-{lead.pk}")).to_be_visible()
    screenshot(phone_page, "board-phone")
    phone_page.get_by_test_id(f"log-visit-{lead.pk}").tap()
    dialog = phone_page.locator("dialog[open]")
    expect(dialog.get_by_label("概要")).to_be_visible()
    box = dialog.get_by_test_id("submit").bounding_box()
    assert box["height"] >= 40  # a thumb-sized target
    screenshot(phone_page, "visit-dialog-phone")
    assert re.search(r"/board/", phone_page.url)
