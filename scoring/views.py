from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from crm.models import Lead

from . import selectors, services
from .forms import RiskAssessmentForm, ScoreRuleForm
from .models import ScoreRule
from .services.risk import lead_risk_assess
from .tasks import leads_rescore_all_task, scoring_model_train_task


def _admin_only(request) -> None:
    if request.user.role != Role.ADMIN and not request.user.is_superuser:
        raise Http404


def _save(request, form: ScoreRuleForm, rule: ScoreRule | None) -> ScoreRule | None:
    """Hand a valid form to the service; put its refusals on the form's fields."""
    if not form.is_valid():
        return None
    try:
        return services.score_rule_save(actor=request.user, data=form.cleaned_data, rule=rule)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def scoring_settings(request):
    _admin_only(request)
    form = ScoreRuleForm(request.POST or None)
    if request.method == "POST" and _save(request, form, None) is not None:
        messages.success(request, _("Rule added; every lead is being re-scored."))
        return redirect("scoring:settings")
    context = {
        "form": form,
        "rules": selectors.score_rule_list(),
        "status": selectors.scoring_model_status(),
    }
    return render(request, "scoring/settings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    _admin_only(request)
    rule = get_object_or_404(ScoreRule, pk=pk)
    form = ScoreRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and _save(request, form, rule) is not None:
        messages.success(request, _("Rule saved; every lead is being re-scored."))
        return redirect("scoring:settings")
    return render(request, "scoring/rule_edit.html", {"form": form, "rule": rule})


@login_required
@require_POST
def rule_toggle(request, pk: int):
    _admin_only(request)
    rule = get_object_or_404(ScoreRule, pk=pk)
    services.score_rule_set_active(actor=request.user, rule=rule, is_active=not rule.is_active)
    messages.success(request, _("Rule switched on.") if rule.is_active else _("Rule switched off."))
    return redirect("scoring:settings")


@login_required
@require_POST
def model_train(request):
    _admin_only(request)
    transaction.on_commit(lambda: scoring_model_train_task.delay(), robust=True)
    messages.success(request, _("Training started; the status below updates when it is done."))
    return redirect("scoring:settings")


@login_required
@require_POST
def rescore_all(request):
    _admin_only(request)
    transaction.on_commit(lambda: leads_rescore_all_task.delay(), robust=True)
    messages.success(request, _("Every lead is being re-scored."))
    return redirect("scoring:settings")


@login_required
@require_POST
def risk_assess(request, lead_id: int):
    """Record a large deal's risk assessment from the lead page."""
    lead = get_object_or_404(Lead.objects.editable_by(request.user), pk=lead_id)
    form = RiskAssessmentForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        months = data.pop("months_to_close")
        assessment = lead_risk_assess(lead=lead, actor=request.user, scores=data, months_to_close=months)
        messages.success(request, _("Risk assessed: class %s.") % assessment.risk_class)
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}")
    return redirect(lead.get_absolute_url() + "#risk")
