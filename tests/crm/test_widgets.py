"""QuickSelect writes the same markup as Django's Select, only faster."""

import re

import pytest
from django import forms
from django.test.html import parse_html

from crm.widgets import QuickSelect

CHOICES = [("", "---------"), ("a", "甲 & 乙"), ("分组", [("b", "<b>丙</b>"), ("c", "丁")])]


@pytest.mark.parametrize("value", [None, "a", "b"])
def test_the_markup_matches_djangos_select(value):
    attrs = {"id": "id_owner", "data-x": "1"}
    ours = QuickSelect(choices=CHOICES).render("owner", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("owner", value, attrs=attrs)
    assert parse_html(ours) == parse_html(django)  # the same elements, attributes and text
    assert "&lt;b&gt;丙&lt;/b&gt;" in ours and "甲 &amp; 乙" in ours  # labels are escaped


def test_the_lead_filter_uses_it_even_after_the_schema_was_built(client, director):
    client.force_login(director)
    assert client.get("/api/schema/").status_code == 200  # builds (and caches) the filters' fields
    body = client.get("/leads/", {"owner": "", "stage": "lead"}).content.decode()
    assert re.search(r'<select name="stage" id="id_stage"><option value="">[^<]*</option>', body)
    assert '<option value="lead" selected>' in body
