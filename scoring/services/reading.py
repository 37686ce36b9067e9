"""Read a chunk of leads' score inputs with a few set-based queries, into a LeadFrame (see inputs.py).

Customers and decision-maker contacts come from an Archive: looked up per chunk for a few leads,
or read once into arrays indexed by primary key for the full recompute (a join per chunk makes
PostgreSQL scan the whole customer table each time).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import numpy as np
from django.db.models import Count, Max, Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from crm.choices import BuyingRole, Stage
from crm.models import Contact, Customer, Lead, Visit

from ..conf import setting
from ..models import LeadScore
from .inputs import LeadFrame, answered, flatten_attributes, object_column

WON_STAGES = (Stage.SIGNED, Stage.IMPLEMENTED)
LOST_STAGES = (Stage.ABANDONED,)
DECIDED_STAGES = WON_STAGES + LOST_STAGES  # their outcome is known: training data, not predicted
LEAD_COLUMNS = (
    "pk",
    "customer_id",
    "grade",
    "source",
    "stage",
    "budget_known",
    "authority_known",
    "need_known",
    "budget_amount",
    "expected_amount",
    "timeline_date",
    "last_activity_at",
    # bookkeeping, not inputs
    "updated_at",
    "scored_at",
    "score",
)
CUSTOMER_COLUMNS = ("tier", "size", "industry", "city", "credit")
ARCHIVE_MAX_ID = 5_000_000  # arrays indexed by customer id take about 50 bytes an id; beyond, query per chunk


@cache
def lead_has_attributes() -> bool:
    """Return whether crm.Lead keeps intake attributes (a JSONField named `attributes`)."""
    return any(f.name == "attributes" and f.concrete for f in Lead._meta.get_fields())


@dataclass(frozen=True)
class Scope:
    """Which leads a chunk covers: a list of ids, or a primary-key range [low, high) for the full recompute."""

    ids: tuple[int, ...] | None = None
    low: int = 0
    high: int = 0

    def on(self, field: str) -> Q:
        if self.ids is not None:
            return Q(**{f"{field}__in": self.ids})
        return Q(**{f"{field}__gte": self.low, f"{field}__lt": self.high})


class Archive:
    """Customer fields and decision-maker contacts, looked up with one query per chunk (few leads)."""

    loaded_at: datetime | None = None  # a preloaded archive is as old as its load

    def customers(self, ids: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Return the customers' tier, size, industry, city and credit by column, and their updated_at (epoch)."""
        wanted = sorted(set(ids.tolist()))
        rows = Customer.objects.filter(pk__in=wanted).values_list("pk", *CUSTOMER_COLUMNS, "updated_at")
        found = {row[0]: row for row in rows}
        picked = [found.get(i, (i, "", "", "", "", "", None)) for i in ids.tolist()]
        columns = {name: object_column([row[k + 1] for row in picked]) for k, name in enumerate(CUSTOMER_COLUMNS)}
        return columns, _epoch([row[-1] for row in picked])

    def decision_makers(self, contact_ids: np.ndarray) -> np.ndarray:
        """Return whether each contact is a decision maker."""
        wanted = set(contact_ids.tolist())
        makers = set(
            Contact.objects.filter(pk__in=sorted(wanted), role=BuyingRole.DECISION_MAKER).values_list("pk", flat=True)
        )
        return np.array([c in makers for c in contact_ids.tolist()], dtype=bool)


