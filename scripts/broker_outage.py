"""`make outage-test`: leads keep arriving while Redis is down, and are all scored once it is back.

Starts gunicorn and a Celery worker with beat against PostgreSQL and Redis, posts leads for 10 s,
stops Redis for 30 s while posting, starts it again, and waits (up to 2 minutes) until every
stored lead has a score: the periodic sweep, not only the after-commit task, must catch up
without anyone restarting anything. Prints the figures; exits 1 on a lost or unscored lead.
"""

import argparse
import os
import subprocess
import sys
import threading
import time

import requests
from intake_load import BASE_DIR, free_port, prepare

VAR_DIR = BASE_DIR / "var" / "outage"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
]


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, check=False).returncode == 0


def scored(database_url: str) -> tuple[int, int]:
    code = (
        "from crm.models import Lead;"
        "print(Lead.objects.count(), Lead.objects.filter(score_detail__isnull=False).count())"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        check=True,
        text=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    total, done = out.stdout.split()[-2:]
    return int(total), int(done)


def poster(url: str, key: str, stop: threading.Event, answers: list) -> None:
    session, n = requests.Session(), 0
    while not stop.is_set():
        n += 1
        company = f"断网测试{threading.get_ident() % 10000}-{n}"
        try:
            response = session.post(
                url,
                json={"company": company, "phone": f"137{n:08d}"},
                headers={"Authorization": f"Api-Key {key}"},
                timeout=30,
            )
            answers.append(response.status_code)
        except requests.RequestException:
            answers.append("error")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/crm_outage")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--outage", type=float, default=30)
    args = parser.parse_args()
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", args.database_url.rsplit("/", 1)[1]],
        capture_output=True,
        check=False,
    )
    key = prepare(args.database_url)
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule file here
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker_url,
        "CACHE_URL": "locmemcache://",
        "DEBUG": "0",
        "SECRET_KEY": "outage-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "CRM_VAR_DIR": str(VAR_DIR),
    }
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"], cwd=BASE_DIR, env=env
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--pool=solo",
            "-s",
            str(VAR_DIR / "beat-schedule"),
            "--loglevel=WARNING",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/api/v1/intake/leads/"
    answers: list = []
    stop = threading.Event()
    try:
        time.sleep(5)
        threads = [threading.Thread(target=poster, args=(url, key, stop, answers)) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(10)
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True, check=False)
        print(f"Redis stopped: {not redis_up()}")
        time.sleep(args.outage)
        subprocess.run(REDIS_START, check=True, capture_output=True)
        back = time.monotonic()
        print(f"Redis back: {redis_up()}")
        time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join()
        total, done = scored(args.database_url)
        while done < total and time.monotonic() - back < 120:
            time.sleep(5)
            total, done = scored(args.database_url)
        recovery = time.monotonic() - back
    finally:
        stop.set()
        if not redis_up():
            subprocess.run(REDIS_START, check=False, capture_output=True)
        web.terminate()
        worker.terminate()
        web.wait(timeout=30)
        worker.wait(timeout=30)
    accepted = sum(1 for a in answers if a in (200, 201))
    created = answers.count(201)
    print(
        f"posts {len(answers)}, answers {sorted(set(map(str, answers)))}, accepted {accepted}, "
        f"leads stored {total}, scored {done}, every lead scored {recovery:.0f} s after Redis returned"
    )
    ok = created == total and done == total and not any(isinstance(a, int) and a >= 500 for a in answers)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
