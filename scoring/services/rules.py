"""The explainable points score: admin-edited rules evaluated over a LeadFrame, column by column."""

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role
from crm.choices import CompanySize, Grade, Source, Stage, Tier

from ..choices import (
    FLAG_CRITERIA,
    NUMBER_CRITERIA,
    NUMERIC_OPERATORS,
    OPERATORS_FOR,
    Criterion,
    Operator,
)
from ..conf import setting
from ..models import POINTS_LIMIT, ScoreRule
from .inputs import LeadFrame

MAX_TIMELINE_MONTHS = 60
MAX_ENGAGEMENT_VISITS = 100
ATTRIBUTE_KEY = re.compile(r"^[\w.-]{1,100}$")
CODES_FOR = {
    Criterion.GRADE: Grade.values,
    Criterion.SOURCE: Source.values,
    Criterion.STAGE: Stage.values,
    Criterion.CUSTOMER_TIER: Tier.values,
    Criterion.CUSTOMER_SIZE: CompanySize.values,
}
TRUE_WORDS = {"true", "yes", "1", "是"}
FALSE_WORDS = {"false", "no", "0", "否"}


@dataclass(frozen=True)
class Rule:
    """A score rule ready to evaluate: its value parsed once for every lead."""

    pk: int
    name: str
    criterion: str
    operator: str
    value: str
    points: int
    attribute_key: str = ""

    @property
    def values(self) -> list[str]:
        return [v.strip() for v in self.value.split(",") if v.strip()]

    @property
    def number(self) -> float:
        try:
            return float(self.value)
        except ValueError:
            return math.nan


def rules_active() -> list[Rule]:
    """Return the active score rules, ready to evaluate."""
    return [
        Rule(
            pk=r.pk,
            name=r.name,
            criterion=r.criterion,
            operator=r.operator,
            value=r.value,
            points=r.points,
            attribute_key=r.attribute_key,
        )
        for r in ScoreRule.objects.filter(is_active=True).order_by("pk")
    ]


# --- evaluation ---------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _compare(column: np.ndarray, operator: str, number: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if operator == Operator.GT:
            return column > number
        if operator == Operator.GTE:
            return column >= number
        if operator == Operator.LT:
            return column < number
        if operator == Operator.LTE:
            return column <= number
        return column == number


def _as_number(value) -> float:
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _same(value, wanted: str) -> bool:
    """Compare an attribute value with a rule's text: numerically when both are numbers, else case-blind."""
    wanted = wanted.strip()
    if isinstance(value, bool):
        return wanted.casefold() in (TRUE_WORDS if value else FALSE_WORDS)
    number, wanted_number = _as_number(value), _as_number(wanted)
    if not (math.isnan(number) or math.isnan(wanted_number)):
        return number == wanted_number
    return str(value).strip().casefold() == wanted.casefold()


def _attribute_matches(value, rule: Rule) -> bool:
    if rule.operator == Operator.IS_SET:
        return value is not None
    if rule.operator == Operator.IS_NOT_SET:
        return value is None
    items = value if isinstance(value, list) else [value]
    if rule.operator == Operator.NE:
        return not any(_same(v, rule.value) for v in items if v is not None)
    if value is None:
        return False
    if rule.operator == Operator.EQ:
        return any(_same(v, rule.value) for v in items)
    if rule.operator == Operator.IN:
        return any(_same(v, wanted) for v in items for wanted in rule.values)
    numbers = np.array([_as_number(v) for v in items], dtype=np.float64)
    return bool(_compare(numbers, rule.operator, rule.number).any())


def _attribute_column_matches(column: np.ndarray, rule: Rule) -> np.ndarray:
    """Evaluate the rule once per distinct value: attribute columns repeat a handful of answers."""
    matches = np.zeros(len(column), dtype=bool)
    seen: dict = {}
    for i, value in enumerate(column.tolist()):
        try:
            key = (type(value), value)  # 1, 1.0 and True compare equal but match differently
            hit = seen.get(key)
            if hit is None:
                hit = seen[key] = _attribute_matches(value, rule)
        except TypeError:  # a list is not hashable
            hit = _attribute_matches(value, rule)
        matches[i] = hit
    return matches


