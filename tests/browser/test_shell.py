"""The page shell in a real browser: log in, my work, language switch, the lead page, 404s, log out."""

import re

import pytest
from playwright.sync_api import expect

from crm.choices import Stage
from tests.factories import LeadFactory

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rep_logs_in_sees_my_work_and_switches_language(page, live_server, rep):
    LeadFactory(owner=rep, stage=Stage.CONTACTED, customer__name="杭州云启软件有限公司", is_followup_overdue=True)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    screenshot(page, "login")
    log_in(page, live_server, "rep")
    expect(page.get_by_role("heading", name="我的工作")).to_be_visible()
    expect(page.get_by_test_id("flagged-total")).to_have_text("1")
    expect(page.get_by_text("杭州云启软件有限公司")).to_be_visible()
    screenshot(page, "my-work")
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    page.get_by_test_id("lang-zh-hans").click()
    expect(page.get_by_role("heading", name="我的工作")).to_be_visible()


def test_wrong_password_gets_a_readable_error(page, live_server, rep):
    log_in(page, live_server, "rep", password="wrong-password-123")
    expect(page.get_by_role("alert")).to_contain_text("用户名")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_rep_opens_own_lead_but_not_another_reps(page, live_server, rep, outsider):
    mine = LeadFactory(owner=rep, customer__name="宁波海曙贸易有限公司")
    theirs = LeadFactory(owner=outsider, customer__name="广州番禺电子有限公司")
    log_in(page, live_server, "rep")
    expect(page.get_by_role("heading", name="我的工作")).to_be_visible()
    page.goto(f"{live_server.url}/leads/{mine.pk}/")
    expect(page.get_by_role("heading", name="宁波海曙贸易有限公司")).to_be_visible()
    screenshot(page, "lead-detail")
    response = page.goto(f"{live_server.url}/leads/{theirs.pk}/")
    assert response.status == 404
    expect(page.get_by_text("广州番禺电子有限公司")).to_have_count(0)


def test_phone_sized_my_work_and_log_out(phone_page, live_server, rep):
    LeadFactory.create_batch(3, owner=rep, stage=Stage.LEAD)
    log_in(phone_page, live_server, "rep")
    expect(phone_page.get_by_role("heading", name="我的工作")).to_be_visible()
    screenshot(phone_page, "my-work-phone")
    phone_page.get_by_role("button", name="菜单").click()
    expect(phone_page.get_by_role("link", name="线索").first).to_be_visible()
    phone_page.locator(".user-menu summary").click()
    phone_page.get_by_test_id("logout").click()
    expect(phone_page).to_have_url(re.compile(r"/accounts/login/"))
