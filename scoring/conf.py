"""Scoring settings, each with a default so the app runs before anyone sets them.

Read through these functions (not at import time) so tests can override settings.
"""

from django.conf import settings

DEFAULTS = {
    # Train a model only with this many closed leads, and at least this many won and lost.
    "SCORING_MIN_CLOSED": 200,
    "SCORING_MIN_PER_OUTCOME": 20,
    # Leads per chunk of the set-based jobs: one read, one compute, one write each.
    "SCORING_BATCH_SIZE": 5000,
    # Engagement: visits in this window count; the points halve every HALF_LIFE days without activity.
    "SCORING_ENGAGEMENT_WINDOW_DAYS": 30,
    "SCORING_ENGAGEMENT_HALF_LIFE_DAYS": 15,
    # Train on at most this many of the most recently closed leads (training time grows with rows).
    "SCORING_MAX_TRAIN_ROWS": 50000,
    "SCORING_CV_FOLDS": 5,
    # The sweep looks for visits logged this recently after a lead's last score; older misses are the nightly's.
    "SCORING_SWEEP_LOOKBACK_HOURS": 48,
    "SCORING_TOP_FACTORS": 5,
}


def setting(name: str):
    """Return a scoring setting from Django's settings, or its default."""
    return getattr(settings, name, DEFAULTS[name])
