"""Webhooks over real HTTP to a local receiver: signed posts after commit, retries, refusals, replay."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.choices import Stage
from funnel.models import Webhook, WebhookDelivery
from funnel.services import lead_create, lead_transition
from funnel.webhooks import webhook_create, webhook_emit, webhook_replay
from tests.factories import LeadFactory


class Receiver:
    """A tiny HTTP server on loopback that records posts and answers with a chosen status."""

    def __init__(self, status: int = 200):
        self.status, self.requests = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


def test_a_new_lead_is_posted_signed_after_commit(receiver, rep, django_capture_on_commit_callbacks):
    hook = webhook_create(name="ERP", url=receiver.url, events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = lead_create(actor=rep, owner=rep, company="南京紫金软件有限公司", phone="13900000001")
    assert receiver.requests == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-CRM-Signature"] == expected and headers["X-CRM-Event"] == "lead.created"
    assert json.loads(body)["data"]["id"] == lead.pk
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_won_and_lost_are_announced_besides_the_stage_change(receiver, rep, django_capture_on_commit_callbacks):
    webhook_create(name="BI", url=receiver.url, events=["lead.won", "lead.lost"])
    signed = LeadFactory(owner=rep, stage=Stage.INTENTION)
    lost = LeadFactory(owner=rep, stage=Stage.CONTACTED)
    with django_capture_on_commit_callbacks(execute=True):
        lead_transition(
            lead=signed, to_stage=Stage.SIGNED, actor=rep, signed_amount=1000, signed_on=signed.created_at.date()
        )
        lead_transition(lead=lost, to_stage=Stage.ABANDONED, actor=rep, lost_reason="refused")
    events = [headers["X-CRM-Event"] for headers, _body in receiver.requests]
    assert events == ["lead.won", "lead.lost"]


def test_paused_hooks_and_other_events_get_nothing(receiver, rep, django_capture_on_commit_callbacks):
    webhook_create(name="ERP", url=receiver.url, events=["lead.won"])
    paused = webhook_create(name="Old", url=receiver.url, events=["lead.created"])
    Webhook.objects.filter(pk=paused.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(actor=rep, owner=rep, company="某公司", phone="13900000001")
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


@pytest.fixture
def eager_retries():
    """Let eager Celery run a task's retries in turn, as a worker would (without the waits)."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_a_failing_receiver_is_retried_then_marked_failed(
    receiver, rep, eager_retries, django_capture_on_commit_callbacks
):
    receiver.status = 500
    webhook_create(name="ERP", url=receiver.url, events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(actor=rep, owner=rep, company="某公司", phone="13900000001")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 7 and delivery.response_code == 500 and len(receiver.requests) == 7


def test_replay_sends_the_event_again(receiver, rep, django_capture_on_commit_callbacks):
    webhook_create(name="ERP", url=receiver.url, events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(actor=rep, owner=rep, company="某公司", phone="13900000001")
        webhook_replay(delivery=WebhookDelivery.objects.get())
    assert len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http://127.0.0.1:8000/hook", "http://10.1.2.3/hook", "http://[::1]/hook"]
)
def test_unsafe_urls_are_refused(url, db):
    with pytest.raises(ValidationError) as exc:
        webhook_create(name="x", url=url, events=["lead.created"])
    assert "url" in exc.value.message_dict
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("persona", ["rep", "manager", "director"])
def test_only_admins_see_the_webhooks_page(persona, client, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:webhooks")).status_code == 404


def test_the_admin_page_refuses_a_private_url_with_a_field_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("funnel:webhooks"), {"name": "x", "url": "http://192.168.1.5/", "events": ["lead.won"]}
    )
    assert "url" in response.context["form"].errors and not Webhook.objects.exists()


def test_a_paused_hook_gets_nothing_from_the_next_change_on(client, admin_user, rep, receiver):
    hook = webhook_create(name="ERP", url=receiver.url, events=["lead.created"])
    lead_create(actor=rep, owner=rep, company="南京紫金软件有限公司", phone="13900000001")  # remembers the hook
    assert WebhookDelivery.objects.count() == 1
    client.force_login(admin_user)
    client.post(reverse("funnel:webhook-toggle", args=[hook.pk]))
    assert Webhook.objects.get(pk=hook.pk).is_active is False
    lead_create(actor=rep, owner=rep, company="杭州西湖电子有限公司", phone="13900000002")
    assert WebhookDelivery.objects.count() == 1
    client.post(reverse("funnel:webhook-toggle", args=[hook.pk]))
    lead_create(actor=rep, owner=rep, company="宁波海曙贸易有限公司", phone="13900000003")
    assert WebhookDelivery.objects.count() == 2


def test_the_active_hooks_are_read_once_for_many_changes(db, receiver, django_assert_num_queries):
    webhook_create(name="ERP", url=receiver.url, events=["lead.won"])
    with django_assert_num_queries(1):
        assert webhook_emit(event="lead.created", payload=dict) == 0
    with django_assert_num_queries(0):
        assert webhook_emit(event="lead.created", payload=dict) == 0
