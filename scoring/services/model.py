"""The win-probability model: one feature builder and one estimator, used by live scoring and the backtest alike.

Estimator: scikit-learn's GradientBoostingClassifier (300 trees of depth 3, learning rate 0.05,
row subsampling 0.8, half the columns per split) over one-hot categories (levels seen at least
MIN_LEVEL_COUNT times, the rest pooled as "other") and raw numbers (unknown = below every value).
On the X Education leads (leaky columns removed) its 5-fold ROC-AUC is about 0.90; naive Bayes
reaches about 0.87 and a logistic regression about 0.89.

Top factors are path contributions (Saabas, "treeinterpreter"): in each tree a lead's path from
the root to its leaf changes the expected log-odds at every split, and each change is credited
to the input split on. Per tree the credit of every leaf is tabulated once at training time, so
scoring looks up the leaves (`apply`) and adds rows: bias + the sum of all credits equals the
model's log-odds exactly, and the probability is computed from them. One-hot columns of one
input share that input's credit.

Only time-free inputs are used (no "days since", no "visits this month"): closed leads are
old, and a model trained on their clocks would learn "closed" rather than "won".
"""

import math
import pickle
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from .inputs import ATTRIBUTE_PREFIX, LeadFrame

MODEL_CATEGORIES = (
    "grade",
    "source",
    "customer_tier",
    "customer_size",
    "customer_industry",
    "customer_city",
    "customer_credit",
)
MODEL_FLAGS = ("budget_known", "authority_known", "need_known", "timeline_known", "decision_maker_reached")
MODEL_NUMBERS = ("budget_amount", "expected_amount", "visits_total")
MIN_LEVEL_COUNT = 10
OTHER = "__other__"
MIN_EFFECT = 0.01  # log-odds; smaller credits are not worth showing
ESTIMATOR_PARAMS = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "max_depth": 3,
    "subsample": 0.8,
    "min_samples_leaf": 20,  # at most; small training sets get smaller leaves (see _leaf_size)
    "max_features": 0.5,
    "random_state": 0,
}
ALGORITHM = "GradientBoostingClassifier(n_estimators=300, learning_rate=0.05, max_depth=3, subsample=0.8)"


