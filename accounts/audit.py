"""The audit trail: services and signal receivers call audit(); the request's address comes from a context var.

Only the named fields of an object are kept, never passwords, session ids, tokens or keys.
"""

from contextvars import ContextVar

from .models import AuditEvent

current_address: ContextVar[str | None] = ContextVar("current_address", default=None)


def audit(*, actor, action: str, obj=None, object_type: str = "", object_id="", before=None, after=None) -> AuditEvent:
    """Record one audit event (the address is the current request's, if any)."""
    return AuditEvent.objects.create(**_fields(actor, action, obj, object_type, object_id, before, after))


def audit_many(events: list[dict]) -> None:
    """Record many events at once (a handover of hundreds of leads is one INSERT per thousand)."""
    AuditEvent.objects.bulk_create([AuditEvent(**_fields(**event)) for event in events], batch_size=1000)


def _fields(actor, action, obj=None, object_type="", object_id="", before=None, after=None) -> dict:
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, obj.pk
    return {
        "actor": actor if getattr(actor, "is_authenticated", False) else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "before": before,
        "after": after,
        "address": current_address.get(),
    }


class AuditAddressMiddleware:
    """Remember the client's address for the audit events this request writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_address.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            current_address.reset(token)
