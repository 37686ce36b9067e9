from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from crm.models import Customer

from .. import services
from ..forms import MergeForm, apply_service_errors

MERGE_ROLES = (Role.SUPPORT, Role.DIRECTOR, Role.ADMIN)


@login_required
@require_http_methods(["GET", "POST"])
def customer_merge(request):
    if request.user.role not in MERGE_ROLES and not request.user.is_superuser:
        raise Http404
    form = MergeForm(request.POST or None)
    candidates = []
    q = request.GET.get("q", "").strip()
    if q:
        candidates = Customer.objects.filter(name__icontains=q).select_related("owner").order_by("name_key", "pk")[:50]
    if request.method == "POST" and form.is_valid():
        try:
            kept = services.customer_merge(
                keep=form.cleaned_data["keep"], duplicate=form.cleaned_data["duplicate"], actor=request.user
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Merged into %s.") % kept.name)
            return redirect(f"{request.path}?q={kept.name}")
    return render(request, "funnel/customer_merge.html", {"form": form, "candidates": candidates, "q": q})