def _category(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(sorted(str(v).strip() for v in value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(value) -> float:
    if value is None or isinstance(value, (bool, list, dict)):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


@dataclass
class _Input:
    """One input of the model: a lead field or a flattened attribute, as one or more matrix columns."""

    name: str
    kind: str  # "category", "flag" or "number"
    offset: int = 0
    levels: dict | None = None  # category level -> column (after offset); OTHER pools the rare ones
    fill: float = 0.0  # numbers: the stand-in for unknown, below every value seen

    @property
    def width(self) -> int:
        return len(self.levels) if self.kind == "category" else 1


class FeatureBuilder:
    """Turn a LeadFrame into a numeric matrix: lead fields and every attribute seen in training."""

    def fit(self, frame: LeadFrame) -> "FeatureBuilder":
        inputs: list[_Input] = []
        for name in MODEL_CATEGORIES:
            inputs.append(self._fit_category(name, frame.columns[name]))
        for name in MODEL_FLAGS:
            column = frame.columns[name]
            inputs.append(_Input(name, "flag") if column.any() and not column.all() else None)
        for name in MODEL_NUMBERS:
            inputs.append(self._fit_number(name, frame.columns[name]))
        for key in sorted(frame.attribute_keys()):
            values = frame.attribute(key).tolist()
            present = [v for v in values if v is not None]
            numeric = all(not math.isnan(_number(v)) for v in present)
            name = ATTRIBUTE_PREFIX + key
            if numeric:
                inputs.append(self._fit_number(name, np.array([_number(v) for v in values], dtype=np.float64)))
            else:
                inputs.append(self._fit_category(name, np.array([_category(v) for v in values], dtype=object)))
        self.inputs = [i for i in inputs if i is not None]  # constant inputs teach nothing
        offset = 0
        for item in self.inputs:
            item.offset, offset = offset, offset + item.width
        self.width = offset
        self.column_input = np.repeat(np.arange(len(self.inputs)), [i.width for i in self.inputs])
        return self

    @staticmethod
    def _fit_category(name: str, values: np.ndarray) -> _Input | None:
        counts = Counter(values.tolist())
        if len(counts) < 2:
            return None
        kept = sorted(level for level, n in counts.items() if n >= MIN_LEVEL_COUNT)
        if len(kept) < len(counts):
            kept.append(OTHER)
        return _Input(name, "category", levels={level: i for i, level in enumerate(kept)})

    @staticmethod
    def _fit_number(name: str, values: np.ndarray) -> _Input | None:
        known = values[~np.isnan(values)]
        if known.size == 0 or (known.min() == known.max() and known.size == values.size):
            return None
        return _Input(name, "number", fill=float(known.min()) - 1.0)

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]

    @property
    def attribute_keys(self) -> set[str]:
        """Return the attribute keys the model reads."""
        return {i.name.removeprefix(ATTRIBUTE_PREFIX) for i in self.inputs if i.name.startswith(ATTRIBUTE_PREFIX)}

    def values(self, frame: LeadFrame, item: _Input) -> np.ndarray:
        """Return the frame's raw values of one input (attributes looked up by key)."""
        if item.name.startswith(ATTRIBUTE_PREFIX):
            key = item.name.removeprefix(ATTRIBUTE_PREFIX)
            values = frame.attribute(key).tolist()
            if item.kind == "number":
                return np.array([_number(v) for v in values], dtype=np.float64)
            return np.array([_category(v) for v in values], dtype=object)
        return frame.columns[item.name]

    def transform(self, frame: LeadFrame) -> np.ndarray:
        matrix = np.zeros((len(frame), self.width), dtype=np.float32)
        rows = np.arange(len(frame))
        for item in self.inputs:
            values = self.values(frame, item)
            if item.kind == "category":
                other = item.levels.get(OTHER, -1)
                codes = np.array([item.levels.get(v, other) for v in values.tolist()], dtype=np.intp)
                hit = codes >= 0
                matrix[rows[hit], item.offset + codes[hit]] = 1.0
            elif item.kind == "flag":
                matrix[:, item.offset] = values
            else:
                matrix[:, item.offset] = np.where(np.isnan(values), item.fill, values)
        return matrix


def _leaf_credits(tree, column_input: np.ndarray, n_inputs: int, scale: float) -> tuple[np.ndarray, float]:
    """Return per node the credit, by input, of the path from the root to it; and the root's expected value."""
    t = tree.tree_
    left, right, feature = t.children_left, t.children_right, t.feature
    weight = t.weighted_n_node_samples
    value = t.value[:, 0, 0].astype(np.float64)
    # Leaves hold the boosted values; an inner node's value is the weighted mean of its children's.
    for node in range(t.node_count - 1, -1, -1):  # children always have higher ids than their parent
        if left[node] != -1:
            a, b = left[node], right[node]
            value[node] = (weight[a] * value[a] + weight[b] * value[b]) / (weight[a] + weight[b])
    credits = np.zeros((t.node_count, n_inputs), dtype=np.float32)
    for node in range(t.node_count):
        if left[node] != -1:
            column = column_input[feature[node]]
            for child in (left[node], right[node]):
                credits[child] = credits[node]
                credits[child, column] += scale * (value[child] - value[node])
    return credits, scale * value[0]


class WinModel:
    """A fitted feature builder and estimator, with the tables that explain each prediction."""

    algorithm = ALGORITHM

    def fit(self, frame: LeadFrame, won: np.ndarray) -> "WinModel":
        self.builder = FeatureBuilder().fit(frame)
        matrix = self.builder.transform(frame)
        params = {**ESTIMATOR_PARAMS, "min_samples_leaf": _leaf_size(len(won))}
        self.estimator = GradientBoostingClassifier(**params).fit(matrix, won)
        scale = self.estimator.learning_rate
        tables = [
            _leaf_credits(tree, self.builder.column_input, len(self.builder.inputs), scale)
            for tree in self.estimator.estimators_[:, 0]
        ]
        self.credits = [credits for credits, _root in tables]
        sample = matrix[:2000]
        # What no input explains: the initial log-odds plus every tree's expected value.
        self.bias = float(np.mean(self.estimator.decision_function(sample) - self._credit(sample).sum(axis=1)))
        return self

    def _credit(self, matrix: np.ndarray) -> np.ndarray:
        leaves = self.estimator.apply(matrix)[:, :, 0].astype(np.intp)
        credit = np.zeros((len(matrix), len(self.builder.inputs)), dtype=np.float64)
        for t, table in enumerate(self.credits):
            credit += table[leaves[:, t]]
        return credit

    def explain(self, frame: LeadFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return each lead's win probability and its log-odds credit by input (rows of the frame)."""
        return self.explain_matrix(self.builder.transform(frame))

    def explain_matrix(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the win probability and credit by input of rows already turned into features."""
        if not len(matrix):
            return np.zeros(0), np.zeros((0, len(self.builder.inputs)))
        credit = self._credit(matrix)
        log_odds = self.bias + credit.sum(axis=1)
        return 1.0 / (1.0 + np.exp(-log_odds)), credit

    def predict(self, frame: LeadFrame) -> np.ndarray:
        """Return each lead's win probability."""
        return self.explain(frame)[0]

    def top_factors(self, frame: LeadFrame, top: np.ndarray, effect: np.ndarray) -> list[list[dict]]:
        """Return per lead its top inputs (from top_credits) as [{"feature", "value", "effect"}], largest first."""
        inputs = self.builder.inputs
        raw = {j: self.builder.values(frame, inputs[j]) for j in np.unique(top[top >= 0]).tolist()}
        return [
            [
                {"feature": inputs[j].name, "value": _shown(raw[j][row], inputs[j].kind), "effect": e / 1000}
                for j, e in zip(columns, effects, strict=True)
                if j >= 0
            ]
            for row, (columns, effects) in enumerate(zip(top.tolist(), effect.tolist(), strict=True))
        ]


def top_credits(credit: np.ndarray, *, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Return per lead the inputs with the largest credit (-1 where too small to show) and the credit in 1/1000s."""
    if credit.shape[1] == 0:
        empty = np.zeros((len(credit), 0), dtype=np.int64)
        return empty, empty
    top = np.argsort(-np.abs(credit), axis=1, kind="stable")[:, :limit]
    chosen = np.take_along_axis(credit, top, axis=1)
    effect = np.rint(chosen * 1000).astype(np.int64)
    shown = np.abs(chosen) >= MIN_EFFECT
    return np.where(shown, top, -1), np.where(shown, effect, 0)


def _leaf_size(rows: int) -> int:
    """Return the smallest leaf: 20 leads from 1,000 training rows on, fewer below (200 rows -> 4)."""
    return min(ESTIMATOR_PARAMS["min_samples_leaf"], max(2, rows // 50))


def _shown(value, kind: str):
    """Return a JSON-ready form of an input's value for the panel."""
    if kind == "flag":
        return bool(value)
    if kind == "number":
        value = float(value)
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else round(value, 2)
    return str(value)


def model_fit(frame: LeadFrame, won: np.ndarray) -> WinModel:
    """Fit the production model on closed leads (won = 1, lost = 0)."""
    return WinModel().fit(frame, np.asarray(won, dtype=np.int64))


def model_cross_validate(frame: LeadFrame, won: np.ndarray, *, folds: int = 5) -> float:
    """Return the mean ROC-AUC of `folds`-fold stratified cross-validation of the production model."""
    won = np.asarray(won, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = []
    for train, test in splitter.split(np.zeros(len(won)), won):
        model = model_fit(frame.take(train), won[train])
        scores.append(roc_auc_score(won[test], model.predict(frame.take(test))))
    return float(np.mean(scores))


@dataclass(frozen=True)
class TrainedModel:
    model: WinModel
    cv_auc: float | None
    seconds: float


def model_train(frame: LeadFrame, won: np.ndarray, *, folds: int) -> TrainedModel:
    """Cross-validate, then fit on every row; return the model with its AUC and training time."""
    started = time.monotonic()
    cv_auc = model_cross_validate(frame, won, folds=folds) if folds >= 2 else None
    model = model_fit(frame, won)
    return TrainedModel(model=model, cv_auc=cv_auc, seconds=time.monotonic() - started)


def model_dumps(model: WinModel) -> bytes:
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def model_loads(data: bytes) -> WinModel:
    # Only this app's training job writes these bytes (ScoringModel.artifact is not editable anywhere).
    return pickle.loads(data)  # noqa: S301
