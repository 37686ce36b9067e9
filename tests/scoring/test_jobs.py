"""Freshness: re-scored after commit, a sweep of stale leads, the nightly decay; every job idempotent."""

import datetime

import pytest
from django.utils import timezone

from crm.choices import Stage
from crm.models import Lead
from funnel.services import lead_transition, lead_update, visit_log
from scoring.models import LeadScore
from scoring.services import (
    lead_rescore,
    leads_rescore_all,
    leads_rescore_stale,
    leads_stale_ids,
    score_rule_save,
)
from scoring.services.jobs import Context, _chunk_score, _read
from scoring.services.reading import Archive, Scope
from scoring.tasks import lead_rescore_task, leads_rescore_all_task, leads_rescore_stale_task
from tests.factories import LeadFactory, VisitFactory


def _snapshot() -> dict:
    return {
        s.lead_id: (s.points, s.breakdown, s.win_probability, s.top_factors, s.scored_at)
        for s in LeadScore.objects.all()
    }


def _points(lead) -> int:
    return LeadScore.objects.get(lead=lead).points


@pytest.fixture
def grade_a(add_rule):
    return add_rule("grade", 20, operator="eq", value="A")


def test_an_edit_rescores_the_lead_after_commit(grade_a, rep, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=rep, grade="B")
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(lead=lead, actor=rep, data={"grade": "A"})
    lead.refresh_from_db()
    assert (lead.score, _points(lead)) == (20, 20)
    assert lead.scored_at is not None


def test_nothing_is_rescored_before_commit(grade_a, rep, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=rep, grade="B")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead_update(lead=lead, actor=rep, data={"grade": "A"})
        assert not LeadScore.objects.exists()
    assert callbacks  # queued for after the commit
    assert not LeadScore.objects.exists()


def test_a_logged_visit_rescores_the_lead(add_rule, rep, django_capture_on_commit_callbacks):
    add_rule("engagement", 20, value="1")
    lead = LeadFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        visit_log(
            lead=lead,
            author=rep,
            kind="call",
            outcome="progress",
            summary="电话沟通",
            next_step="报价",
            next_step_date=timezone.localdate(),
        )
    assert _points(lead) == 20


def test_a_stage_move_rescores_the_lead(add_rule, manager, rep, django_capture_on_commit_callbacks):
    add_rule("stage", 15, operator="eq", value="lead")
    lead = LeadFactory(owner=rep, stage=Stage.CONTACTED)
    with django_capture_on_commit_callbacks(execute=True):
        lead_transition(lead=lead, to_stage=Stage.LEAD, actor=rep)
    assert _points(lead) == 15


def test_a_customer_tier_change_rescores_its_leads(add_rule, rep, django_capture_on_commit_callbacks):
    add_rule("customer_tier", 10, operator="eq", value="strategic")
    lead = LeadFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        lead.customer.tier = "strategic"
        lead.customer.save()
    assert _points(lead) == 10


def test_writing_a_score_triggers_no_rescore_and_leaves_updated_at(grade_a, rep, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=rep, grade="A")
    updated_at = Lead.objects.get(pk=lead.pk).updated_at
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert lead_rescore(lead_id=lead.pk) == 1
    assert callbacks == []
    assert Lead.objects.get(pk=lead.pk).updated_at == updated_at


def test_rescoring_an_unchanged_lead_writes_nothing_and_a_deleted_one_is_skipped(grade_a, rep):
    lead = LeadFactory(owner=rep, grade="A")
    assert lead_rescore(lead_id=lead.pk) == 1
    assert lead_rescore(lead_id=lead.pk) == 0
    assert lead_rescore(lead_id=lead.pk + 1000) == 0


