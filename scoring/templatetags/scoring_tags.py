"""Filters for the score panel: labels and values of a lead's top factors, without a query."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.choices import CompanySize, Credit, Grade, Source, Stage, Tier

from ..choices import Criterion, Operator
from ..conf import setting
from ..services.inputs import ATTRIBUTE_PREFIX
from ..services.reading import DECIDED_STAGES

register = template.Library()

FEATURE_LABELS = {
    "grade": _("Grade"),
    "source": _("Source"),
    "customer_tier": _("Customer tier"),
    "customer_size": _("Company size"),
    "customer_industry": _("Industry"),
    "customer_city": _("City"),
    "customer_credit": _("Credit"),
    "budget_known": _("Budget known"),
    "authority_known": _("Authority known"),
    "need_known": _("Need known"),
    "timeline_known": _("Timeline known"),
    "decision_maker_reached": _("Decision maker met in a visit"),
    "budget_amount": _("Budget amount"),
    "expected_amount": _("Expected amount"),
    "visits_total": _("Visits logged"),
}
VALUE_LABELS = {
    "grade": dict(Grade.choices),
    "source": dict(Source.choices),
    "stage": dict(Stage.choices),
    "customer_tier": dict(Tier.choices),
    "customer_size": dict(CompanySize.choices),
    "customer_credit": dict(Credit.choices),
}


@register.filter
def factor_label(feature: str) -> str:
    """Return the display name of a model input: a lead field's label, or an attribute's key."""
    if feature.startswith(ATTRIBUTE_PREFIX):
        return feature.removeprefix(ATTRIBUTE_PREFIX)
    return FEATURE_LABELS.get(feature, feature)


@register.filter
def factor_value(factor: dict) -> str:
    """Return the display form of the lead's value of a factor."""
    value = factor.get("value")
    if value is None or value == "":
        return _("unknown")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return VALUE_LABELS.get(factor.get("feature"), {}).get(value, value)


@register.filter
def percent(value: Decimal | float | None) -> str:
    """Return a probability as a whole percentage ("63%")."""
    if value is None:
        return "—"
    return f"{round(float(value) * 100)}%"


@register.filter
def outcome_known(lead) -> bool:
    """Return whether the lead is already won or lost (it gets no win probability)."""
    return lead.stage in DECIDED_STAGES


@register.filter
def rule_condition(rule) -> str:
    """Return a rule's condition in words, with codes shown by their labels."""
    if rule.criterion == Criterion.TIMELINE:
        return gettext("within %(months)s months") % {"months": rule.value}
    if rule.criterion == Criterion.ENGAGEMENT:
        return gettext("full points at %(visits)s visits, halved every %(days)s days without activity") % {
            "visits": rule.value,
            "days": setting("SCORING_ENGAGEMENT_HALF_LIFE_DAYS"),
        }
    operator = str(Operator(rule.operator).label) if rule.operator else ""
    if not rule.value:
        return operator
    labels = VALUE_LABELS.get(rule.criterion, {})
    values = [v.strip() for v in rule.value.split(",")] if rule.operator == Operator.IN else [rule.value]
    return f"{operator} {', '.join(str(labels.get(v, v)) for v in values)}"
