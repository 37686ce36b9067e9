"""Write a large, lived-in funnel straight into PostgreSQL with COPY (`manage.py gen_bench_data`).

Leads are drawn in chunks (rows.py) by worker processes, each with its own connection, so the two
cores share the Python drawing and PostgreSQL's indexing. Ids are computed rather than returned
(lead i is customer i, its contacts are 3i-2..3i), so no chunk needs another; visits and stage
changes take theirs from the sequences. A finished dataset is marked by a comment on the database,
which `bench.run` reads to skip rebuilding.
"""

import io
import multiprocessing
import random
import time
from datetime import UTC, datetime

import psycopg2
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from accounts.models import Role, Team, User
from crm.choices import FUNNEL_ORDER, Stage
from funnel import demo
from funnel.ideal import ideal
from funnel.services import leads_flag_cadence

from .marker import marker_text
from .rows import POOL_SHARE, TABLES, Chunk, Setup, brand_length_for

CHUNK_LEADS = 20_000  # ~100k visit rows: one COPY buffer of ~20 MB per table and chunk
OPEN_PER_REP = 300  # open leads a rep holds on average (the board scenario's rep)
REPS_PER_SUPPORT = 7  # DOMAIN.md: about one support per 6-8 reps
REGIONS = ("华东", "华北", "华南", "华中", "西南", "西北", "东北")
NUMERALS = "一二三四五六七八九十"


def _marker_write(cursor, info: dict | None) -> None:
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    cursor.execute(f"COMMENT ON DATABASE {name} IS %s", [marker_text(info)])


_setup: Setup | None = None


def _init_worker(setup: Setup) -> None:
    global _setup
    _setup = setup


