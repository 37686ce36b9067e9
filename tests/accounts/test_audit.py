"""Each security-relevant action leaves exactly one audit record, and no secret reaches the trail or the logs."""

import logging

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Role
from accounts.services import token_create, token_revoke
from crm.choices import Stage
from funnel.services import lead_assign, lead_transition, rep_handover
from tests.factories import LeadFactory

PASSWORD = "correct-horse-battery"


def _events(action):
    return list(AuditEvent.objects.filter(action=action))


def test_a_login_is_recorded_with_the_address(client, rep):
    client.post(reverse("accounts:login"), {"username": "rep", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    [event] = _events("login")
    assert (event.actor, event.address) == (rep, "10.1.2.3")


def test_a_failed_login_keeps_the_name_but_never_the_password(client, rep, caplog):
    caplog.set_level(logging.DEBUG)
    client.post(reverse("accounts:login"), {"username": "rep", "password": "s3cret-guess-999"})
    [event] = _events("login_failed")
    assert event.object_id == "rep"
    trail = str(list(AuditEvent.objects.values()))
    assert "s3cret-guess-999" not in trail and "s3cret-guess-999" not in caplog.text


def test_tokens_are_recorded_without_their_secret(rep, caplog):
    caplog.set_level(logging.DEBUG)
    token, secret = token_create(user=rep)
    token_revoke(token=token)
    token_revoke(token=token)  # a second revoke changes nothing and records nothing
    assert len(_events("key_change")) == 2
    assert secret not in str(list(AuditEvent.objects.values())) and secret not in caplog.text


def test_an_assignment_records_one_event_per_lead_moved(manager, rep, teammate):
    lead = LeadFactory(owner=rep)
    LeadFactory(owner=rep, customer=lead.customer)  # the customer's other open lead moves too
    lead_assign(lead=lead, to_owner=teammate, actor=manager)
    events = _events("owner_change")
    assert len(events) == 2 and {e.after["owner"] for e in events} == {teammate.pk}


def test_a_handover_records_each_lead_and_customer(manager, rep, teammate):
    LeadFactory.create_batch(3, owner=rep)
    result = rep_handover(from_user=rep, to_users=[teammate], actor=manager)
    assert len(_events("owner_change")) == result.leads + result.customers == 6


def test_a_stage_move_is_recorded_once(rep):
    lead = LeadFactory(owner=rep, stage=Stage.CONTACTED, grade="A")
    lead_transition(lead=lead, to_stage=Stage.LEAD, actor=rep)
    [event] = _events("stage_change")
    assert (event.before, event.after["stage"], event.actor) == ({"stage": "contacted"}, "lead", rep)


def test_exports_are_recorded(client, rep):
    client.force_login(rep)
    b"".join(client.get(reverse("funnel:lead-export-csv"), {"stage": "lead"}).streaming_content)
    [event] = _events("export")
    assert event.after == {"format": "csv", "filters": {"stage": "lead"}}


def test_a_refused_object_is_recorded(client, rep, outsider):
    lead = LeadFactory(owner=outsider)
    client.force_login(rep)
    assert client.get(lead.get_absolute_url()).status_code == 404
    [event] = _events("access_denied")
    assert event.actor == rep and event.object_id == f"/leads/{lead.pk}/"


def test_role_and_team_changes_are_recorded(rep, other_team):
    AuditEvent.objects.all().delete()  # creating the persona was itself recorded
    rep.role, rep.team = Role.MANAGER, other_team
    rep.save()
    rep.save()  # saving unchanged records nothing more
    [event] = [e for e in _events("role_change") if e.object_id == str(rep.pk)]
    assert event.before["role"] == "rep" and event.after == {
        "role": "manager",
        "team_id": other_team.pk,
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
    }


@pytest.mark.parametrize(("persona", "status"), [("admin_user", 200), ("director", 302), ("rep", 302)])
def test_the_trail_is_listed_for_admins_with_filters(persona, status, client, request, rep):
    client.post(reverse("accounts:login"), {"username": "rep", "password": "nope-nope-nope"})
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/admin/accounts/auditevent/", {"action__exact": "login_failed"})
    assert response.status_code == status


def test_money_changes_reach_the_trail(rep, finance):
    from funnel.services.receivables_payments import payment_confirm, payment_record
    from tests.receivables.factories import InstallmentFactory

    installment = InstallmentFactory(contract__owner=rep)
    AuditEvent.objects.all().delete()
    payment = payment_record(
        installment=installment, actor=rep, amount=installment.amount, paid_on=installment.contract.signed_on
    )
    payment_confirm(payment=payment, actor=finance)
    events = _events("money_change")
    assert len(events) == 2 and {e.actor for e in events} == {rep, finance}
