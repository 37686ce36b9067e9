"""Finance in a real browser: confirm a payment a rep recorded, then read the aging and drill into a bucket."""

import datetime
import gc
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect, sync_playwright

from crm.models import Installment, Payment
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, log_in, page, screenshot  # noqa: F401

from .factories import ContractFactory, InstallmentFactory, PaymentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    """Chromium for this module: tests/browser's session browser when it already runs, else our own.

    Playwright's sync API allows one instance per thread, so a second copy of tests/browser's session
    fixture (imported here) would fail whenever both folders run in one session; ours ends with the module.
    """
    running = [o for o in gc.get_objects() if type(o) is Browser and o.is_connected()]  # type(): no lazy objects
    if running:
        yield running[0]
        return
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_finance_confirms_a_payment_and_sees_the_aging(page, live_server, rep, finance):  # noqa: F811
    today = timezone.localdate()
    contract = ContractFactory(owner=rep, amount=Decimal("150000.00"), lead__customer__name="苏州恒信精密机械有限公司")
    overdue = InstallmentFactory(
        contract=contract, number=1, amount=Decimal("50000.00"), due_on=today - datetime.timedelta(days=45)
    )
    InstallmentFactory(
        contract=contract, number=2, amount=Decimal("100000.00"), due_on=today + datetime.timedelta(days=30)
    )
    InstallmentFactory(
        contract__owner=rep,
        contract__amount=Decimal("8000.00"),
        contract__lead__customer__name="宁波海曙贸易有限公司",
        amount=Decimal("8000.00"),
        due_on=today - datetime.timedelta(days=100),
    )
    payment = PaymentFactory(
        installment=overdue, amount=Decimal("20000.00"), reference="ICBC-20260310", recorded_by=rep
    )

    log_in(page, live_server, "finance")
    page.get_by_test_id("nav-confirmations").click()
    row = page.get_by_test_id(f"payment-{payment.pk}")
    expect(row).to_contain_text("ICBC-20260310")
    expect(row).to_contain_text("¥20,000.00")
    screenshot(page, "receivables-confirmations")
    page.get_by_test_id(f"confirm-{payment.pk}").click()
    expect(page.locator(".message.success")).to_contain_text("20,000.00")
    expect(page.get_by_test_id(f"payment-{payment.pk}")).to_have_count(0)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CONFIRMED
    assert Installment.objects.get(pk=overdue.pk).paid_amount == Decimal("20000.00")

    page.get_by_test_id("nav-aging").click()
    expect(page.get_by_test_id("aging-chart")).to_be_visible()
    expect(page.get_by_test_id("aging-total")).to_contain_text("¥138,000")  # 30,000 + 100,000 + 8,000 unpaid
    expect(page.get_by_test_id("aging-overdue")).to_contain_text("¥38,000")
    screenshot(page, "receivables-aging")
    page.get_by_test_id("bar-over_90").click()
    table = page.get_by_test_id("receivables-table")
    expect(table).to_contain_text("宁波海曙贸易有限公司")
    expect(table).not_to_contain_text("苏州恒信精密机械有限公司")
    screenshot(page, "receivables-over-90")

    page.goto(f"{live_server.url}{contract.get_absolute_url()}")
    expect(page.get_by_test_id("contract-paid")).to_contain_text("¥20,000.00")
    expect(page.get_by_test_id("money-history")).to_contain_text("20000.00")
    screenshot(page, "contract-detail")
