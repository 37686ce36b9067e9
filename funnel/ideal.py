"""The ideal state (理想状态) managers compare against (DOMAIN.md), overridable in settings.

Set FUNNEL_IDEAL in settings to a dict with any of the keys below to change them.
"""

from django.conf import settings

from crm.choices import Stage

DEFAULTS = {
    # Days a lead should take to move on from each stage to the next.
    "days_to_next": {
        Stage.RESOURCE: 1,
        Stage.GRADED: 1,
        Stage.CONTACTED: 5,
        Stage.LEAD: 5,
        Stage.INTENTION: 5,
        Stage.SIGNED: 5,
    },
    # Share of all resources that should reach each stage (so 10 of 100 resources sign).
    "reach_share": {
        Stage.GRADED: 1.0,
        Stage.CONTACTED: 0.9,
        Stage.LEAD: 0.5,
        Stage.INTENTION: 0.3,
        Stage.SIGNED: 0.1,
    },
    # Leads a rep should hold at once in each stage.
    "holding": {
        Stage.CONTACTED: 10,
        Stage.LEAD: 13,
        Stage.INTENTION: 7,
        Stage.SIGNED: 2,
    },
}


def ideal(key: str) -> dict:
    """Return one table of the ideal state, with the deployment's overrides applied."""
    overrides = getattr(settings, "FUNNEL_IDEAL", {}).get(key, {})
    return {**DEFAULTS[key], **overrides}