def test_the_sweep_rescores_only_leads_whose_inputs_changed(grade_a, rep):
    edited, visited, customer_changed, untouched = LeadFactory.create_batch(4, owner=rep, grade="B")
    assert leads_rescore_all() == 4
    assert leads_stale_ids() == []
    Lead.objects.filter(pk=edited.pk).update(grade="A", updated_at=timezone.now())  # as a save would
    VisitFactory(lead=visited)  # logged without touching the lead row
    customer_changed.customer.tier = "strategic"
    customer_changed.customer.save()
    assert leads_stale_ids() == sorted([edited.pk, visited.pk, customer_changed.pk])
    before = _snapshot()
    assert leads_rescore_stale() == 3
    after = _snapshot()
    assert after[untouched.pk] == before[untouched.pk]
    assert after[edited.pk][0] == 20
    assert leads_stale_ids() == []
    assert leads_rescore_stale() == 0
    assert _snapshot() == after


def test_the_sweep_catches_a_lead_whose_task_was_lost(grade_a, rep):
    lead = LeadFactory(owner=rep, grade="A")  # saved, but its after-commit task never ran
    assert leads_stale_ids() == [lead.pk]
    leads_rescore_stale_task.delay()
    assert _points(lead) == 20


def test_the_nightly_recompute_applies_time_decay_and_writes_only_what_changes(add_rule, rep):
    add_rule("engagement", 20, value="2")
    now = timezone.now()
    active, quiet = LeadFactory(owner=rep), LeadFactory(owner=rep)
    VisitFactory.create_batch(2, lead=active, occurred_at=now - datetime.timedelta(hours=2))
    assert leads_rescore_all(now=now) == 2
    assert (_points(active), _points(quiet)) == (20, 0)
    assert leads_rescore_all(now=now) == 0
    assert leads_rescore_all(now=now + datetime.timedelta(days=15)) == 1  # only the active lead decays
    assert _points(active) == 10
    assert Lead.objects.get(pk=active.pk).score == 10
    assert leads_rescore_all(now=now + datetime.timedelta(days=15)) == 0
    leads_rescore_all_task.delay()  # back to today
    assert _points(active) == 20


def test_a_score_from_older_data_never_replaces_a_newer_one(grade_a, rep):
    lead = LeadFactory(owner=rep, grade="B")
    ctx = Context.load()
    old_read_at = timezone.now()
    _read_at, stale_chunk = _read(Scope(ids=(lead.pk,)), ctx, Archive())
    Lead.objects.filter(pk=lead.pk).update(grade="A", updated_at=timezone.now())
    lead_rescore_task.delay(lead.pk)  # the newer job finishes first
    assert _points(lead) == 20
    _chunk_score(stale_chunk, ctx, read_at=old_read_at)  # the slower job writes what it read before
    assert _points(lead) == 20
    assert Lead.objects.get(pk=lead.pk).score == 20


def test_changing_a_rule_rescores_every_lead_after_commit(admin_user, rep, django_capture_on_commit_callbacks):
    leads = LeadFactory.create_batch(3, owner=rep, grade="A")
    with django_capture_on_commit_callbacks(execute=True):
        rule = score_rule_save(
            actor=admin_user, data={"name": "A", "criterion": "grade", "operator": "eq", "value": "A", "points": 25}
        )
    assert [_points(lead) for lead in leads] == [25, 25, 25]
    with django_capture_on_commit_callbacks(execute=True):
        score_rule_save(actor=admin_user, rule=rule, data={"points": 30})
    assert [_points(lead) for lead in leads] == [30, 30, 30]


def test_many_leads_written_without_signals_are_scored_by_the_batch_task_or_the_sweep(grade_a, rep):
    from crm.models import Customer
    from scoring.tasks import leads_rescore_task

    customers = Customer.objects.bulk_create(Customer(name=f"导入客户{i}", name_key=f"import{i}") for i in range(4))
    leads = Lead.objects.bulk_create(Lead(customer=c, grade="A") for c in customers)
    assert leads_stale_ids() == sorted(lead.pk for lead in leads)
    assert leads_rescore_task.delay([lead.pk for lead in leads[:2]]).get() == 2
    assert leads_rescore_stale() == 2
    assert {_points(lead) for lead in leads} == {20}
