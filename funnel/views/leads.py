from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm import selectors as crm_selectors
from crm.choices import Stage
from crm.filters import LeadFilter
from crm.models import Lead
from crm.paging import visible_page

from .. import services
from ..forms import (
    ContactForm,
    LeadCreateForm,
    LeadEditForm,
    TransitionForm,
    VerdictForm,
    VisitForm,
    apply_service_errors,
)
from .common import done, safe_next

LEADS_PER_PAGE = 50


def _editable_lead(request, pk: int) -> Lead:
    """Return a lead the user may change; someone else's lead is a 404, never a 403."""
    return get_object_or_404(Lead.objects.editable_by(request.user).select_related("customer"), pk=pk)


@login_required
def lead_list(request):
    leads = LeadFilter(request.GET, queryset=crm_selectors.lead_rows(), user=request.user)  # visible_page limits it
    page = visible_page(leads.qs, user=request.user, per_page=LEADS_PER_PAGE, number=request.GET.get("page"))
    return render(request, "funnel/lead_list.html", {"filter": leads, "page": page})


@login_required
def lead_detail(request, pk: int):
    lead = crm_selectors.lead_detail(user=request.user, pk=pk)
    user = request.user
    can_edit = lead.is_editable
    context = {
        "lead": lead,
        "can_edit": can_edit,
        "moves": [(s, Stage(s).label) for s in services.moves_for(lead=lead, user=user)] if can_edit else [],
        "can_claim": lead.owner_id is None and (user.is_rep or user.is_manager),
        "can_assign": user.manages_leads and can_edit,
        "can_log_visit": can_edit or (lead.owner_id is None and user.works_leads),
        "contact_form": ContactForm(),
        # Large deals (or any already assessed) get the risk assessment of DOMAIN.md.
        "show_risk": hasattr(lead, "risk_assessment")
        or (lead.expected_amount or 0) >= settings.SCORING_LARGE_DEAL_AMOUNT,
    }
    return render(request, "funnel/lead_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request, pk: int):
    lead = _editable_lead(request, pk)
    form = LeadEditForm(request.POST or None, instance=lead)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(lead=lead, actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return done(request, lead.get_absolute_url())
    template = "funnel/partials/lead_edit_form.html" if request.htmx else "funnel/lead_edit.html"
    return render(request, template, {"lead": lead, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request, pk: int):
    lead = crm_selectors.lead_detail(user=request.user, pk=pk)
    form = VisitForm(request.POST or None, lead=lead)
    next_url = safe_next(request, lead.get_absolute_url())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_log(
                lead=lead,
                author=request.user,
                kind=data["kind"],
                outcome=data["outcome"],
                summary=data["summary"],
                next_step=data["next_step"],
                next_step_date=data["next_step_date"],
                contact=data["contact"],
                form_token=data["form_token"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Visit logged for %s.") % lead.customer.name)
            return done(request, next_url)
    template = "funnel/partials/visit_form.html" if request.htmx else "funnel/visit_new.html"
    return render(request, template, {"lead": lead, "form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def lead_move(request, pk: int):
    lead = _editable_lead(request, pk)
    next_url = safe_next(request, lead.get_absolute_url())
    form = TransitionForm(request.POST or None, initial={"to_stage": request.GET.get("to")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead = services.lead_transition(
                lead=lead,
                to_stage=data["to_stage"],
                actor=request.user,
                reason=data["reason"],
                lost_reason=data["lost_reason"],
                lost_note=data["lost_note"],
                signed_amount=data["signed_amount"],
                signed_on=data["signed_on"],
                implementation_accepted=data["implementation_accepted"],
                grade=data["grade"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s moved to %(stage)s.") % {"name": lead.customer.name, "stage": lead.get_stage_display()},
            )
            return done(request, next_url)
    to_stage = form.data.get("to_stage") or form.initial.get("to_stage") or ""
    if to_stage not in Stage.values:
        raise Http404
    context = {
        "lead": lead,
        "form": form,
        "to_stage": to_stage,
        "to_label": Stage(to_stage).label,
        "fields": form.visible_fields_for(to_stage),
        "next": next_url,
    }
    template = "funnel/partials/move_form.html" if request.htmx else "funnel/lead_move.html"
    return render(request, template, context)


@login_required
@require_POST
def contact_new(request, pk: int):
    lead = _editable_lead(request, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        services.contact_add(customer=lead.customer, actor=request.user, data=form.cleaned_data)
        messages.success(request, _("Contact added."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return done(request, lead.get_absolute_url() + "#contacts")


@login_required
@require_http_methods(["GET", "POST"])
def lead_new(request):
    if not request.user.works_leads and not request.user.is_support:
        raise Http404
    form = LeadCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner = request.user if request.user.is_rep or request.user.is_manager else None
        try:
            lead = services.lead_create(actor=request.user, owner=owner, **data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Lead created."))
            return done(request, lead.get_absolute_url())
    return render(request, "funnel/lead_new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def lead_verdict(request, pk: int):
    if not request.user.manages_leads:
        raise Http404
    lead = _editable_lead(request, pk)
    next_url = safe_next(request, lead.get_absolute_url())
    form = VerdictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            verdict = services.lead_verdict(lead=lead, manager=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Verdict recorded: %s.") % verdict.get_decision_display())
            return done(request, next_url)
    template = "funnel/partials/verdict_form.html" if request.htmx else "funnel/lead_verdict.html"
    return render(request, template, {"lead": lead, "form": form, "next": next_url})
