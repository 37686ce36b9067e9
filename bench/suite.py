"""Run one suite of scenarios against the database in DATABASE_URL and write its figures as JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python -m bench.suite --suite main --out r.json

`bench.run` starts one of these per dataset; the environment is set here, before Django reads it.
"""

import argparse
import json
import os
import secrets
import socket
import sys
import warnings

REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/14"  # the bench's own database: flushed after the intake run


def redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


def configure_env() -> None:
    """Run as production does (DEBUG off; Redis cache and broker when it is up); no settings file is edited."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("PYTHONWARNINGS", "ignore:No directory at")  # whitenoise: no collectstatic for a bench
    if redis_up():
        os.environ.setdefault("CACHE_URL", REDIS_URL)
        os.environ.setdefault("CELERY_BROKER_URL", REDIS_URL)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one benchmark suite against DATABASE_URL.")
    parser.add_argument("--suite", choices=("main", "compare"), default="main")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--intake-seconds", type=float, default=30)
    parser.add_argument("--out", help="write the JSON here (default: stdout)")
    args = parser.parse_args()
    configure_env()
    warnings.filterwarnings("ignore", "No directory at")
    import config.wsgi  # noqa: F401  sets Django up as the web server does, with the same frozen heap

    from .scenarios import run

    result = json.dumps(run(args.suite, args.repeat, args.intake_seconds), ensure_ascii=False, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(result)
    else:
        sys.stdout.write(result + "\n")


if __name__ == "__main__":
    main()
