from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..reports.figures import funnel_by_stage, monthly_conversion
from ..reports.review import review_scope, weekly_review

# Every report's scope, checked by review_scope: a manager's own team, any team or rep for a director.
SCOPE_PARAMETERS = [
    OpenApiParameter("team", int, description="Team id (managers: their own team only)"),
    OpenApiParameter("rep", int, description="One rep of the scope"),
]


def _money(value) -> str:
    return f"{value:.2f}"


def _lead_ref(lead) -> dict:
    return {"id": lead.pk, "customer": lead.customer.name, "owner_id": lead.owner_id, "stage": lead.stage}


def review_as_json(data: dict) -> dict:
    """Return the weekly review's figures as plain JSON (money as decimal strings)."""
    scope = data["scope"]
    return {
        "week": scope.week_label,
        "team": scope.team.pk if scope.team else None,
        "rep": scope.rep.pk if scope.rep else None,
        "as_of": data["as_of"].isoformat(),
        "reps": [
            {
                "id": row["rep"].pk,
                "name": str(row["rep"]),
                "stages": row["stages"],
                "open": row["total"],
                "change_vs_last_week": row["change"],
                "signings": row["signings"],
                "forecast_this_month": _money(row["forecast"][0]),
                "forecast_next_month": _money(row["forecast"][1]),
                "exceptions": row["exceptions"],
            }
            for row in data["rows"]
        ],
        "stage_totals": [{k: v for k, v in s.items() if k != "label"} for s in data["stage_totals"]],
        "median_days_in_stage": [
            {"stage": m["stage"], "days": m["days"], "ideal": m["ideal"]} for m in data["medians"]
        ],
        "move_rates": [{k: v for k, v in m.items() if k != "label"} for m in data["moves"]],
        "signings": data["week"]["signings"],
        "signed_amount": _money(data["week"]["signed_amount"]),
        "out_of_funnel_signings": data["week"]["out_of_funnel"],
        "abandoned": data["week"]["abandoned"],
        "abandon_reasons": data["week"]["abandon_reasons"],
        "abandon_rate": data["abandon_rate"],
        "followup_overdue": {
            "count": data["flagged"]["followup_count"],
            "first": [_lead_ref(lead) for lead in data["flagged"]["followup"]],
        },
        "verdict_due": {
            "count": data["flagged"]["verdict_count"],
            "first": [_lead_ref(lead) for lead in data["flagged"]["verdict"]],
        },
        "trends": [{**t, "signed_amount": _money(t["signed_amount"])} for t in data["trends"]],
        "targets": [
            {
                "rep": t["target"].rep_id,
                "team": t["target"].team_id,
                "from": t["target"].period_start.isoformat(),
                "to": t["target"].period_end.isoformat(),
                "signings_target": t["target"].signings,
                "amount_target": _money(t["target"].amount),
                "signings": t["signings"],
                "amount": _money(t["amount"]),
            }
            for t in data["targets"]
        ],
        "exceptions": data["exceptions"],
    }


class WeeklyReviewView(APIView):
    """The weekly review's figures for BI tools, with the same visibility as the page."""

    @extend_schema(
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("week", str, description="ISO week, e.g. 2026-W48 (default: this week)"),
            OpenApiParameter("source", str),
            OpenApiParameter("grade", str),
        ],
        responses=inline_serializer(
            "WeeklyReview",
            {
                "week": serializers.CharField(),
                "reps": serializers.ListField(),
                "stage_totals": serializers.ListField(),
                "move_rates": serializers.ListField(),
                "exceptions": serializers.ListField(),
            },
        ),
    )
    def get(self, request):
        params = request.query_params
        scope = review_scope(
            viewer=request.user,
            team_id=params.get("team"),
            rep_id=params.get("rep"),
            week=params.get("week"),
            source=params.get("source", ""),
            grade=params.get("grade", ""),
        )
        return Response(review_as_json(weekly_review(scope)))


class MonthlyConversionView(APIView):
    """New leads, signings and conversion per month, with the same visibility as the weekly review."""

    @extend_schema(
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("months", int, description="How many months back, 1-24 (default 12)"),
        ],
        responses=inline_serializer(
            "MonthlyConversion",
            {"months": serializers.ListField(child=serializers.DictField())},
        ),
    )
    def get(self, request):
        params = request.query_params
        scope = review_scope(viewer=request.user, team_id=params.get("team"), rep_id=params.get("rep"))
        months = params.get("months", "12")
        months = min(max(int(months), 1), 24) if months.isdigit() else 12
        rows = monthly_conversion(scope.owner_ids, months=months, today=timezone.localdate())
        return Response({"months": rows})


class FunnelByStageView(APIView):
    """Leads and expected amount per stage against the ideal holding, with the same visibility as the weekly review."""

    @extend_schema(
        parameters=SCOPE_PARAMETERS,
        responses=inline_serializer(
            "FunnelByStage",
            {
                "stages": inline_serializer(
                    "FunnelStage",
                    {
                        "stage": serializers.CharField(),
                        "label": serializers.CharField(),
                        "count": serializers.IntegerField(),
                        "amount": serializers.DecimalField(max_digits=16, decimal_places=2),
                        "ideal": serializers.IntegerField(allow_null=True),
                    },
                    many=True,
                )
            },
        ),
    )
    def get(self, request):
        params = request.query_params
        scope = review_scope(viewer=request.user, team_id=params.get("team"), rep_id=params.get("rep"))
        stages = funnel_by_stage(scope.owner_ids)
        return Response({"stages": [{**row, "amount": _money(row["amount"])} for row in stages]})