def _category_matches(column: np.ndarray, rule: Rule) -> np.ndarray:
    if rule.operator == Operator.IS_SET:
        return column != ""
    if rule.operator == Operator.IS_NOT_SET:
        return column == ""
    if rule.operator == Operator.IN:
        return np.isin(column, rule.values)
    matches = column == rule.value.strip()
    return ~matches if rule.operator == Operator.NE else matches


def _rule_points(frame: LeadFrame, rule: Rule, *, today: date) -> np.ndarray:
    """Return the points the rule gives each lead of the frame."""
    c = frame.columns
    if rule.criterion == Criterion.ENGAGEMENT:
        # Full points at `value` visits in the window, halving every HALF_LIFE days since the last activity.
        target = max(int(rule.number) if not math.isnan(rule.number) else 1, 1)
        share = np.minimum(c["visits_recent"] / target, 1.0)
        half_life = setting("SCORING_ENGAGEMENT_HALF_LIFE_DAYS")
        decay = np.where(np.isnan(c["days_since_activity"]), 0.0, 0.5 ** (c["days_since_activity"].clip(0) / half_life))
        return np.rint(rule.points * share * decay).astype(np.int64)
    if rule.criterion == Criterion.TIMELINE:
        months = int(rule.number) if not math.isnan(rule.number) else 0
        horizon = (_add_months(today, months) - today).days
        with np.errstate(invalid="ignore"):
            matches = c["timeline_days"] <= horizon
    elif rule.criterion == Criterion.ATTRIBUTE:
        matches = _attribute_column_matches(frame.attribute(rule.attribute_key), rule)
    elif rule.criterion in FLAG_CRITERIA:
        matches = c[rule.criterion] if rule.operator != Operator.IS_NOT_SET else ~c[rule.criterion]
    elif rule.criterion in NUMBER_CRITERIA:
        column = c[rule.criterion]
        if rule.operator in (Operator.IS_SET, Operator.IS_NOT_SET):
            matches = np.isnan(column) == (rule.operator == Operator.IS_NOT_SET)
        else:
            matches = _compare(column, rule.operator, rule.number)
    else:
        matches = _category_matches(c[rule.criterion], rule)
    return np.where(matches, rule.points, 0).astype(np.int64)


def points_given(frame: LeadFrame, rules: list[Rule], *, today: date) -> np.ndarray:
    """Return the points each rule (column) gives each lead (row)."""
    if not rules:
        return np.zeros((len(frame), 0), dtype=np.int64)
    return np.column_stack([_rule_points(frame, rule, today=today) for rule in rules])


def points_total(given: np.ndarray) -> np.ndarray:
    """Return each lead's score: the rules' points added up and kept between 0 and 100."""
    return np.clip(given.sum(axis=1), 0, POINTS_LIMIT)


def breakdown_rows(given: np.ndarray, rules: list[Rule]) -> list[list[dict]]:
    """Return per lead the rules that gave it points: [{"rule", "name", "points"}]."""
    return [
        [{"rule": rules[j].pk, "name": rules[j].name, "points": int(row[j])} for j in np.flatnonzero(row)]
        for row in given
    ]


def points_compute(frame: LeadFrame, rules: list[Rule], *, today: date) -> tuple[np.ndarray, list[list[dict]]]:
    """Return each lead's points (the rules' sum clamped to 0-100) and its breakdown: the rules that gave points."""
    given = points_given(frame, rules, today=today)
    return points_total(given), breakdown_rows(given, rules)


# --- editing ------------------------------------------------------------------------------