def _load_chunk(bounds: tuple[int, int]) -> int:
    """Draw leads start+1..stop and COPY them in one transaction; return how many."""
    start, stop = bounds
    chunk = Chunk(_setup, start)
    for gid in range(start + 1, stop + 1):
        chunk.lead(gid)
    with psycopg2.connect(**_setup.dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # a bulk load: losing the last chunk on a crash is fine
        for table, (columns, _tail) in TABLES.items():
            buffer = io.StringIO("\n".join(chunk.rows[table]) + "\n")
            cursor.copy_expert(f"COPY {table} ({', '.join(columns.split())}) FROM STDIN", buffer, size=1 << 20)
    conn.close()
    return stop - start


def _dsn() -> dict:
    params = connection.get_connection_params()
    return {key: value for key, value in params.items() if key in ("dbname", "user", "password", "host", "port")}


def _reset() -> None:
    """Empty the dataset's tables (users, teams, customers and everything that points at them)."""
    with connection.cursor() as cursor:
        _marker_write(cursor, None)
        cursor.execute("TRUNCATE accounts_team, accounts_user, crm_customer RESTART IDENTITY CASCADE")


def _team_names(count: int) -> list[str]:
    names = [f"{region}{numeral}组" for numeral in NUMERALS for region in REGIONS]
    return names[:count] if count <= len(names) else [*names, *(f"销售{i}组" for i in range(len(names), count))]


def _create_staff(rng: random.Random, reps: int, teams: int) -> dict[str, list[User]]:
    """Create the admin, director, a manager per team, the reps, support and finance; one password hash."""
    team_rows = Team.objects.bulk_create([Team(name=name) for name in _team_names(teams)])
    specs = [("admin", Role.ADMIN, None), ("director", Role.DIRECTOR, None)]
    specs += [(f"manager{i + 1}", Role.MANAGER, team) for i, team in enumerate(team_rows)]
    specs += [(f"rep{k + 1}", Role.REP, team_rows[k * teams // reps]) for k in range(reps)]
    specs += [(f"support{i + 1}", Role.SUPPORT, None) for i in range(max(1, reps // REPS_PER_SUPPORT))]
    specs += [("finance", Role.FINANCE, None)]
    password = make_password(demo.DEMO_PASSWORD)  # one hash for all: PBKDF2 per user would take minutes
    users = [
        User(
            username=username,
            role=role,
            team=team,
            display_name=demo.STAFF_NAMES[i] if i < len(demo.STAFF_NAMES) else _person(rng),
            email=f"{username}@bench.example.com",
            password=password,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        for i, (username, role, team) in enumerate(specs)
    ]
    User.objects.bulk_create(users)
    managers = [user for user in users if user.role == Role.MANAGER]
    for team, manager in zip(team_rows, managers, strict=True):
        team.manager = manager
    Team.objects.bulk_update(team_rows, ["manager"])
    by_role: dict[str, list[User]] = {}
    for user in users:
        by_role.setdefault(user.role, []).append(user)
    return by_role


def _person(rng: random.Random) -> str:
    return rng.choice(demo.SURNAMES) + "".join(rng.choices(demo.GIVEN_CHARS, k=rng.randint(1, 2)))


def _rep_shares(rng: random.Random) -> tuple[float, ...]:
    """Return one rep's reach shares: the ideal with ±20% noise, never rising down the funnel."""
    shares, ceiling = [], 1.0
    ideal_shares = ideal("reach_share")
    for stage in FUNNEL_ORDER[1 : FUNNEL_ORDER.index(Stage.SIGNED) + 1]:
        ceiling = min(ceiling, ideal_shares.get(stage, ceiling) * rng.uniform(0.8, 1.2))
        shares.append(ceiling)
    return tuple(shares)


def bench_data_build(*, leads: int, reps: int, teams: int, seed: int, workers: int = 2, log=print) -> dict:
    """Empty the database's funnel and write a new one of `leads` leads; return its description."""
    if connection.vendor != "postgresql":
        raise ValueError("The benchmark data goes to PostgreSQL (set DATABASE_URL).")
    started = time.monotonic()
    rng = random.Random(seed)
    _reset()
    staff = _create_staff(rng, reps, teams)
    rep_ids = tuple(user.pk for user in staff[Role.REP])
    open_share = min(0.5, OPEN_PER_REP * reps / max(1, leads * (1 - POOL_SHARE)))
    setup = Setup(
        dsn=_dsn(),
        now=time.time(),
        utc_offset=timezone.localtime().utcoffset().total_seconds(),
        seed=seed,
        brand_len=brand_length_for(leads),
        open_share=open_share,
        reps=rep_ids,
        rep_shares={pk: _rep_shares(rng) for pk in rep_ids},
        rep_open={pk: open_share * rng.uniform(0.7, 1.3) for pk in rep_ids},
        support_ids=tuple(user.pk for user in staff[Role.SUPPORT]),
        finance_id=staff[Role.FINANCE][0].pk,
    )
    chunks = [(start, min(start + CHUNK_LEADS, leads)) for start in range(0, leads, CHUNK_LEADS)]
    connection.close()  # the workers are forked: they must not share this connection
    done = 0
    with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(setup,)) as pool:
        for count in pool.imap_unordered(_load_chunk, chunks):
            done += count
            if done % 100_000 < count or done == leads:
                log(f"  {done:>9,} leads written ({time.monotonic() - started:.0f} s)")
    loaded = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("crm_customer", "crm_contact", "crm_lead", "crm_contract", "crm_installment", "crm_payment"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cursor.execute(f"SELECT setval({sequence}, (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")  # noqa: S608
    flagged = leads_flag_cadence(now=datetime.fromtimestamp(setup.now, UTC))
    flags_done = time.monotonic()
    connection.close()
    conn = psycopg2.connect(**setup.dsn)
    conn.autocommit = True  # VACUUM cannot run in a transaction
    with conn.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # statistics, hint bits and the visibility map, before any timing
    conn.close()
    info = {
        "leads": leads,
        "reps": reps,
        "teams": teams,
        "seed": seed,
        "built_at": timezone.now().isoformat(timespec="seconds"),
        "load_seconds": round(loaded - started, 1),
        "cadence_first_run_seconds": round(flags_done - loaded, 1),
        "flags_raised": flagged,
        "vacuum_analyze_seconds": round(time.monotonic() - flags_done, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    with connection.cursor() as cursor:
        info["rows"] = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            info["rows"][table] = cursor.fetchone()[0]
        _marker_write(cursor, info)
    return info
