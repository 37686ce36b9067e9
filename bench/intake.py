"""Web-to-lead throughput: gunicorn with four workers on loopback, driven by concurrent asyncio clients.

The clients speak plain HTTP/1.1 over fresh connections (gunicorn's sync workers close each one),
which costs far less CPU than a requests thread pool on the same two cores. Every post names a new
company except about 5% that repeat an earlier one, so the duplicate check answers both ways. After
the run the rows it made are counted against the answers, then deleted so the dataset stays the same.
"""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis
from django.db.models import Max

from accounts.models import IntakeKey
from accounts.services import intake_key_create
from crm.models import Customer, Lead
from funnel.models import IntakeSubmission

from .rows import company_name
from .suite import REDIS_URL, redis_up
from .timing import Figure, p95

WORKERS = 4
CLIENTS = 32
REPEAT_SHARE = 0.05
BOOT_SECONDS = 60
INTAKE_PATH = "/api/v1/intake/leads/"
BASE_DIR = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn(port: int, var_dir: str) -> subprocess.Popen:
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "CRM_VAR_DIR": var_dir}
    command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-w", str(WORKERS)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env)


async def _post(port: int, body: bytes, secret: str) -> int:
    """Send one intake post on a fresh connection; return the HTTP status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {INTAKE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Api-Key {secret}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    status_line = await reader.readline()
    await reader.read()  # the rest of the answer, until the server closes
    writer.close()
    return int(status_line.split()[1])


def _body(index: int, rng: random.Random, sent: list[str]) -> bytes:
    if sent and rng.random() < REPEAT_SHARE:
        company = rng.choice(sent)
    else:
        company = company_name(index, brand_len=4)[0]  # datasets use 2-3 brand characters: always new
        sent.append(company)
    payload = {
        "company": company,
        "phone": f"199{index % 100_000_000:08d}",  # a prefix the datasets never use
        "contact_name": "李" + "伟芳娜敏静"[index % 5],
        "city": company[:2],
        "attributes": {"industry": "制造业", "employees": 50 + index % 500},
    }
    return json.dumps(payload, ensure_ascii=False).encode()


async def _drive(port: int, secret: str, seconds: float) -> tuple[Counter, list[float]]:
    """Post as fast as CLIENTS concurrent clients can for `seconds`; return status counts and latencies (ms)."""
    statuses, latencies, sent = Counter(), [], []
    rng, counter = random.Random(7), iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            body = _body(next(counter), rng, sent)
            started = time.perf_counter()
            try:
                status = await _post(port, body, secret)
            except (ConnectionError, IndexError, ValueError):
                status = 0  # refused, reset, or a malformed answer: counted, never hidden
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] += 1

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses, latencies


def _wait_until_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start listening")


def _clean_up(key: IntakeKey, first_new_lead: int) -> None:
    """Delete what the run stored (submissions, leads and their customers) and its key."""
    leads = Lead.objects.filter(pk__gt=first_new_lead)
    customer_ids = list(leads.values_list("customer_id", flat=True))
    IntakeSubmission.objects.filter(key=key).delete()
    leads.delete()
    Customer.objects.filter(pk__in=customer_ids, leads__isnull=True).delete()
    key.delete()
    if redis_up():  # tasks the posts queued for a worker that the bench never runs
        redis.Redis.from_url(REDIS_URL).flushdb()


def intake_throughput(*, seconds: float) -> Figure:
    """Return leads/s accepted by the intake, checking that every 2xx left its rows behind."""
    key, secret = intake_key_create(name=f"bench-{time.time_ns()}", rate_per_minute=100_000_000)
    last_lead = Lead.objects.aggregate(last=Max("pk"))["last"] or 0
    leads_before = Lead.objects.count()
    port = _free_port()
    with tempfile.TemporaryDirectory() as var_dir:
        server = _gunicorn(port, var_dir)
        try:
            _wait_until_up(port, server)
            asyncio.run(_drive(port, secret, min(3.0, seconds)))  # warm-up: every worker loads its code
            warm = IntakeSubmission.objects.filter(key=key).count()
            warm_created = Lead.objects.count() - leads_before
            statuses, latencies = asyncio.run(_drive(port, secret, seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    accepted = sum(n for status, n in statuses.items() if 200 <= status < 300)
    stored = IntakeSubmission.objects.filter(key=key).count() - warm
    created = Lead.objects.count() - leads_before - warm_created
    _clean_up(key, last_lead)
    figure = Figure(
        name=f"Intake throughput (gunicorn -w {WORKERS}, {CLIENTS} clients, {seconds:g} s)",
        unit="leads/s",
        median=round(accepted / seconds, 1),
        runs=1,
        extra={
            "statuses": {str(status): n for status, n in sorted(statuses.items())},
            "accepted": accepted,
            "stored_submissions": stored,
            "created_leads": created,
            "latency_median_ms": round(statistics.median(latencies), 1) if latencies else None,
            "latency_p95_ms": round(p95(latencies), 1) if latencies else None,
            "redis": redis_up(),
        },
    )
    consistent = stored == accepted and created == statuses.get(201, 0)
    figure.note = (
        f"{accepted:,} accepted ({statuses.get(201, 0):,} new, {statuses.get(200, 0):,} duplicates); "
        f"stored {stored:,} submissions, {created:,} leads: {'consistent' if consistent else 'INCONSISTENT'}; "
        f"latency median {figure.extra['latency_median_ms']} ms, p95 {figure.extra['latency_p95_ms']} ms"
    )
    figure.target = "≥ 300 leads/s"
    if not consistent:  # a 2xx for a post that was not stored is a lost lead: never a mere miss
        figure.status = "FAIL"
    else:
        figure.status = "OK" if accepted / seconds >= 300 else "MISS"
    return figure