def rule_check(rule: ScoreRule) -> None:
    """Refuse a rule whose condition does not fit what it looks at; normalize its value."""
    errors: dict[str, str] = {}
    rule.value = rule.value.strip()
    rule.attribute_key = rule.attribute_key.strip()
    criterion = rule.criterion
    allowed = OPERATORS_FOR.get(criterion)
    if allowed is None:
        raise ValidationError({"criterion": _("Choose what the rule looks at.")})
    if criterion == Criterion.ATTRIBUTE:
        key = rule.attribute_key.removeprefix("attributes.")
        if not ATTRIBUTE_KEY.match(key):
            errors["attribute_key"] = _("Give the attribute's key: letters, digits, _ . or - (e.g. industry).")
        rule.attribute_key = key
    else:
        rule.attribute_key = ""
    if not allowed:
        rule.operator = ""
    elif rule.operator not in allowed:
        errors["operator"] = _("This condition does not apply here; choose one of: %s.") % ", ".join(
            str(Operator(o).label) for o in allowed
        )
    if "operator" in errors:
        pass  # the value is judged against a condition that fits
    elif criterion in (Criterion.TIMELINE, Criterion.ENGAGEMENT):
        limit = MAX_TIMELINE_MONTHS if criterion == Criterion.TIMELINE else MAX_ENGAGEMENT_VISITS
        if not rule.value.isdigit() or not 1 <= int(rule.value) <= limit:
            errors["value"] = (
                _("Give the number of months (1-%d).") % limit
                if criterion == Criterion.TIMELINE
                else _("Give the number of visits that earns the full points (1-%d).") % limit
            )
    elif rule.operator in (Operator.IS_SET, Operator.IS_NOT_SET) or criterion in FLAG_CRITERIA:
        rule.value = ""
    elif not rule.value:
        errors["value"] = _("Give the value to compare with.")
    elif rule.operator in NUMERIC_OPERATORS or criterion in NUMBER_CRITERIA:
        try:
            Decimal(rule.value)
        except InvalidOperation:
            errors["value"] = _("Give a number.")
    elif criterion in CODES_FOR:
        codes = CODES_FOR[criterion]
        given = [v.strip() for v in rule.value.split(",")] if rule.operator == Operator.IN else [rule.value]
        unknown = [v for v in given if v not in codes]
        if unknown:
            errors["value"] = _("Unknown value %(values)s; use one of: %(codes)s.") % {
                "values": ", ".join(unknown),
                "codes": ", ".join(codes),
            }
    if rule.operator == Operator.IN and "value" not in errors:
        rule.value = ", ".join(v.strip() for v in rule.value.split(",") if v.strip())
    if errors:
        raise ValidationError(errors)


def _check_admin(actor) -> None:
    if actor.role != Role.ADMIN and not actor.is_superuser:
        raise PermissionDenied


def rescore_all_after_commit() -> None:
    """Enqueue a full re-score once the current transaction commits (rules changed)."""
    from ..tasks import leads_rescore_all_task  # tasks import the services

    transaction.on_commit(lambda: leads_rescore_all_task.delay(), robust=True)


@transaction.atomic
def score_rule_save(*, actor, data: dict, rule: ScoreRule | None = None) -> ScoreRule:
    """Create or change a score rule; every lead is re-scored after commit."""
    _check_admin(actor)
    rule = rule if rule is not None else ScoreRule()
    for name, value in data.items():
        setattr(rule, name, value)
    rule_check(rule)
    rule.full_clean()
    rule.save()
    rescore_all_after_commit()
    return rule


@transaction.atomic
def score_rule_set_active(*, actor, rule: ScoreRule, is_active: bool) -> ScoreRule:
    """Switch a rule on or off (rules are kept, not deleted, so old breakdowns still make sense)."""
    _check_admin(actor)
    if rule.is_active != is_active:
        rule.is_active = is_active
        rule.save(update_fields=["is_active", "updated_at"])
        rescore_all_after_commit()
    return rule
