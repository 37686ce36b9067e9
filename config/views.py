from django.http import JsonResponse
from django.views.defaults import page_not_found

from accounts.audit import audit
from accounts.models import AuditEvent


def not_found(request, exception):
    """Answer JSON under /api/, the usual page elsewhere; a signed-in user's miss goes on the audit trail."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        audit(actor=user, action=AuditEvent.Action.ACCESS_DENIED, object_type="path", object_id=request.path[:50])
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
