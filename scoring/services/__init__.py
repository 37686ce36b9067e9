"""Scoring's services: the points rules, the win-probability model and the jobs that keep scores fresh."""

from .jobs import (
    customer_leads_rescore,
    lead_rescore,
    leads_rescore,
    leads_rescore_all,
    leads_rescore_stale,
    leads_stale_ids,
)
from .reading import lead_has_attributes
from .rules import rule_check, rules_active, score_rule_save, score_rule_set_active
from .training import closed_counts, model_active, scoring_model_train

__all__ = [
    "closed_counts",
    "customer_leads_rescore",
    "lead_has_attributes",
    "lead_rescore",
    "leads_rescore",
    "leads_rescore_all",
    "leads_rescore_stale",
    "leads_stale_ids",
    "model_active",
    "rule_check",
    "rules_active",
    "score_rule_save",
    "score_rule_set_active",
    "scoring_model_train",
]
