"""Start a real Celery worker (with its beat) in a subprocess against the test database."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 90


def _database_url() -> str:
    """Return a DATABASE_URL for the database the tests are using right now."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def celery_worker(*, broker_url: str, var_dir: Path, extra_env: dict[str, str] | None = None):
    """Run `celery worker -B` until the block ends; its log is attached to any failure."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CRM_VAR_DIR": str(var_dir),
        **(extra_env or {}),
    }
    log_path = var_dir / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-B",
                "--pool=solo",
                "--loglevel=INFO",
                "-s",
                str(var_dir / "beat-schedule"),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, *, log_path: Path, what: str) -> None:
    """Poll until condition() is true; fail with the worker's log if it never is."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {WAIT_SECONDS}s; worker log:\n{log_path.read_text()[-4000:]}")