class TableArchive(Archive):
    """The whole customer archive and every decision maker, read once in key order for a full recompute.

    Joining customers per chunk makes PostgreSQL scan the whole customer table for every chunk;
    arrays indexed by primary key turn the join into a numpy lookup.
    """

    def __init__(self):
        self.loaded_at = timezone.now()
        top = Customer.objects.aggregate(top=Max("pk"))["top"] or 0
        self.columns = {name: np.full(top + 1, "", dtype=object) for name in CUSTOMER_COLUMNS}
        self.updated = np.full(top + 1, math.nan)
        rows = Customer.objects.order_by().values_list("pk", *CUSTOMER_COLUMNS, "updated_at")
        for batch in _batched(rows.iterator(chunk_size=20_000), 20_000):
            ids = np.array([row[0] for row in batch], dtype=np.intp)
            for k, name in enumerate(CUSTOMER_COLUMNS):
                self.columns[name][ids] = [row[k + 1] for row in batch]
            self.updated[ids] = _epoch([row[-1] for row in batch])
        makers = np.array(
            Contact.objects.filter(role=BuyingRole.DECISION_MAKER).values_list("pk", flat=True), dtype=np.intp
        )
        self.makers = np.zeros((makers.max() + 1) if makers.size else 1, dtype=bool)
        self.makers[makers] = True

    @classmethod
    def fits(cls) -> bool:
        top = Customer.objects.aggregate(top=Max("pk"))["top"] or 0
        return top <= ARCHIVE_MAX_ID

    def customers(self, ids: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        ids = ids.astype(np.intp)
        inside = ids < len(self.updated)  # a customer created after the load
        if not inside.all():
            return super().customers(ids)
        return {name: column[ids] for name, column in self.columns.items()}, self.updated[ids]

    def decision_makers(self, contact_ids: np.ndarray) -> np.ndarray:
        contact_ids = contact_ids.astype(np.intp)
        known = contact_ids < len(self.makers)
        result = np.zeros(len(contact_ids), dtype=bool)
        result[known] = self.makers[contact_ids[known]]
        if not known.all():
            result[~known] = super().decision_makers(contact_ids[~known])
        return result


def _batched(iterable, size: int):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Chunk:
    """One chunk's inputs plus what the write needs: the stored score and whether the inputs moved since."""

    frame: LeadFrame
    undecided: np.ndarray  # not yet won or lost: gets a probability
    stale: np.ndarray  # inputs changed since the last score, or never scored
    stored_score: np.ndarray
    stored_rules_digest: np.ndarray
    stored_model_digest: np.ndarray


def _epoch(values) -> np.ndarray:
    return np.array([v.timestamp() if v is not None else math.nan for v in values], dtype=np.float64)


def _floats(values) -> np.ndarray:
    return np.array([float(v) if v is not None else math.nan for v in values], dtype=np.float64)


def _lead_rows(scope: Scope, attribute_keys: frozenset[str] | None) -> tuple[dict, dict[str, str]]:
    """Return the leads' columns by name, and which columns hold which extracted attribute."""
    columns = LEAD_COLUMNS
    leads = Lead.objects.filter(scope.on("pk")).order_by("pk")
    extract: dict[str, str] = {}
    if lead_has_attributes():
        if attribute_keys is None or any("." in key or "__" in key for key in attribute_keys):
            columns += ("attributes",)  # nested or odd keys: read whole and flatten
        else:
            extract = {f"attribute_{i}": key for i, key in enumerate(sorted(attribute_keys))}
            leads = leads.annotate(**{alias: KeyTransform(key, "attributes") for alias, key in extract.items()})
            columns += tuple(extract)
    rows = list(leads.values_list(*columns))
    by_column = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {c: () for c in columns}
    return by_column, extract


def chunk_read(
    scope: Scope, *, now: datetime, attribute_keys: frozenset[str] | None = None, archive: Archive | None = None
) -> Chunk:
    """Read the score inputs of the leads in scope: leads, their stored digests, their visits; customers by archive.

    With attribute_keys, only those attributes are read (the database extracts them); without, all of them.
    """
    archive = archive or Archive()
    by_column, extract = _lead_rows(scope, attribute_keys)
    ids = np.array(by_column["pk"], dtype=np.int64)
    n = len(ids)
    stored = np.zeros((n, 2), dtype=np.int64)
    has_score = np.zeros(n, dtype=bool)
    visits_total, visits_recent = np.zeros(n), np.zeros(n)
    last_visit, last_logged = np.full(n, math.nan), np.full(n, math.nan)
    decision_maker = np.zeros(n, dtype=bool)
    if n:
        digests = list(
            LeadScore.objects.filter(scope.on("lead_id"))
            .order_by("lead_id")
            .values_list("lead_id", "rules_digest", "model_digest")
        )
        if digests:
            table = np.array(digests, dtype=np.int64)
            at = np.searchsorted(ids, table[:, 0])
            stored[at], has_score[at] = table[:, 1:], True
        # Visits per lead: how many, how many recently, the last one, the last one logged.
        window_start = now - timedelta(days=setting("SCORING_ENGAGEMENT_WINDOW_DAYS"))
        visits = list(
            Visit.objects.filter(scope.on("lead_id"))
            .values("lead_id")
            .annotate(
                total=Count("pk"),
                recent=Count("pk", filter=Q(occurred_at__gte=window_start, occurred_at__lte=now)),
                last=Max("occurred_at"),
                logged=Max("created_at"),
            )
            .order_by("lead_id")
            .values_list("lead_id", "total", "recent", "last", "logged")
        )
        if visits:
            lead_id, total, recent, last, logged = zip(*visits, strict=True)
            at = np.searchsorted(ids, np.array(lead_id, dtype=np.int64))
            visits_total[at], visits_recent[at] = total, recent
            last_visit[at], last_logged[at] = _epoch(last), _epoch(logged)
        met = (
            Visit.objects.filter(scope.on("lead_id"), contact_id__isnull=False)
            .values_list("lead_id", "contact_id")
            .distinct()
            .order_by()
        )
        met = np.array(list(met), dtype=np.int64).reshape(-1, 2)
        if len(met):
            with_maker = met[archive.decision_makers(met[:, 1]), 0]
            decision_maker[np.searchsorted(ids, with_maker)] = True
    customer, customer_updated = archive.customers(np.array(by_column["customer_id"], dtype=np.int64))
    today = timezone.localdate(now)
    timeline = by_column["timeline_date"]
    activity = _epoch(by_column["last_activity_at"])
    last_touch = np.fmax(activity, last_visit)  # NaN only when both are unknown
    scored = _epoch(by_column["scored_at"])
    with np.errstate(invalid="ignore"):
        stale = (
            np.isnan(scored)
            | ~has_score
            | (_epoch(by_column["updated_at"]) > scored)
            | (activity > scored)
            | (customer_updated > scored)
            | (last_logged > scored)
        )
    columns = {
        "grade": np.array(by_column["grade"], dtype=object),
        "source": np.array(by_column["source"], dtype=object),
        "stage": np.array(by_column["stage"], dtype=object),
        **{f"customer_{name}": customer[name] for name in CUSTOMER_COLUMNS},
        "budget_known": np.array(by_column["budget_known"], dtype=bool),
        "authority_known": np.array(by_column["authority_known"], dtype=bool),
        "need_known": np.array(by_column["need_known"], dtype=bool),
        "timeline_known": np.array([d is not None for d in timeline], dtype=bool),
        "decision_maker_reached": decision_maker,
        "budget_amount": _floats(by_column["budget_amount"]),
        "expected_amount": _floats(by_column["expected_amount"]),
        "visits_total": visits_total,
        "visits_recent": visits_recent,
        "days_since_activity": (now.timestamp() - last_touch) / 86400,
        "timeline_days": np.array([(d - today).days if d is not None else math.nan for d in timeline]),
    }
    frame = LeadFrame(
        pk=ids,
        columns=columns,
        attributes=[flatten_attributes(a) for a in by_column["attributes"]] if "attributes" in by_column else None,
        attribute_columns={
            key: object_column([answered(v) for v in by_column[alias]]) for alias, key in extract.items()
        },
    )
    return Chunk(
        frame=frame,
        undecided=~np.isin(columns["stage"], DECIDED_STAGES),
        stale=stale,
        stored_score=np.array(by_column["score"], dtype=np.int64),
        stored_rules_digest=stored[:, 0],
        stored_model_digest=stored[:, 1],
    )
