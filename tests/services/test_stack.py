"""The production stack for real: PostgreSQL, Redis and a Celery worker with beat. Never skipped."""

import datetime

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.models import Lead
from funnel.services import lead_assign
from tests.factories import LeadFactory
from tests.worker import celery_worker, wait_for

pytestmark = pytest.mark.services


def test_suite_runs_on_postgresql(db):
    assert connection.vendor == "postgresql", "make test-services must run on PostgreSQL (DATABASE_URL)"


def test_redis_broker_is_reachable():
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "make test-services needs CELERY_BROKER_URL=redis://..."
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()


@pytest.mark.django_db(transaction=True)
def test_beat_and_worker_run_the_job_through_redis(rep, tmp_path):
    lead = LeadFactory(owner=rep, last_activity_at=timezone.now() - datetime.timedelta(days=20))
    with celery_worker(
        broker_url=settings.CELERY_BROKER_URL, var_dir=tmp_path, extra_env={"CADENCE_FLAG_INTERVAL_SECONDS": "1"}
    ) as log_path:
        wait_for(
            lambda: Lead.objects.filter(pk=lead.pk, is_followup_overdue=True).exists(),
            log_path=log_path,
            what="the periodic cadence job through Redis",
        )
    assert "leads_flag_cadence_task" in log_path.read_text()


@pytest.mark.django_db(transaction=True)
def test_after_commit_task_reaches_a_real_worker_through_redis(manager, rep, teammate, tmp_path):
    """A service enqueues on commit; the worker (not this process) sends the email."""
    from config.celery import app

    teammate.email = "teammate@example.com"
    teammate.save()
    lead = LeadFactory(owner=rep, customer__name="南京紫金软件有限公司")
    mail_dir = tmp_path / "mail"
    app.conf.task_always_eager = False
    try:
        with celery_worker(
            broker_url=settings.CELERY_BROKER_URL,
            var_dir=tmp_path,
            extra_env={
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(mail_dir),
            },
        ) as log_path:
            lead_assign(lead=lead, to_owner=teammate, actor=manager)
            wait_for(
                lambda: mail_dir.exists() and any("南京紫金软件有限公司" in p.read_text() for p in mail_dir.iterdir()),
                log_path=log_path,
                what="the owner-change email sent by the worker",
            )
    finally:
        app.conf.task_always_eager = True


def test_the_intake_rate_counts_in_redis_in_one_round_trip(settings):
    """Production counts in Redis with INCR + EXPIRE; the counter stays readable through the cache API."""
    from django.core.cache import caches

    from funnel.intake.limits import rate_limited

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.CELERY_BROKER_URL}
    }
    minute = 1_800_000_000
    caches["default"].delete("intake-rate:7:30000000")
    answers = [rate_limited(key_id=7, per_minute=2, now=minute + 10) for _ in range(3)]
    assert answers == [0, 0, 50]
    assert caches["default"].get("intake-rate:7:30000000") == 3
    stored_key = caches["default"].make_key("intake-rate:7:30000000")
    assert 0 < redis.Redis.from_url(settings.CELERY_BROKER_URL).ttl(stored_key) <= 70
    caches["default"].delete("intake-rate:7:30000000")
