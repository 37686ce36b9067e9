"""Score jobs: one lead after its change, a sweep of stale leads, and the nightly full recompute.

Every job works the same way, chunk by chunk (SCORING_BATCH_SIZE leads): read the inputs with a few
set-based queries (reading.py), compute points, probability and factors in numpy, and write, in one
short transaction, only the rows whose score changed or whose inputs changed since they were scored.
Whether a score changed is decided on 64-bit digests (of the points, and of the model's inputs), so an
unchanged lead costs no JSON and no model run.
Scores are recomputed from source, so a job run twice, or two at once, ends in the same state:
a chunk skips leads locked by another transaction (no waiting, no deadlock), and a write never
replaces a score computed from newer data (the guard on scored_at).
"""

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from crm.models import Lead, Visit

from ..choices import Criterion
from ..conf import setting
from ..models import LeadScore
from .model import WinModel, top_credits
from .reading import Archive, Chunk, Scope, TableArchive, chunk_read
from .rules import Rule, breakdown_rows, points_given, points_total, rules_active
from .training import model_active

logger = logging.getLogger(__name__)

WRITE_ROWS = 1000  # rows per statement: SQLite allows 32,766 parameters, LeadScore takes 9 a row
PROBABILITY_UNITS = 10_000  # win_probability has 4 decimal places


@dataclass(frozen=True)
class Context:
    """What every chunk of one job shares: the time, the rules, the model, and the digests' salts."""

    now: datetime
    rules: list[Rule]
    model: tuple[int, WinModel] | None
    rules_salt: int
    model_salt: int
    attribute_keys: frozenset[str]  # what the rules and the model read

    @classmethod
    def load(cls, now: datetime | None = None) -> "Context":
        """Load the active rules and model once for a whole job."""
        rules, model = rules_active(), model_active()
        # Rule names show in breakdowns: renaming a rule changes every rules digest.
        rules_salt = _salt(("rules", [(r.pk, r.name) for r in rules]))
        model_salt = _salt(("model", model[0] if model else None))
        keys = {r.attribute_key for r in rules if r.criterion == Criterion.ATTRIBUTE}
        if model is not None:
            keys |= model[1].builder.attribute_keys
        return cls(
            now=now or timezone.now(),
            rules=rules,
            model=model,
            rules_salt=rules_salt,
            model_salt=model_salt,
            attribute_keys=frozenset(keys),
        )


