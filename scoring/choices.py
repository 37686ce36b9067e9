from django.db import models
from django.utils.translation import gettext_lazy as _


class Criterion(models.TextChoices):
    """What a score rule looks at."""

    GRADE = "grade", _("Grade")
    SOURCE = "source", _("Source")
    STAGE = "stage", _("Stage")
    CUSTOMER_TIER = "customer_tier", _("Customer tier")
    CUSTOMER_SIZE = "customer_size", _("Company size")
    CUSTOMER_INDUSTRY = "customer_industry", _("Industry")
    BUDGET_KNOWN = "budget_known", _("Budget known")
    AUTHORITY_KNOWN = "authority_known", _("Authority known")
    NEED_KNOWN = "need_known", _("Need known")
    TIMELINE = "timeline", _("Purchase within N months")
    BUDGET_AMOUNT = "budget_amount", _("Budget amount")
    EXPECTED_AMOUNT = "expected_amount", _("Expected amount")
    DECISION_MAKER = "decision_maker_reached", _("Decision maker met in a visit")
    ENGAGEMENT = "engagement", _("Engagement: visits in the last 30 days")
    ATTRIBUTE = "attribute", _("Intake attribute")


class Operator(models.TextChoices):
    EQ = "eq", _("is")
    NE = "ne", _("is not")
    IN = "in", _("is one of")
    GT = "gt", _("more than")
    GTE = "gte", _("at least")
    LT = "lt", _("less than")
    LTE = "lte", _("at most")
    IS_SET = "is_set", _("is known (yes)")
    IS_NOT_SET = "is_not_set", _("is unknown (no)")


CATEGORY_CRITERIA = (
    Criterion.GRADE,
    Criterion.SOURCE,
    Criterion.STAGE,
    Criterion.CUSTOMER_TIER,
    Criterion.CUSTOMER_SIZE,
    Criterion.CUSTOMER_INDUSTRY,
)
FLAG_CRITERIA = (Criterion.BUDGET_KNOWN, Criterion.AUTHORITY_KNOWN, Criterion.NEED_KNOWN, Criterion.DECISION_MAKER)
NUMBER_CRITERIA = (Criterion.BUDGET_AMOUNT, Criterion.EXPECTED_AMOUNT)
NUMERIC_OPERATORS = (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE)
PRESENCE_OPERATORS = (Operator.IS_SET, Operator.IS_NOT_SET)

# Which operators make sense for each criterion; timeline and engagement take only a number.
OPERATORS_FOR = {
    **{c: (Operator.EQ, Operator.NE, Operator.IN, *PRESENCE_OPERATORS) for c in CATEGORY_CRITERIA},
    **{c: PRESENCE_OPERATORS for c in FLAG_CRITERIA},
    **{c: (Operator.EQ, *NUMERIC_OPERATORS, *PRESENCE_OPERATORS) for c in NUMBER_CRITERIA},
    Criterion.TIMELINE: (),
    Criterion.ENGAGEMENT: (),
    Criterion.ATTRIBUTE: tuple(Operator),
}
