from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms import HandoverForm, apply_service_errors
from ..services.pool import assignable_users


@login_required
@require_http_methods(["GET", "POST"])
def handover(request):
    if not request.user.manages_leads:
        raise Http404
    users = assignable_users(request.user).select_related("team").order_by("team__name", "username")
    form = HandoverForm(request.POST or None, users=users)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.rep_handover(
                from_user=data["from_user"], to_users=list(data["to_users"]), actor=request.user, reason=data["reason"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Handed over %(leads)d open leads and %(customers)d customers from %(rep)s.")
                % {"leads": result.leads, "customers": result.customers, "rep": data["from_user"]},
            )
            return redirect("funnel:handover")
    return render(request, "funnel/handover.html", {"form": form})