def _salt(value) -> int:
    return int.from_bytes(hashlib.blake2b(repr(value).encode(), digest_size=8).digest(), "little")


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _digest(salt: int, *parts: np.ndarray) -> np.ndarray:
    """Return a 64-bit fingerprint per row of the given integer columns (a multiply-xorshift hash)."""
    n = len(parts[0])
    h = np.full(n, salt, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for part in parts:
            matrix = part.reshape(n, -1).astype(np.int64).view(np.uint64)
            for j in range(matrix.shape[1]):
                h = (h ^ matrix[:, j]) * _MIX
                h ^= h >> np.uint64(29)
    return h.view(np.int64)


def _chunk_score(chunk: Chunk, ctx: Context, *, read_at: datetime) -> int:
    """Compute the chunk's scores and write the rows that change or went stale; return how many were written."""
    writes = _chunk_compute(chunk, ctx)
    return _write(writes, scored_at=read_at) if writes else 0


def _chunk_compute(chunk: Chunk, ctx: Context) -> list[tuple]:
    """Return the score rows to write for the chunk: those that change or went stale.

    The model runs only for leads being written: its output depends on nothing but the version and the
    inputs, so a lead whose model digest is unchanged keeps its probability and factors.
    """
    frame = chunk.frame
    n = len(frame)
    if not n:
        return []
    given = points_given(frame, ctx.rules, today=timezone.localdate(ctx.now))
    points = points_total(given)
    rules_digest = _digest(ctx.rules_salt, points, given)
    model_digest = np.zeros(n, dtype=np.int64)
    undecided = np.flatnonzero(chunk.undecided) if ctx.model is not None else np.zeros(0, dtype=np.intp)
    if undecided.size:
        model = ctx.model[1]
        matrix = model.builder.transform(frame.take(undecided))
        model_digest[undecided] = _digest(ctx.model_salt, matrix.view(np.uint32))
    rows = np.flatnonzero(
        chunk.stale
        | (rules_digest != chunk.stored_rules_digest)
        | (model_digest != chunk.stored_model_digest)
        | (points != chunk.stored_score)
    )
    if not rows.size:
        return []
    probability: list[Decimal | None] = [None] * len(rows)
    factors: list[list] = [[] for _ in rows]
    if undecided.size:
        in_matrix = np.full(n, -1, dtype=np.intp)
        in_matrix[undecided] = np.arange(undecided.size)
        positions = in_matrix[rows]
        scored = np.flatnonzero(positions >= 0)  # written rows that get a probability
        if scored.size:
            p, credit = model.explain_matrix(matrix[positions[scored]])
            top, effect = top_credits(credit, limit=setting("SCORING_TOP_FACTORS"))
            listed = model.top_factors(frame.take(rows[scored]), top, effect)
            units = np.rint(p * PROBABILITY_UNITS).astype(np.int64).tolist()
            for k, u, factor_list in zip(scored.tolist(), units, listed, strict=True):
                probability[k], factors[k] = Decimal(u).scaleb(-4), factor_list
    version = ctx.model[0] if ctx.model is not None else None
    breakdown = breakdown_rows(given[rows], ctx.rules)
    writes = [
        (
            int(frame.pk[row]),
            int(points[row]),
            breakdown[k],
            version if probability[k] is not None else None,
            probability[k],
            factors[k],
            int(rules_digest[row]),
            int(model_digest[row]),
        )
        for k, row in enumerate(rows.tolist())
    ]
    return writes


def _lead_update_sql(rows: int) -> str:
    """Return one UPDATE of `rows` leads' scores from a VALUES list, guarded against older reads.

    Identifiers come from the models' meta, every value is a query parameter.
    """
    table = connection.ops.quote_name(Lead._meta.db_table)
    pk = connection.ops.quote_name(Lead._meta.pk.column)
    values = ", ".join(["(%s, %s, %s)"] * rows)
    return (
        f"UPDATE {table} SET score = v.column2, win_probability = CAST(v.column3 AS NUMERIC), "  # noqa: S608
        f"scored_at = %s FROM (VALUES {values}) AS v WHERE {table}.{pk} = v.column1 "
        f"AND ({table}.scored_at IS NULL OR {table}.scored_at <= %s)"
    )


def _detail_upsert_sql(rows: int) -> str:
    """Return one INSERT ... ON CONFLICT of `rows` LeadScore rows, guarded against older reads."""
    table = connection.ops.quote_name(LeadScore._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * rows)
    return (
        f"INSERT INTO {table} (lead_id, points, breakdown, model_version_id, win_probability, "  # noqa: S608
        f"top_factors, rules_digest, model_digest, scored_at) VALUES {values} ON CONFLICT (lead_id) DO UPDATE SET "
        "points = excluded.points, breakdown = excluded.breakdown, model_version_id = excluded.model_version_id, "
        "win_probability = excluded.win_probability, top_factors = excluded.top_factors, "
        "rules_digest = excluded.rules_digest, model_digest = excluded.model_digest, "
        f"scored_at = excluded.scored_at WHERE {table}.scored_at <= excluded.scored_at"
    )


def _write(writes: list[tuple], *, scored_at: datetime) -> int:
    """Write scores to the leads and their LeadScore rows, skipping any lead scored from newer data meanwhile."""
    at = connection.ops.adapt_datetimefield_value(scored_at)
    written = 0
    with transaction.atomic():
        # Never wait for a lead another transaction holds (a stage move, a handover, another score job):
        # skip it, so a score job can neither deadlock with nor slow down the people working. The
        # holder's change re-scores the lead after its commit, and the sweep catches anything else.
        locked = set(
            Lead.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[w[0] for w in writes])
            .values_list("pk", flat=True)
        )
        writes = [w for w in writes if w[0] in locked]  # locked elsewhere, or deleted since the read
        with connection.cursor() as cursor:
            for start in range(0, len(writes), WRITE_ROWS):
                part = writes[start : start + WRITE_ROWS]
                lead_params = [value for w in part for value in (w[0], w[1], w[4])]
                cursor.execute(_lead_update_sql(len(part)), [at, *lead_params, at])
                written += cursor.rowcount
                detail_params = [
                    value
                    for pk, points, breakdown, version, probability, factors, rules_digest, model_digest in part
                    for value in (
                        pk,
                        points,
                        json.dumps(breakdown, ensure_ascii=False),
                        version,
                        probability,
                        json.dumps(factors, ensure_ascii=False),
                        rules_digest,
                        model_digest,
                        at,
                    )
                ]
                cursor.execute(_detail_upsert_sql(len(part)), detail_params)
    return written


