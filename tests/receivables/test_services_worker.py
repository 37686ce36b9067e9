"""The monthly collection close through a real Celery worker on Redis and PostgreSQL (make test-services)."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from crm.models import CollectionTarget
from funnel.tasks import collection_month_close_task
from tests.worker import celery_worker, wait_for

from .factories import InstallmentFactory

pytestmark = pytest.mark.services


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_monthly_close_through_redis(rep, tmp_path):
    """The task is sent to the broker (not run in this process); the worker sets next month's target, twice."""
    from config.celery import app

    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run with CELERY_BROKER_URL=redis://..."
    InstallmentFactory(
        contract__owner=rep,
        contract__amount=Decimal("300.00"),
        amount=Decimal("300.00"),
        due_on=datetime.date(2026, 4, 9),
    )
    april = datetime.date(2026, 4, 1)
    app.conf.task_always_eager = False
    try:
        with celery_worker(broker_url=settings.CELERY_BROKER_URL, var_dir=tmp_path) as log_path:
            collection_month_close_task.delay("2026-03-25")
            wait_for(
                lambda: CollectionTarget.objects.filter(rep=rep, month=april, target_amount=Decimal("300.00")).exists(),
                log_path=log_path,
                what="the monthly collection close run by the worker",
            )
            first_set_at = CollectionTarget.objects.get(rep=rep, month=april).target_set_at
            collection_month_close_task.delay("2026-03-25")  # a second run changes nothing but the time stamps
            wait_for(
                lambda: CollectionTarget.objects.get(rep=rep, month=april).target_set_at != first_set_at,
                log_path=log_path,
                what="the second run of the monthly close",
            )
    finally:
        app.conf.task_always_eager = True
    assert CollectionTarget.objects.filter(month=april).count() == 1
    assert CollectionTarget.objects.get(rep=rep, month=april).target_amount == Decimal("300.00")
    assert "collection_month_close_task" in log_path.read_text()
