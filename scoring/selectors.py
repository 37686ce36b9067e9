from dataclasses import dataclass

from django.db.models import QuerySet

from .choices import Criterion
from .models import ScoreRule, ScoringModel
from .services import closed_counts
from .services.training import ClosedCounts

RECENT_MODELS = 5


@dataclass(frozen=True)
class ModelStatus:
    """What the settings page says about the predictive model."""

    counts: ClosedCounts
    active: ScoringModel | None
    recent: list[ScoringModel]

    @property
    def points_only(self) -> bool:
        return self.active is None


def score_rule_list() -> list[ScoreRule]:
    """Return every score rule: active first, then in the order of what they look at (grade, source, ...)."""
    order = {criterion: i for i, criterion in enumerate(Criterion.values)}
    rules = ScoreRule.objects.all()
    return sorted(rules, key=lambda r: (not r.is_active, order.get(r.criterion, len(order)), r.pk))


def scoring_model_status() -> ModelStatus:
    """Return the closed-lead counts against the thresholds and the recent model versions (without their pickles)."""
    recent = list(ScoringModel.objects.defer("artifact").order_by("-version")[:RECENT_MODELS])
    active = next((m for m in recent if m.is_active), None)
    return ModelStatus(counts=closed_counts(), active=active, recent=recent)


def with_score_detail(leads: QuerySet) -> QuerySet:
    """Join each lead's stored score (breakdown, probability, factors) for templates/scoring/lead_score_panel.html."""
    return leads.select_related("score_detail")
