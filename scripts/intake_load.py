"""`make loadtest`: web-to-lead under load, as issue 5 asks, against gunicorn and PostgreSQL on loopback.

200 concurrent clients post for 60 s; 10% of posts are retried with the same Idempotency-Key,
some are concurrent twins of the same company. At the end every 2xx must be a stored lead (or
the duplicate it named), no company may be stored twice, no answer may be a 5xx, and a reused
key with another body must get 422. Prints the figures and exits 1 if any of that fails.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database_url: str) -> str:
    """Migrate the load database, empty its leads and create an intake key; return the key."""
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    code = (
        "from accounts.models import IntakeKey; from funnel.models import IntakeSubmission;"
        "from crm.models import Lead, Customer, StageChange, Contact;"
        "IntakeSubmission.objects.all().delete(); StageChange.objects.all().delete();"
        "Lead.objects.all().delete(); Contact.objects.all().delete(); Customer.objects.all().delete();"
        "IntakeKey.objects.filter(name='load').delete();"
        "from accounts.services import intake_key_create;"
        "print(intake_key_create(name='load', rate_per_minute=1000000)[1])"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def counts(database_url: str) -> dict:
    code = (
        "import json; from crm.models import Lead, Customer; from django.db.models import Count;"
        "dupes = Customer.objects.values('name_key').annotate(n=Count('pk')).filter(n__gt=1).count();"
        "print(json.dumps({'leads': Lead.objects.count(), 'duplicate_customers': dupes,"
        " 'lead_ids': list(Lead.objects.values_list('pk', flat=True))}))"
    )
    env = {**os.environ, "DATABASE_URL": database_url}
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


class Load:
    def __init__(self, url: str, key: str, seconds: float, clients: int):
        self.url, self.key, self.seconds, self.clients = url, key, seconds, clients
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.acknowledged: set[int] = set()
        self.sequence = 0

    def next_company(self) -> int:
        with self.lock:
            self.sequence += 1
            return self.sequence

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        headers = {"Authorization": f"Api-Key {self.key}"}
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            n = self.next_company()
            twin = rng.random() < 0.05  # the same company as a recent post, sent by another client
            company = n - rng.randint(1, 20) if twin and n > 20 else n
            body = {"company": f"负载测试公司{company}", "phone": f"139{company:08d}", "city": "苏州"}
            key = f"load-{seed}-{n}"
            for _attempt in range(2 if rng.random() < 0.10 else 1):  # 10% retried with the same key
                try:
                    response = session.post(
                        self.url, json=body, headers={**headers, "Idempotency-Key": key}, timeout=30
                    )
                except requests.RequestException:
                    with self.lock:
                        self.statuses["connection error"] += 1
                    continue
                with self.lock:
                    self.statuses[response.status_code] += 1
                    if response.status_code in (200, 201):
                        self.acknowledged.add(response.json()["id"])

    def run(self) -> None:
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/crm_load")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", args.database_url.rsplit("/", 1)[1]],
        capture_output=True,
        check=False,
    )
    key = prepare(args.database_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": "load-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/api/v1/intake/leads/"
    try:
        for _ in range(60):
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.5)
        load = Load(url, key, args.seconds, args.clients)
        started = time.monotonic()
        load.run()
        elapsed = time.monotonic() - started
        reused = requests.post(
            url,
            json={"company": "别的公司", "phone": "13900000000"},
            headers={"Authorization": f"Api-Key {key}", "Idempotency-Key": "load-0-1"},
            timeout=30,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = counts(args.database_url)
    sent = sum(load.statuses.values())
    server_errors = sum(n for code, n in load.statuses.items() if isinstance(code, int) and code >= 500)
    missing = load.acknowledged - set(stored["lead_ids"])
    print(f"clients {args.clients}, {elapsed:.0f} s, requests {sent} ({sent / elapsed:.0f}/s)")
    print(f"answers {dict(load.statuses)}")
    print(
        f"leads stored {stored['leads']}, acknowledged leads not stored {len(missing)}, "
        f"companies stored twice {stored['duplicate_customers']}, 5xx {server_errors}, "
        f"reused key with another body -> {reused.status_code}"
    )
    ok = not missing and stored["duplicate_customers"] == 0 and server_errors == 0 and reused.status_code == 422
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