def _read(scope: Scope, ctx: Context, archive: Archive) -> tuple[datetime, Chunk]:
    # Stamp the time before the read (and no later than the archive's load): a change committed
    # meanwhile leaves the lead stale for the sweep instead of hiding behind a newer scored_at.
    read_at = min(filter(None, (timezone.now(), archive.loaded_at)))
    return read_at, chunk_read(scope, now=ctx.now, attribute_keys=ctx.attribute_keys, archive=archive)


def _close_connection() -> None:
    connection.close()  # `connection` is per thread: this closes the calling thread's own


def _run(scopes: list[Scope], ctx: Context, archive: Archive | None = None) -> int:
    """Score the chunks in order; return how many scores were written.

    On PostgreSQL, outside a transaction, the next chunk is read and the previous one written on two
    more connections while this thread computes: the database and Python then work at the same time.
    """
    archive = archive or Archive()
    if connection.vendor != "postgresql" or connection.in_atomic_block or len(scopes) < 2:
        written = 0
        for scope in scopes:
            read_at, chunk = _read(scope, ctx, archive)
            written += _chunk_score(chunk, ctx, read_at=read_at)
        return written
    written = 0
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring-read") as reader,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring-write") as writer,
    ):
        try:
            pending_read = reader.submit(_read, scopes[0], ctx, archive)
            pending_write = None
            for following in [*scopes[1:], None]:
                read_at, chunk = pending_read.result()
                if following is not None:
                    pending_read = reader.submit(_read, following, ctx, archive)
                writes = _chunk_compute(chunk, ctx)
                if pending_write is not None:
                    written += pending_write.result()
                    pending_write = None
                if writes:
                    pending_write = writer.submit(_write, writes, scored_at=read_at)
            if pending_write is not None:
                written += pending_write.result()
        finally:
            reader.submit(_close_connection).result()
            writer.submit(_close_connection).result()
    return written


# --- the jobs -----------------------------------------------------------------------------


def leads_rescore(*, lead_ids: Iterable[int], now: datetime | None = None) -> int:
    """Re-score the given leads from their current inputs; return how many scores were written."""
    ids = sorted(set(lead_ids))
    if not ids:
        return 0
    size = setting("SCORING_BATCH_SIZE")
    return _run([Scope(ids=tuple(ids[start : start + size])) for start in range(0, len(ids), size)], Context.load(now))


def lead_rescore(*, lead_id: int, now: datetime | None = None) -> int:
    """Re-score one lead after a change (a deleted lead is simply skipped)."""
    return leads_rescore(lead_ids=[lead_id], now=now)


def customer_leads_rescore(*, customer_id: int, now: datetime | None = None) -> int:
    """Re-score every lead of a customer whose archive (tier, size, industry) changed."""
    return leads_rescore(lead_ids=Lead.objects.filter(customer_id=customer_id).values_list("pk", flat=True), now=now)


def leads_stale_ids(*, now: datetime | None = None) -> list[int]:
    """Return leads whose inputs changed since they were last scored, or that were never scored."""
    now = now or timezone.now()
    changed = Lead.objects.filter(
        Q(scored_at__isnull=True)
        | Q(updated_at__gt=F("scored_at"))
        | Q(last_activity_at__gt=F("scored_at"))
        | Q(customer__updated_at__gt=F("scored_at"))
    ).values_list("pk", flat=True)
    # A visit logged after the score (without touching the lead row); older misses are the nightly's.
    since = now - timedelta(hours=setting("SCORING_SWEEP_LOOKBACK_HOURS"))
    visited = Visit.objects.filter(created_at__gte=since, created_at__gt=F("lead__scored_at")).values_list(
        "lead_id", flat=True
    )
    return sorted({*changed, *visited})


def leads_rescore_stale(*, now: datetime | None = None) -> int:
    """Re-score every lead whose inputs changed since its last score, so a lost task only delays a score."""
    return leads_rescore(lead_ids=leads_stale_ids(now=now), now=now)


def leads_rescore_all(*, now: datetime | None = None) -> int:
    """Recompute every lead's score (time decay, new rules, a new model); write only the rows that change."""
    ctx = Context.load(now)
    bounds = Lead.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    size = setting("SCORING_BATCH_SIZE")
    scopes = [Scope(low=start, high=start + size) for start in range(bounds["low"], bounds["high"] + 1, size)]
    started = time.monotonic()
    written = _run(scopes, ctx, TableArchive() if TableArchive.fits() else Archive())
    logger.info(
        "Scores recomputed over %d chunks in %.1f s: %d written.", len(scopes), time.monotonic() - started, written
    )
    return written
