from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.models import Lead

from .. import services
from ..forms import AssignForm, ReleaseForm, apply_service_errors
from ..services.pool import assignable_users
from .common import done, safe_next

POOL_PER_PAGE = 50


@login_required
def pool_list(request):
    cooling_since = timezone.now() - timedelta(days=settings.POOL_COOLDOWN_DAYS)
    leads = (
        Lead.objects.visible_to(request.user)
        .in_pool()
        .select_related("customer")
        .with_cooling(abandoned_after=cooling_since)
        .order_by("is_cooling", "-updated_at", "-pk")
    )
    q = request.GET.get("q", "").strip()
    if q:
        leads = leads.filter(Q(customer__name__icontains=q) | Q(customer__city__icontains=q))
    page = Paginator(leads, POOL_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "funnel/pool.html", {"page": page, "q": q, "cooldown_days": settings.POOL_COOLDOWN_DAYS})


@login_required
@require_POST
def lead_claim(request, pk: int):
    lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    try:
        services.lead_claim(lead=lead, rep=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(safe_next(request, lead.get_absolute_url()))
    messages.success(request, _("%s is yours now.") % lead.customer.name)
    return redirect(lead.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def lead_release(request, pk: int):
    lead = get_object_or_404(Lead.objects.editable_by(request.user).filter(owner__isnull=False), pk=pk)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_release(lead=lead, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("%s went back to the pool.") % lead.customer.name)
            return done(request, lead.get_absolute_url())
    return render(request, "funnel/lead_release.html", {"lead": lead, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def lead_assign(request, pk: int):
    if not request.user.manages_leads:
        raise Http404
    lead = get_object_or_404(Lead.objects.editable_by(request.user).select_related("customer", "owner"), pk=pk)
    users = assignable_users(request.user).select_related("team").order_by("team__name", "username")
    form = AssignForm(request.POST or None, users=users)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_assign(
                lead=lead,
                to_owner=form.cleaned_data["to_owner"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s now belongs to %(owner)s.")
                % {"name": lead.customer.name, "owner": form.cleaned_data["to_owner"]},
            )
            return done(request, lead.get_absolute_url())
    return render(request, "funnel/lead_assign.html", {"lead": lead, "form": form})
