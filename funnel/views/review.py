import io
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST
from openpyxl import Workbook

from accounts.models import Team
from crm.choices import Grade, LostReason, Source, Stage
from crm.models import Lead, Visit

from ..forms import ReviewCommentForm, TargetForm, VerdictForm
from ..models import ReviewAgenda, ReviewComment, Target
from ..reports.review import review_scope, weekly_review
from ..services.cadence import day_start
from .exports import safe_cell

PROBLEMS = {
    "followup_overdue": _lazy("Follow-up overdue"),
    "verdict_due": _lazy("Verdict due"),
    "slow": _lazy("Slow"),
}


def _week_choices(week) -> list[tuple[str, str]]:
    """Return the last 12 ISO weeks up to the one shown, newest first, for the week picker."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=i) for i in range(12)]
    if week not in weeks:
        weeks.append(week)
    return [(f"{w.isocalendar()[0]}-W{w.isocalendar()[1]:02d}", w.isoformat()) for w in weeks]


def _scope(request):
    params = request.GET
    return review_scope(
        viewer=request.user,
        team_id=params.get("team"),
        rep_id=params.get("rep"),
        week=params.get("week"),
        source=params.get("source", ""),
        grade=params.get("grade", ""),
    )


def _chart_data(review: dict) -> dict:
    return {
        "funnel": {
            "labels": [str(s["label"]) for s in review["stage_totals"]],
            "counts": [s["count"] for s in review["stage_totals"]],
            "ideal": [s["ideal_team"] for s in review["stage_totals"]],
        },
        "moves": {
            "labels": [str(m["label"]) for m in review["moves"]],
            "share": [round(m["share"] * 100, 1) if m["share"] is not None else None for m in review["moves"]],
            "ideal": [round(m["ideal"] * 100, 1) for m in review["moves"]],
        },
        "trends": {
            "labels": [t["week"][5:] for t in review["trends"]],
            "new_leads": [t["new_leads"] for t in review["trends"]],
            "signings": [t["signings"] for t in review["trends"]],
            "amount": [float(t["signed_amount"]) for t in review["trends"]],
        },
        "names": {
            "count": _("Open leads"),
            "ideal": _("Ideal holding"),
            "share": _("Reached (%)"),
            "ideal_share": _("Ideal (%)"),
            "new_leads": _("New leads"),
            "signings": _("Signings"),
            "amount": _("Signed amount"),
        },
    }


@login_required
def review(request):
    scope = _scope(request)
    data = weekly_review(scope)
    teams = list(Team.objects.order_by("name")) if request.user.sees_all else [scope.team]
    context = {
        **data,
        "teams": teams,
        "charts": _chart_data(data),
        "sources": Source.choices,
        "grades": Grade.choices,
        "weeks": _week_choices(scope.week),
        "abandon_reasons": [
            (LostReason(code).label if code in LostReason.values else "—", n)
            for code, n in data["week"]["abandon_reasons"].items()
        ],
    }
    return render(request, "funnel/review.html", context)


@login_required
def review_export(request):
    scope = _scope(request)
    data = weekly_review(scope)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Weekly review"))
    stages = [Stage(s).label for s in data["rows"][0]["stages"]] if data["rows"] else []
    sheet.append([_("Week"), scope.week_label])
    sheet.append([_("Rep"), *[str(s) for s in stages], _("Open leads"), _("Change"), _("Signings")])
    for row in data["rows"]:
        sheet.append(
            [safe_cell(str(row["rep"])), *row["stages"].values(), row["total"], row["change"], row["signings"]]
        )
    sheet.append([])
    sheet.append([_("Stage"), _("Reached (%)"), _("Ideal (%)")])
    for move in data["moves"]:
        sheet.append(
            [
                str(move["label"]),
                round(move["share"] * 100, 1) if move["share"] is not None else None,
                round(move["ideal"] * 100, 1),
            ]
        )
    sheet.append([])
    sheet.append([_("Exceptions")])
    for text in data["exceptions"]:
        sheet.append([safe_cell(text)])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="review-{scope.week_label}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def review_mode(request):
    """Step lead by lead through one rep's agenda: last week's work, problems, a comment, a verdict."""
    scope = _scope(request)
    if scope.rep is None:
        raise Http404
    agenda = ReviewAgenda.objects.filter(team_id=scope.rep.team_id, week_start=scope.week).first()
    items = next((item["leads"] for item in (agenda.items if agenda else []) if item["rep_id"] == scope.rep.pk), [])
    if not items:
        return render(request, "funnel/review_mode.html", {"scope": scope, "agenda": agenda, "item": None})
    index = min(max(int(request.GET.get("i", "0") or 0), 0), len(items) - 1)
    item = items[index]
    lead = get_object_or_404(Lead.objects.editable_by(request.user).select_related("customer"), pk=item["lead_id"])
    form = ReviewCommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ReviewComment.objects.create(
            lead=lead, manager=request.user, week_start=scope.week, text=form.cleaned_data["text"]
        )
        messages.success(request, _("Comment saved."))
        return redirect(f"{request.path}?{request.GET.urlencode()}")
    start = day_start(scope.week)
    context = {
        "scope": scope,
        "agenda": agenda,
        "item": item,
        "problems": [PROBLEMS.get(code, code) for code in item["problems"]],
        "lead": lead,
        "index": index,
        "count": len(items),
        "visits": Visit.objects.filter(
            lead=lead, occurred_at__gte=start - timedelta(days=7), occurred_at__lt=start
        ).select_related("author"),
        "comments": ReviewComment.objects.filter(lead=lead).select_related("manager")[:5],
        "form": form,
        "verdict_form": VerdictForm(),
        "base_query": request.GET.copy(),
    }
    return render(request, "funnel/review_mode.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def targets(request):
    scope = review_scope(viewer=request.user, team_id=request.GET.get("team"))
    form = TargetForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        target = form.save(commit=False)
        target.set_by = request.user
        try:
            target.full_clean()
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            target.save()
            messages.success(request, _("Target saved."))
            return redirect(f"{reverse('funnel:targets')}?{request.GET.urlencode()}")
    listed = (
        Target.objects.all()
        if scope.team is None
        else Target.objects.filter(Q(rep__in=scope.reps) | Q(team=scope.team))
    )
    context = {"form": form, "targets": listed.select_related("rep", "team")[:100], "scope": scope}
    return render(request, "funnel/targets.html", context)


@login_required
@require_POST
def target_delete(request, pk: int):
    scope = review_scope(viewer=request.user)
    target = get_object_or_404(Target, pk=pk)
    if not (
        request.user.sees_all or target.rep_id in scope.rep_ids or (scope.team and target.team_id == scope.team.pk)
    ):
        raise Http404
    target.delete()
    return redirect("funnel:targets")
