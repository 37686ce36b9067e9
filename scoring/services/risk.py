"""The risk assessment of large deals (DOMAIN.md "Qualification"): pass or fail, then A-D by time and risk."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import Lead

from ..models import RiskAssessment

FACTORS = ("size_budget", "funding_credit", "fit", "competition", "strategic_value")
PASS_TOTAL = 15  # of 25: an average of 3 ("fair") on every factor
LOW_RISK_TOTAL = 20
QUICK_MONTHS = 3


def risk_class(*, total: int, weakest: int, months_to_close: int) -> str:
    """Return A-D: a fail (a total under 15 or any factor at 1) is D; else by risk and months to close."""
    if total < PASS_TOTAL or weakest <= 1:
        return RiskAssessment.RiskClass.D
    low_risk, quick = total >= LOW_RISK_TOTAL, months_to_close <= QUICK_MONTHS
    if low_risk and quick:
        return RiskAssessment.RiskClass.A
    if low_risk or quick:
        return RiskAssessment.RiskClass.B
    return RiskAssessment.RiskClass.C


@transaction.atomic
def lead_risk_assess(*, lead: Lead, actor, scores: dict[str, int], months_to_close: int) -> RiskAssessment:
    """Record (or redo) the lead's risk assessment and its class."""
    if not Lead.objects.editable_by(actor).filter(pk=lead.pk).exists():
        raise PermissionDenied
    errors = {f: _("Score it from 1 to 5.") for f in FACTORS if scores.get(f) not in (1, 2, 3, 4, 5)}
    if not 0 <= months_to_close <= 60:
        errors["months_to_close"] = _("Give the months to close (0-60).")
    if errors:
        raise ValidationError(errors)
    values = {f: scores[f] for f in FACTORS}
    total = sum(values.values())
    assessment, _created = RiskAssessment.objects.update_or_create(
        lead=lead,
        defaults={
            **values,
            "months_to_close": months_to_close,
            "total": total,
            "risk_class": risk_class(total=total, weakest=min(values.values()), months_to_close=months_to_close),
            "assessed_by": actor,
        },
    )
    return assessment
