"""Run a callable several times after a warm-up and summarize: median, p95, query count, ratio to raw SQL."""

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

ROUNDED = ("median", "p95", "raw_median")


@dataclass
class Figure:
    """One line of the results table."""

    name: str
    unit: str = "ms"
    median: float | None = None
    p95: float | None = None
    runs: int = 0
    queries: int | None = None
    raw_median: float | None = None
    target: str = ""
    status: str = ""  # OK, MISS, or "" when the figure has no target
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.median is None or not self.raw_median:
            return None
        return self.median / self.raw_median

    def as_dict(self) -> dict:
        figures = {key: None if getattr(self, key) is None else round(getattr(self, key), 3) for key in ROUNDED}
        return {**asdict(self), **figures, "ratio": None if self.ratio is None else round(self.ratio, 2)}


def p95(samples: list[float]) -> float:
    """Return the 95th percentile by nearest rank (with fewer than 20 runs, the slowest)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed_runs(func: Callable[[], object], *, repeat: int, warmup: int = 1) -> list[float]:
    """Return the wall time of each of `repeat` calls in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def count_queries(func: Callable[[], object]) -> int:
    """Return how many SQL statements one call runs (measured on its own, outside the timed runs)."""
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)


def raw_sql(statements: list[tuple[str, dict]]) -> Callable[[], None]:
    """Return a callable that runs hand-written statements and fetches every row they return."""

    def run() -> None:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()

    return run


def measure(
    name: str,
    func: Callable[[], object],
    *,
    repeat: int,
    raw: Callable[[], None] | None = None,
    queries: bool = True,
    unit: str = "ms",
    warmup: int = 1,
) -> Figure:
    """Time func (and its raw SQL counterpart) and return the figure; milliseconds, or seconds for jobs."""
    scale = 1000 if unit == "s" else 1
    samples = [value / scale for value in timed_runs(func, repeat=repeat, warmup=warmup)]
    figure = Figure(name=name, unit=unit, median=statistics.median(samples), p95=p95(samples), runs=repeat)
    if queries:
        figure.queries = count_queries(func)
    if raw is not None:
        figure.raw_median = statistics.median(value / scale for value in timed_runs(raw, repeat=repeat))
    return figure


def judge(figure: Figure, *, limit: float, stat: str = "p95", ratio_limit: float | None = None) -> Figure:
    """Mark the figure OK or MISS against its target (a time limit and, optionally, a ratio to raw SQL)."""
    value = getattr(figure, stat)
    parts = [f"{stat} ≤ {limit:g} {figure.unit}"]
    ok = value is not None and value <= limit
    if ratio_limit is not None:
        parts.append(f"≤ {ratio_limit:g}× raw")
        ok = ok and figure.ratio is not None and figure.ratio <= ratio_limit
    figure.target = ", ".join(parts)
    figure.status = "OK" if ok else "MISS"
    return figure
