import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from funnel.services import lead_update
from tests.factories import LeadFactory


def test_a_newly_known_element_is_dated_today_unless_told(rep):
    lead = LeadFactory(owner=rep)
    lead = lead_update(
        lead=lead,
        actor=rep,
        data={
            "need_known": True,
            "need_confidence": "high",
            "authority_known": True,
            "authority_learned_on": datetime.date(2026, 11, 1),
        },
    )
    assert lead.need_learned_on == timezone.localdate() and lead.need_confidence == "high"
    assert lead.authority_learned_on == datetime.date(2026, 11, 1)
    assert lead.bant_completeness == 2


def test_forgetting_an_element_clears_its_date(rep):
    lead = LeadFactory(owner=rep, need_known=True, need_learned_on=datetime.date(2026, 11, 1))
    lead = lead_update(lead=lead, actor=rep, data={"need_known": False})
    assert lead.need_learned_on is None and lead.bant_completeness == 0


def test_a_budget_amount_makes_the_budget_known(rep):
    lead = lead_update(lead=LeadFactory(owner=rep), actor=rep, data={"budget_amount": Decimal("500000")})
    assert lead.budget_known and lead.budget_learned_on == timezone.localdate()


def test_the_panel_shows_completeness_confidence_and_dates(client, rep):
    lead = LeadFactory(
        owner=rep,
        need_known=True,
        need_note="回款靠手工跟踪",
        need_confidence="medium",
        need_learned_on=datetime.date(2026, 11, 2),
        timeline_date=datetime.date(2027, 3, 1),
    )
    client.force_login(rep)
    body = client.get(lead.get_absolute_url()).content.decode()
    assert 'data-testid="bant-completeness">2/4' in body
    assert "回款靠手工跟踪" in body and "2026-11-02" in body and "2027-03-01" in body


def test_the_edit_form_takes_bant_detail(client, rep):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    client.post(
        reverse("funnel:lead-edit", args=[lead.pk]),
        {"source": "other", "authority_known": "on", "authority_note": "采购总监王总", "authority_confidence": "high"},
    )
    lead.refresh_from_db()
    assert (lead.authority_known, lead.authority_note, lead.authority_confidence) == (True, "采购总监王总", "high")
