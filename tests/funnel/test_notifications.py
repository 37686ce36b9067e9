from django.core import mail

from funnel.services import lead_assign, rep_handover
from tests.factories import LeadFactory


def test_assignment_emails_the_new_owner_after_commit(manager, rep, teammate, django_capture_on_commit_callbacks):
    teammate.email = "teammate@example.com"
    teammate.save()
    lead = LeadFactory(owner=rep, customer__name="南京紫金软件有限公司")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead_assign(lead=lead, to_owner=teammate, actor=manager, reason="调整客户")
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["teammate@example.com"]
    assert "南京紫金软件有限公司" in message.body and "调整客户" in message.body


def test_handover_sends_one_email_per_new_owner(manager, rep, teammate, django_capture_on_commit_callbacks):
    for user in (rep, teammate, manager):
        user.email = f"{user.username}@example.com"
        user.save()
    LeadFactory.create_batch(4, owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        rep_handover(from_user=rep, to_users=[teammate, manager], actor=manager)
    assert sorted(m.to[0] for m in mail.outbox) == ["teammate@example.com"]  # the manager acted: no self-mail
    assert mail.outbox[0].body.count("\n- ") == 2


def test_people_without_an_email_get_none(manager, rep, teammate, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        lead_assign(lead=lead, to_owner=teammate, actor=manager)
    assert mail.outbox == []
