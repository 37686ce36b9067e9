"""`make bench`: build each dataset if it is missing, run its scenarios, write bench/results/<date>.{json,md}.

    python -m bench.run --leads 1000000 --compare-leads 100000 --repeat 7
    python -m bench.run --smoke    # CI: 10,000 leads, one run each, a 5-second intake; results under var/bench

Each dataset lives in its own PostgreSQL database (created and migrated here) and is rebuilt only when
its description (size, reps, teams, seed) differs. A missed target is printed as MISS and does not fail
the run; the exit code is non-zero only when the harness breaks (a scenario errors, or the intake
answers 2xx for posts it did not store).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg2

from .marker import marker_read
from .report import markdown

BASE_DIR = Path(__file__).resolve().parent.parent
BROKEN = ("ERROR", "FAIL")
SMOKE = {
    "leads": 10_000,
    "compare_leads": 10_000,
    "reps": 20,
    "teams": 3,
    "repeat": 1,
    "intake_seconds": 5,
    "database": "crm_bench_smoke",
    "compare_database": "crm_bench_smoke",
    "out": "var/bench",
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the benchmark datasets if needed and run every scenario.")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--compare-leads", type=int, default=100_000, help="the second size; 0 skips it")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--teams", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each scenario after one warm-up")
    parser.add_argument("--intake-seconds", type=float, default=30)
    parser.add_argument("--database", default="crm_bench")
    parser.add_argument("--compare-database", default="crm_bench_100k")
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--out", default="bench/results")
    smoke = ", ".join(f"{key}={value}" for key, value in SMOKE.items())
    parser.add_argument("--smoke", action="store_true", help=f"the CI smoke: {smoke}")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    return args


@contextmanager
def _cursor(url: str):
    """Yield an autocommit cursor (CREATE DATABASE and VACUUM refuse to run in a transaction)."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def _ensure_database(server: str, name: str) -> None:
    with _cursor(f"{server}/postgres") as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"Creating database {name}", flush=True)
            cursor.execute(f'CREATE DATABASE "{name}"')


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _prepare(args: argparse.Namespace, name: str, leads: int) -> str:
    """Create, migrate and fill the database unless the same dataset is already there; return its URL."""
    _ensure_database(args.server, name)
    url = f"{args.server}/{name}"
    _manage(url, "migrate", "--noinput", "--skip-checks", "-v", "0")
    with _cursor(url) as cursor:
        dataset = marker_read(cursor) or {}
    wanted = {"leads": leads, "reps": args.reps, "teams": args.teams, "seed": args.seed}
    if {key: dataset.get(key) for key in wanted} != wanted:
        options = [f"--{key}={value}" for key, value in wanted.items()]
        _manage(url, "gen_bench_data", *options)
    else:
        print(f"{name} already holds {leads:,} leads (built {dataset['built_at']}); reusing it.", flush=True)
        # An earlier run's jobs rewrote every lead (scores, flags): clean up, or the plans and timings drift.
        with _cursor(url) as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    return url


def _suite(args: argparse.Namespace, url: str, suite: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, "-m", "bench.suite", "--suite", suite, "--repeat", str(args.repeat)]
        command += ["--intake-seconds", str(args.intake_seconds), "--out", out.name]
        subprocess.run(command, cwd=BASE_DIR, env={**os.environ, "DATABASE_URL": url}, check=True)
        return json.loads(Path(out.name).read_text(encoding="utf-8"))


def _machine(server: str) -> dict:
    import django

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else "MemTotal: 0 kB"
    memory_kib = int(meminfo.split("MemTotal:", 1)[1].split()[0])
    with _cursor(f"{server}/postgres") as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    git = ["git", "-C", str(BASE_DIR)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout.strip():
        commit += " with uncommitted changes"
    return {
        "cpu": cpu or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "postgresql": postgresql,
        "python": platform.python_version(),
        "django": django.get_version(),
        "commit": commit or "unknown",
    }


def main() -> int:
    args = _arguments()
    plan = [("main", args.leads, args.database)]
    if args.compare_leads:
        plan.append(("compare", args.compare_leads, args.compare_database))
    suites = []
    for suite, leads, name in plan:
        title = f"{leads:,} leads ({name})" + (": comparison figures" if suite == "compare" else "")
        print(f"== {title}", flush=True)
        try:
            result = _suite(args, _prepare(args, name, leads), suite)
        except subprocess.CalledProcessError as error:
            result = {"error": f"{' '.join(error.cmd[:4])} … exited with {error.returncode}"}
        suites.append({"title": title, **result})
    report = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "machine": _machine(args.server),
        "suites": suites,
    }
    text = markdown(report)
    out = BASE_DIR / args.out
    out.mkdir(parents=True, exist_ok=True)
    stem = datetime.now().strftime("%Y-%m-%d")
    (out / f"{stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(text, encoding="utf-8")
    print("\n" + text + f"\nWritten to {args.out}/{stem}.json and .md", flush=True)
    broken = [s for s in suites if "error" in s] + [
        f for s in suites for f in s.get("figures", []) if f["status"] in BROKEN
    ]
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
