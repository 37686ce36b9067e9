"""After-commit re-scoring through the production stack: PostgreSQL, Redis and a real Celery worker."""

import pytest
from django.conf import settings

from crm.models import Lead
from funnel.services import lead_update
from scoring.models import LeadScore, ScoreRule
from tests.factories import LeadFactory
from tests.worker import celery_worker, wait_for

pytestmark = pytest.mark.services


def _points(lead_id: int) -> int | None:
    return LeadScore.objects.filter(lead_id=lead_id).values_list("points", flat=True).first()


@pytest.mark.django_db(transaction=True)
def test_an_edit_is_rescored_by_a_real_worker_through_redis(rep, tmp_path):
    """The edit commits, the task goes to Redis, the worker (not this process) writes the new score."""
    from config.celery import app

    assert settings.CELERY_BROKER_URL.startswith("redis://"), "needs CELERY_BROKER_URL=redis://..."
    ScoreRule.objects.create(name="等级 A", criterion="grade", operator="eq", value="A", points=20)
    app.conf.task_always_eager = False
    try:
        lead = LeadFactory(owner=rep, grade="B")  # committed: its first score is queued too
        with celery_worker(broker_url=settings.CELERY_BROKER_URL, var_dir=tmp_path) as log_path:
            wait_for(lambda: _points(lead.pk) == 0, log_path=log_path, what="the new lead's first score")
            lead_update(lead=lead, actor=rep, data={"grade": "A"})
            wait_for(lambda: _points(lead.pk) == 20, log_path=log_path, what="the re-score after the edit")
        assert Lead.objects.get(pk=lead.pk).score == 20
        assert "scoring.tasks.lead_rescore_task" in log_path.read_text()
    finally:
        app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_the_full_recompute_reads_ahead_on_a_second_connection(rep, settings, monkeypatch):
    """On PostgreSQL the next chunk is read by another thread while this one scores; the result is the same."""
    import threading

    from django.db import connection

    from scoring.services import jobs, leads_rescore_all

    assert connection.vendor == "postgresql"
    settings.SCORING_BATCH_SIZE = 3
    ScoreRule.objects.create(name="等级 A", criterion="grade", operator="eq", value="A", points=20)
    leads = LeadFactory.create_batch(10, owner=rep, grade="A")
    LeadScore.objects.all().delete()
    Lead.objects.update(score=0, scored_at=None)
    readers = []
    real_read = jobs._read
    monkeypatch.setattr(jobs, "_read", lambda *a: readers.append(threading.current_thread().name) or real_read(*a))
    assert leads_rescore_all() == 10
    assert {s.points for s in LeadScore.objects.filter(lead__in=leads)} == {20}
    assert readers and all(name.startswith("scoring-read") for name in readers)
    assert leads_rescore_all() == 0


@pytest.mark.django_db(transaction=True)
def test_a_score_job_skips_a_lead_someone_holds_instead_of_waiting(rep):
    """A stage move holding the lead's row lock neither blocks nor deadlocks a score job; the lead is left stale."""
    import threading

    from django.db import connection, transaction

    from scoring.services import lead_rescore, leads_stale_ids

    ScoreRule.objects.create(name="等级 A", criterion="grade", operator="eq", value="A", points=20)
    lead = LeadFactory(owner=rep, grade="A")
    LeadScore.objects.all().delete()
    Lead.objects.update(score=0, scored_at=None)
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Lead.objects.select_for_update().get(pk=lead.pk)
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        assert lead_rescore(lead_id=lead.pk) == 0  # returned at once, wrote nothing
        assert leads_stale_ids() == [lead.pk]
    finally:
        release.set()
        holder.join(30)
    assert lead_rescore(lead_id=lead.pk) == 1
    assert _points(lead.pk) == 20
