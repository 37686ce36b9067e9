"""visit_log: who may log a visit, what a visit must say, and how the lead follows its latest visit."""

import datetime
import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.choices import Stage, VisitKind, VisitOutcome
from crm.models import Lead, OwnerChange, StageChange, Visit
from funnel.services import visit_log
from tests.factories import ContactFactory, LeadFactory, VisitFactory

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
TODAY = datetime.date(2026, 3, 10)
DAY = datetime.timedelta(days=1)
FIELDS = ("last_activity_at", "next_step", "next_step_date", "is_followup_overdue", "stage", "owner_id")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _lead(owner, **kwargs):
    kwargs = {
        "stage": Stage.CONTACTED,
        "created_at": NOW - 60 * DAY,
        "last_activity_at": NOW - 20 * DAY,
        "is_followup_overdue": owner is not None,
        "next_step": "寄样品",
        "next_step_date": TODAY - 5 * DAY,
    } | kwargs
    return LeadFactory(owner=owner, **kwargs)


def _log(lead, author, **kwargs):
    values = {
        "kind": VisitKind.VISIT,
        "outcome": VisitOutcome.PROGRESS,
        "summary": "上门演示，客户询问报价",
        "next_step": "发送报价单",
        "next_step_date": TODAY + 3 * DAY,
    } | kwargs
    return visit_log(lead=lead, author=author, **values)


def _counts():
    return [model.objects.count() for model in (Lead, StageChange, Visit, OwnerChange)]


def _state(lead):
    return Lead.objects.filter(pk=lead.pk).values(*FIELDS).get()


def _refused(lead, author, key, **kwargs):
    """Assert logging fails with `key` and writes nothing."""
    before, state = _counts(), _state(lead)
    with pytest.raises(ValidationError) as exc:
        _log(lead, author, **kwargs)
    assert key in exc.value.message_dict
    assert (_counts(), _state(lead)) == (before, state)


# Happy paths -------------------------------------------------------------------------------------------------------


def test_rep_logs_a_visit_and_the_lead_follows_it(rep):
    lead = _lead(rep)
    visit = _log(lead, rep)
    assert Visit.objects.get() == visit
    assert (visit.lead, visit.author, visit.kind, visit.outcome) == (lead, rep, VisitKind.VISIT, VisitOutcome.PROGRESS)
    assert visit.summary == "上门演示，客户询问报价"
    assert (visit.next_step, visit.next_step_date) == ("发送报价单", TODAY + 3 * DAY)
    assert visit.occurred_at == NOW
    lead.refresh_from_db()
    assert (lead.last_activity_at, lead.next_step, lead.next_step_date) == (NOW, "发送报价单", TODAY + 3 * DAY)
    assert lead.is_followup_overdue is False


@pytest.mark.parametrize("outcome", [VisitOutcome.ORDER, VisitOutcome.NO_SALE])
def test_order_and_no_sale_need_no_next_step(outcome, rep):
    visit = _log(_lead(rep), rep, outcome=outcome, next_step="", next_step_date=None)
    assert Visit.objects.get().pk == visit.pk


def test_manager_logs_a_visit_on_a_team_lead(rep, manager):
    visit = _log(_lead(rep), manager)
    assert visit.author == manager


@pytest.mark.parametrize("persona", ["rep", "outsider", "manager", "other_manager"])
def test_anyone_who_sees_the_pool_may_leave_a_light_touch_note_on_a_pool_lead(persona, db, request):
    lead = _lead(None)
    visit = _log(lead, request.getfixturevalue(persona), outcome=VisitOutcome.CONTINUATION)
    assert visit.lead == lead
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_the_contact_met_is_stored(rep):
    lead = _lead(rep)
    contact = ContactFactory(customer=lead.customer)
    assert _log(lead, rep, contact=contact).contact == contact


def test_a_backdated_visit_may_promise_a_step_that_is_already_past(rep):
    visit = _log(_lead(rep), rep, occurred_at=NOW - 3 * DAY, next_step_date=TODAY - DAY)
    assert visit.occurred_at == NOW - 3 * DAY


def test_an_older_visit_does_not_replace_the_latest_next_step(rep):
    lead = _lead(rep, last_activity_at=NOW - DAY, is_followup_overdue=False, next_step_date=TODAY + DAY)
    VisitFactory(lead=lead, author=rep, occurred_at=NOW - DAY, next_step="寄样品", next_step_date=TODAY + DAY)
    _log(lead, rep, occurred_at=NOW - 5 * DAY, next_step="电话回访", next_step_date=TODAY - 4 * DAY)
    lead.refresh_from_db()
    assert (lead.last_activity_at, lead.next_step, lead.next_step_date) == (NOW - DAY, "寄样品", TODAY + DAY)


