from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import IntakeKey, Role
from accounts.services import intake_key_create, intake_key_revoke

from ..forms import IntakeKeyForm, WebhookForm
from ..models import Webhook, WebhookDelivery
from ..webhooks import webhook_create, webhook_replay, webhook_toggle

DELIVERIES_SHOWN = 50


def _admin_only(request) -> None:
    if request.user.role != Role.ADMIN and not request.user.is_superuser:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def intake_keys(request):
    _admin_only(request)
    form = IntakeKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = intake_key_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            created = {"key": key, "secret": secret}
            form = IntakeKeyForm()
    context = {
        "form": form,
        "created": created,
        "keys": IntakeKey.objects.select_related("team"),
        "endpoint": request.build_absolute_uri(reverse("api:intake-leads")),
    }
    return render(request, "funnel/intake_keys.html", context)


@login_required
@require_POST
def intake_key_revoke_view(request, pk: int):
    _admin_only(request)
    intake_key_revoke(key=get_object_or_404(IntakeKey, pk=pk), actor=request.user)
    messages.success(request, _("Key revoked; its form can no longer post."))
    return redirect("funnel:intake-keys")


@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    _admin_only(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook = webhook_create(**form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Webhook “%s” added.") % hook.name)
            return redirect("funnel:webhooks")
    context = {
        "form": form,
        "hooks": Webhook.objects.all(),
        "deliveries": WebhookDelivery.objects.select_related("webhook")[:DELIVERIES_SHOWN],
    }
    return render(request, "funnel/webhooks.html", context)


@login_required
@require_POST
def webhook_toggle_view(request, pk: int):
    _admin_only(request)
    webhook_toggle(hook=get_object_or_404(Webhook, pk=pk))
    return redirect("funnel:webhooks")


@login_required
@require_POST
def webhook_replay_view(request, pk: int):
    _admin_only(request)
    webhook_replay(delivery=get_object_or_404(WebhookDelivery, pk=pk))
    messages.success(request, _("Sent again."))
    return redirect("funnel:webhooks")
