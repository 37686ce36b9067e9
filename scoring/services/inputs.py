"""Score inputs of many leads at once, one numpy column per input, so rules and the model run set-based.

A LeadFrame comes from the database (reading.py reads one chunk of leads) or from plain records
(the backtest reads a CSV): both feed the same rules and the same model.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# Inputs by kind. Categories are strings ("" = unknown), flags booleans, numbers floats (NaN = unknown).
CATEGORY_FIELDS = (
    "grade",
    "source",
    "stage",
    "customer_tier",
    "customer_size",
    "customer_industry",
    "customer_city",
    "customer_credit",
)
FLAG_FIELDS = ("budget_known", "authority_known", "need_known", "timeline_known", "decision_maker_reached")
NUMBER_FIELDS = (
    "budget_amount",
    "expected_amount",
    "visits_total",
    "visits_recent",
    "days_since_activity",
    "timeline_days",
)
ATTRIBUTE_PREFIX = "attributes."


def is_missing(value) -> bool:
    """Return whether an attribute value means "not answered"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, (list, dict)) and not value


def flatten_attributes(attributes: Mapping | None, prefix: str = "") -> dict:
    """Return the attributes with nested objects flattened to dotted keys ({"a": {"b": 1}} -> {"a.b": 1})."""
    flat = {}
    for key, value in (attributes or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_attributes(value, prefix=f"{name}."))
        elif not is_missing(value):
            flat[name] = value
    return flat


def _number(value) -> float:
    if value is None or value == "":
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def object_column(values: Sequence) -> np.ndarray:
    """Return the values as a 1-d object array (lists stay single items)."""
    column = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        column[i] = value
    return column


def answered(value):
    """Return an attribute value as scoring sees it: None when unanswered or not a single answer (an object)."""
    return None if isinstance(value, Mapping) or is_missing(value) else value


@dataclass
class LeadFrame:
    """Columns of score inputs for n leads, and their intake attributes.

    Attributes come either whole (`attributes`: each lead's flattened dict, for training and the
    backtest) or as the columns a job needs (`attribute_columns`: key -> values, None = unanswered).
    """

    pk: np.ndarray
    columns: dict[str, np.ndarray]
    attributes: list[dict] | None = None
    attribute_columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pk)

    def attribute(self, key: str) -> np.ndarray:
        """Return every lead's value of one attribute (None where unanswered)."""
        column = self.attribute_columns.get(key)
        if column is None:
            rows = self.attributes if self.attributes is not None else [{}] * len(self)
            column = self.attribute_columns[key] = object_column([a.get(key) for a in rows])
        return column

    def attribute_keys(self) -> set[str]:
        """Return every attribute key some lead answered."""
        keys = set(self.attribute_columns)
        if self.attributes is not None:
            keys.update(k for a in self.attributes for k in a)
        return keys

    def take(self, index: np.ndarray | Sequence[int]) -> "LeadFrame":
        """Return the rows at the given positions."""
        index = np.asarray(index, dtype=np.intp)
        return LeadFrame(
            pk=self.pk[index],
            columns={name: column[index] for name, column in self.columns.items()},
            attributes=[self.attributes[i] for i in index] if self.attributes is not None else None,
            attribute_columns={key: column[index] for key, column in self.attribute_columns.items()},
        )

    @classmethod
    def concat(cls, frames: Iterable["LeadFrame"]) -> "LeadFrame":
        frames = list(frames)
        if not frames:
            return cls.from_records([])
        whole = all(f.attributes is not None for f in frames)
        keys = set().union(*(f.attribute_columns for f in frames))
        return cls(
            pk=np.concatenate([f.pk for f in frames]),
            columns={name: np.concatenate([f.columns[name] for f in frames]) for name in frames[0].columns},
            attributes=[a for f in frames for a in f.attributes] if whole else None,
            attribute_columns={key: np.concatenate([f.attribute(key) for f in frames]) for key in keys},
        )

    @classmethod
    def from_records(cls, records: Sequence[Mapping]) -> "LeadFrame":
        """Build a frame from dicts of input values; anything not given is unknown (a backtest gives attributes)."""
        n = len(records)
        columns: dict[str, np.ndarray] = {}
        for name in CATEGORY_FIELDS:
            columns[name] = np.array([str(r.get(name) or "") for r in records], dtype=object)
        for name in FLAG_FIELDS:
            columns[name] = np.array([bool(r.get(name)) for r in records], dtype=bool)
        for name in NUMBER_FIELDS:
            columns[name] = np.array([_number(r.get(name)) for r in records], dtype=np.float64)
        for name in ("visits_total", "visits_recent"):
            columns[name] = np.nan_to_num(columns[name], nan=0.0)
        pk = np.array([r.get("pk", i) for i, r in enumerate(records)], dtype=np.int64) if n else np.zeros(0, np.int64)
        return cls(pk=pk, columns=columns, attributes=[flatten_attributes(r.get("attributes")) for r in records])