def test_a_visit_backdated_past_the_follow_up_window_leaves_the_lead_overdue(rep, settings):
    settings.FOLLOW_UP_AFTER_DAYS = 15
    lead = _lead(rep, last_activity_at=None, is_followup_overdue=True)
    _log(lead, rep, occurred_at=NOW - 20 * DAY, next_step_date=TODAY - 18 * DAY)
    lead.refresh_from_db()
    assert lead.last_activity_at == NOW - 20 * DAY
    assert lead.is_followup_overdue is True


def test_a_visit_up_to_five_minutes_ahead_is_clock_skew(rep):
    visit = _log(_lead(rep), rep, occurred_at=NOW + datetime.timedelta(minutes=4))
    assert visit.occurred_at == NOW + datetime.timedelta(minutes=4)


def test_the_next_step_may_fall_on_the_visit_s_local_day_just_after_midnight(rep):
    lead = _lead(rep)
    # 00:30 on 10 March in Shanghai is still 9 March in UTC.
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 3, 10, 0, 30)), tick=False):
        visit = _log(lead, rep, next_step_date=TODAY)
    assert visit.next_step_date == TODAY


# Idempotent form posts --------------------------------------------------------------------------------------------


def test_the_same_form_posted_twice_saves_one_visit(rep):
    lead, token = _lead(rep), uuid.uuid4()
    first = _log(lead, rep, form_token=token)
    again = _log(lead, rep, form_token=token, summary="重复提交")
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    assert Visit.objects.get().summary == "上门演示，客户询问报价"


def test_a_form_token_is_per_author(rep, manager):
    lead, token = _lead(rep), uuid.uuid4()
    assert _log(lead, rep, form_token=token).pk != _log(lead, manager, form_token=token).pk
    assert Visit.objects.count() == 2


# Who may log ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager", "finance"])
def test_visit_log_refuses_anyone_who_cannot_edit_the_lead(persona, rep, request):
    lead = _lead(rep)
    before, state = _counts(), _state(lead)
    with pytest.raises(PermissionDenied):
        _log(lead, request.getfixturevalue(persona))
    assert (_counts(), _state(lead)) == (before, state)


def test_finance_may_not_note_a_pool_lead(finance):
    lead = _lead(None)
    with pytest.raises(PermissionDenied):
        _log(lead, finance)
    assert Visit.objects.count() == 0


# Rules ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("summary", ["", "   "])
def test_a_visit_needs_a_summary(summary, rep):
    _refused(_lead(rep), rep, "summary", summary=summary)


@pytest.mark.parametrize("outcome", [VisitOutcome.PROGRESS, VisitOutcome.CONTINUATION])
def test_progress_and_continuation_need_a_next_step(outcome, rep):
    _refused(_lead(rep), rep, "next_step", outcome=outcome, next_step="")


@pytest.mark.parametrize("outcome", [VisitOutcome.PROGRESS, VisitOutcome.CONTINUATION])
def test_progress_and_continuation_need_a_next_step_date(outcome, rep):
    _refused(_lead(rep), rep, "next_step_date", outcome=outcome, next_step_date=None)


def test_the_next_step_may_not_come_before_the_visit(rep):
    _refused(_lead(rep), rep, "next_step_date", next_step_date=TODAY - DAY)


def test_the_next_step_may_not_come_before_a_backdated_visit(rep):
    _refused(_lead(rep), rep, "next_step_date", occurred_at=NOW - 3 * DAY, next_step_date=TODAY - 4 * DAY)


def test_a_visit_may_not_be_in_the_future(rep):
    _refused(_lead(rep), rep, "occurred_at", occurred_at=NOW + datetime.timedelta(minutes=6), next_step_date=TODAY)


def test_the_contact_must_belong_to_the_lead_s_customer(rep):
    lead = _lead(rep)
    _refused(lead, rep, "contact", contact=ContactFactory())


def test_the_next_step_may_not_fall_before_the_visit_s_local_day_just_after_midnight(rep):
    lead = _lead(rep)
    # 00:30 on 10 March in Shanghai is still 9 March in UTC, but the visit's day is the 10th.
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 3, 10, 0, 30)), tick=False):
        _refused(lead, rep, "next_step_date", next_step_date=TODAY - DAY)
