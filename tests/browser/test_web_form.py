"""A real HTML form, as a marketing site would paste it, posts a lead through the browser."""

import pytest
from playwright.sync_api import expect

from accounts.services import intake_key_create
from crm.models import Lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pasted_html_form_posts_a_lead(page, live_server):
    _key, secret = intake_key_create(name="官网表单")
    endpoint = f"{live_server.url}/api/v1/intake/leads/"
    page.set_content(f"""
      <form action="{endpoint}" method="post">
        <input type="hidden" name="api_key" value="{secret}">
        <input name="company" placeholder="公司名称"><input name="phone" placeholder="手机或座机">
        <input name="attributes.industry" value="制造业"><button type="submit">提交</button>
      </form>""")
    page.fill("input[name=company]", "无锡华光机电有限公司")
    page.fill("input[name=phone]", "0510-85201234")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text('"status":"created"')
    lead = Lead.objects.select_related("customer").get()
    assert lead.customer.phone == "0510-85201234" and lead.attributes == {"industry": "制造业"}
