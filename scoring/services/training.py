"""Train the win-probability model from closed leads, version it, and load the active version."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from crm.models import Lead

from ..conf import setting
from ..models import ScoringModel
from .inputs import LeadFrame
from .model import WinModel, model_dumps, model_loads, model_train
from .reading import LOST_STAGES, WON_STAGES, Scope, chunk_read

logger = logging.getLogger(__name__)

KEEP_ARTIFACTS = 3  # older versions keep their figures but drop their pickled model

_loaded: dict[tuple, WinModel] = {}


def model_active() -> tuple[int, WinModel] | None:
    """Return the newest active model version and its fitted model, or None: then scores are points only."""
    found = (
        ScoringModel.objects.filter(is_active=True)
        .exclude(artifact=b"")
        .order_by("-version")
        .values_list("version", "trained_at")
        .first()
    )
    if found is None:
        return None
    if found not in _loaded:  # keyed with the training time too: a rebuilt database reuses numbers
        artifact = ScoringModel.objects.filter(version=found[0]).values_list("artifact", flat=True).get()
        _loaded.clear()  # one model in memory per process
        _loaded[found] = model_loads(bytes(artifact))
    return found[0], _loaded[found]


@dataclass(frozen=True)
class ClosedCounts:
    won: int
    lost: int
    min_closed: int
    min_per_outcome: int

    @property
    def enough(self) -> bool:
        return self.won + self.lost >= self.min_closed and min(self.won, self.lost) >= self.min_per_outcome


def closed_counts() -> ClosedCounts:
    """Return how many leads were won and lost, against the thresholds for training a model."""
    counts = Lead.objects.aggregate(
        won=Count("pk", filter=Q(stage__in=WON_STAGES)), lost=Count("pk", filter=Q(stage__in=LOST_STAGES))
    )
    return ClosedCounts(
        won=counts["won"],
        lost=counts["lost"],
        min_closed=setting("SCORING_MIN_CLOSED"),
        min_per_outcome=setting("SCORING_MIN_PER_OUTCOME"),
    )


def training_set(*, limit: int, now: datetime | None = None) -> tuple[LeadFrame, np.ndarray]:
    """Return the most recently closed leads (at most `limit`) as inputs and outcomes (won = 1)."""
    now = now or timezone.now()
    ids = list(
        Lead.objects.filter(stage__in=WON_STAGES + LOST_STAGES)
        .order_by(F("closed_at").desc(nulls_last=True), "-pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids.sort()
    size = setting("SCORING_BATCH_SIZE")
    frames = [
        chunk_read(Scope(ids=tuple(ids[start : start + size])), now=now).frame for start in range(0, len(ids), size)
    ]
    frame = LeadFrame.concat(frames)
    won = np.isin(frame.columns["stage"], WON_STAGES).astype(np.int64)
    return frame, won


def scoring_model_train(*, now: datetime | None = None) -> ScoringModel | None:
    """Train and store a new model version from closed leads; with too few, retire the models (points only)."""
    now = now or timezone.now()
    counts = closed_counts()
    if not counts.enough:
        retired = ScoringModel.objects.filter(is_active=True).update(is_active=False)
        logger.info("Scoring model not trained: %d won, %d lost (retired %d).", counts.won, counts.lost, retired)
        return None
    frame, won = training_set(limit=setting("SCORING_MAX_TRAIN_ROWS"), now=now)
    if min(int(won.sum()), len(won) - int(won.sum())) < counts.min_per_outcome:
        # The most recent closed leads are nearly all one outcome: keep the model there is.
        logger.warning("Scoring model not trained: the latest %d closed leads are nearly all one outcome.", len(won))
        return None
    started = time.monotonic()
    trained = model_train(frame, won, folds=setting("SCORING_CV_FOLDS"))
    artifact = model_dumps(trained.model)
    for _attempt in range(3):  # two trainings at once: the later one takes the next number
        version = (ScoringModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        try:
            with transaction.atomic():
                row = ScoringModel.objects.create(
                    version=version,
                    algorithm=trained.model.algorithm,
                    trained_at=now,
                    n_won=int(won.sum()),
                    n_lost=int(len(won) - won.sum()),
                    cv_auc=trained.cv_auc,
                    training_seconds=round(time.monotonic() - started, 2),
                    features=trained.model.builder.names,
                    artifact=artifact,
                )
                older = ScoringModel.objects.filter(version__lt=version).order_by("-version")
                stale = list(older.values_list("version", flat=True)[KEEP_ARTIFACTS - 1 :])
                ScoringModel.objects.filter(version__in=stale).update(artifact=b"")
        except IntegrityError:
            continue
        logger.info("Scoring model v%d trained: AUC %s on %d leads.", version, trained.cv_auc, len(won))
        return row
    raise IntegrityError("Could not number the new scoring model version.")
