"""Outbound webhooks: events are recorded in the same transaction as the change and sent after commit."""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Callable
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.memo import TableMemo
from crm.models import Lead

from .models import Webhook, WebhookDelivery

TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-CRM-Signature"


def check_url(url: str) -> None:
    """Refuse URLs that are not http(s), and private or loopback addresses unless settings allow them."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": _("Only http and https URLs can receive webhooks.")})
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror:
        raise ValidationError({"url": _("The host name does not resolve.")}) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise ValidationError({"url": _("Private and loopback addresses cannot receive webhooks.")})


@transaction.atomic
def webhook_create(*, name: str, url: str, events: list[str]) -> Webhook:
    """Register a webhook with a fresh signing secret."""
    check_url(url)
    unknown = set(events) - set(Webhook.Event.values)
    if not events or unknown:
        raise ValidationError({"events": _("Choose at least one known event.")})
    hook = Webhook(name=name.strip(), url=url, events=events, secret=secrets.token_urlsafe(32))
    hook.full_clean()
    hook.save()
    return hook


def webhook_toggle(*, hook: Webhook) -> Webhook:
    """Pause an active hook or resume a paused one."""
    hook.is_active = not hook.is_active
    hook.save(update_fields=["is_active"])  # saved, not updated: the signal clears _active_hooks at once
    return hook


def lead_payload(lead: Lead) -> dict:
    """Return what a webhook is told about a lead."""
    return {
        "id": lead.pk,
        "customer": {"id": lead.customer_id, "name": lead.customer.name},
        "owner": lead.owner.username if lead.owner_id else None,
        "stage": lead.stage,
        "grade": lead.grade,
        "source": lead.source,
        "expected_amount": str(lead.expected_amount) if lead.expected_amount is not None else None,
        "signed_amount": str(lead.signed_amount) if lead.signed_amount is not None else None,
        "lost_reason": lead.lost_reason,
        "updated_at": lead.updated_at.isoformat() if lead.updated_at else None,
    }


_active_hooks = TableMemo(Webhook)


def webhook_emit(*, event: str, payload: Callable[[], dict]) -> int:
    """Record a delivery for every active hook on the event and send them after commit; return how many.

    The payload is built only when some hook listens: most changes have no hook, and building it
    reads the lead's customer and owner.
    """
    active = _active_hooks.get("active", lambda: list(Webhook.objects.filter(is_active=True)))
    hooks = [hook for hook in active if event in hook.events]
    if not hooks:
        return 0
    body = {"event": event, "sent_at": timezone.now().isoformat(), "data": payload()}
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event=event, payload=body) for hook in hooks
    )
    ids = [delivery.pk for delivery in deliveries]

    def enqueue() -> None:
        from .tasks import webhook_deliver_task  # tasks import this module

        for delivery_id in ids:
            webhook_deliver_task.delay(delivery_id)

    transaction.on_commit(enqueue, robust=True)  # a broker outage leaves them pending, not lost
    return len(ids)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeliveryFailed(Exception):
    """The other side did not take the event; the task retries with backoff."""


def webhook_deliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Post one delivery, signed; record the answer. Raise DeliveryFailed when it should be retried."""
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery  # a duplicate task after a success sends nothing
    hook = delivery.webhook
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    delivery.attempts += 1
    try:
        check_url(hook.url)
        response = requests.post(
            hook.url,
            data=body,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            headers={
                "Content-Type": "application/json",
                "X-CRM-Event": delivery.event,
                "X-CRM-Delivery": str(delivery.pk),
                SIGNATURE_HEADER: sign(hook.secret, body),
            },
        )
    except ValidationError as error:
        delivery.status, delivery.error = WebhookDelivery.Status.FAILED, " ".join(error.messages)[:500]
        delivery.save(update_fields=["status", "error", "attempts"])
        return delivery  # a refused address will not get better by retrying
    except requests.RequestException as error:
        delivery.error = str(error)[:500]
        delivery.save(update_fields=["error", "attempts"])
        raise DeliveryFailed(delivery.error) from error
    delivery.response_code = response.status_code
    if 200 <= response.status_code < 300:
        delivery.status, delivery.error, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, "", timezone.now()
        delivery.save(update_fields=["status", "error", "delivered_at", "response_code", "attempts"])
        return delivery
    delivery.error = f"HTTP {response.status_code}"
    delivery.save(update_fields=["error", "response_code", "attempts"])
    raise DeliveryFailed(delivery.error)


def webhook_give_up(*, delivery_id: int) -> None:
    """Mark a delivery failed after its last retry."""
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.FAILED
    )


@transaction.atomic
def webhook_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again as a new delivery."""
    copy = WebhookDelivery.objects.create(webhook=delivery.webhook, event=delivery.event, payload=delivery.payload)

    def enqueue() -> None:
        from .tasks import webhook_deliver_task

        webhook_deliver_task.delay(copy.pk)

    transaction.on_commit(enqueue, robust=True)
    return copy
