"""lead_transition: who may move a lead where, the gate in front of each stage, and what one move writes."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from crm.choices import LostReason, Stage
from crm.models import Contract, Lead, OwnerChange, StageChange, Visit
from funnel.services import lead_transition
from tests.factories import LeadFactory, UserFactory, VisitFactory
from tests.receivables.factories import paid_contract

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
TODAY = datetime.date(2026, 3, 10)
EARLIER = NOW - datetime.timedelta(days=10)
FIELDS = (
    "stage", "stage_entered_at", "last_progress_at", "closed_at", "signed_amount", "signed_on",
    "lost_reason", "lost_note", "is_out_of_funnel", "is_verdict_due", "owner_id",
)  # fmt: skip
# Everything each gate asks for, so that only the stage rule itself can refuse the move.
ALL_GATES = {
    "signed_amount": Decimal("50000.00"),
    "signed_on": TODAY,
    "implementation_accepted": True,
    "lost_reason": LostReason.REFUSED,
}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _lead(owner, stage=Stage.CONTACTED, **kwargs):
    """Return a lead that passes every gate (grade, Need, Authority, a visit, a paid contract) unless told otherwise."""
    defaults = {"stage_entered_at": EARLIER, "last_progress_at": EARLIER, "need_known": True, "authority_known": True}
    if stage in (Stage.SIGNED, Stage.IMPLEMENTED):
        defaults |= {"signed_amount": Decimal("50000.00"), "signed_on": TODAY - datetime.timedelta(days=20)}
    if stage == Stage.IMPLEMENTED:
        defaults["closed_at"] = EARLIER
    if stage == Stage.ABANDONED:
        defaults |= {"closed_at": EARLIER, "lost_reason": LostReason.OTHER, "lost_note": "预算取消"}
    kwargs = defaults | kwargs
    lead = LeadFactory(owner=owner, stage=stage, **kwargs)
    VisitFactory(lead=lead, author=owner or UserFactory(), occurred_at=EARLIER)
    if stage in (Stage.SIGNED, Stage.IMPLEMENTED):
        paid_contract(lead=lead, amount=lead.signed_amount)  # signed, and finance confirmed every payment
    return lead


def _counts():
    return [model.objects.count() for model in (Lead, StageChange, Visit, OwnerChange, Contract)]


def _state(lead):
    return Lead.objects.filter(pk=lead.pk).values(*FIELDS).get()


def _refused(lead, key, **kwargs):
    """Assert the move fails with `key` and leaves every row as it was."""
    before, state = _counts(), _state(lead)
    with pytest.raises(ValidationError) as exc:
        lead_transition(lead=lead, **kwargs)
    assert key in exc.value.message_dict
    assert _counts() == before
    assert _state(lead) == state


# Happy paths -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "extra"),
    [
        (Stage.RESOURCE, Stage.GRADED, {}),
        (Stage.GRADED, Stage.CONTACTED, {}),
        (Stage.CONTACTED, Stage.LEAD, {}),
        (Stage.LEAD, Stage.INTENTION, {}),
        (Stage.INTENTION, Stage.SIGNED, {"signed_amount": Decimal("50000.00"), "signed_on": TODAY}),
        (Stage.SIGNED, Stage.IMPLEMENTED, {"implementation_accepted": True}),
    ],
)
def test_rep_moves_own_lead_one_stage_forward(from_stage, to_stage, extra, rep):
    lead = _lead(rep, from_stage, is_verdict_due=True)
    moved = lead_transition(lead=lead, to_stage=to_stage, actor=rep, reason="客户有兴趣", **extra)
    assert moved.stage == to_stage
    lead.refresh_from_db()
    assert (lead.stage, lead.stage_entered_at, lead.last_progress_at) == (to_stage, NOW, NOW)
    assert lead.is_verdict_due is False
    assert lead.is_out_of_funnel is False
    assert lead.closed_at == (NOW if to_stage == Stage.IMPLEMENTED else None)
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.actor) == (from_stage, to_stage, rep)
    assert change.reason == "客户有兴趣"
    assert change.is_out_of_funnel is False


def test_signing_stores_the_contract_amount_and_date(rep):
    lead = _lead(rep, Stage.INTENTION)
    lead_transition(lead=lead, to_stage=Stage.SIGNED, actor=rep, signed_amount=Decimal("88000.50"), signed_on=TODAY)
    lead.refresh_from_db()
    assert (lead.signed_amount, lead.signed_on) == (Decimal("88000.50"), TODAY)


def test_rep_abandons_an_open_lead_with_a_reason(rep):
    lead = _lead(rep, Stage.INTENTION, is_verdict_due=True)
    lead_transition(lead=lead, to_stage=Stage.ABANDONED, actor=rep, lost_reason=LostReason.OTHER, lost_note="客户倒闭")
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason, lead.lost_note) == (Stage.ABANDONED, LostReason.OTHER, "客户倒闭")
    assert (lead.closed_at, lead.last_progress_at, lead.stage_entered_at, lead.is_verdict_due) == (NOW, NOW, NOW, False)
    assert StageChange.objects.get(lead=lead).to_stage == Stage.ABANDONED


def test_an_ungraded_resource_can_still_be_abandoned(rep):
    lead = _lead(rep, Stage.RESOURCE, grade="")
    lead_transition(lead=lead, to_stage=Stage.ABANDONED, actor=rep, lost_reason=LostReason.UNREACHABLE)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.ABANDONED


@pytest.mark.parametrize("persona", ["manager", "director", "admin_user"])
def test_managers_and_above_may_skip_stages_forward(persona, rep, request):
    lead = _lead(rep, Stage.RESOURCE)
    lead_transition(lead=lead, to_stage=Stage.INTENTION, actor=request.getfixturevalue(persona))
    lead.refresh_from_db()
    assert (lead.stage, lead.last_progress_at) == (Stage.INTENTION, NOW)


def test_manager_moves_a_lead_back_without_counting_it_as_progress(rep, manager):
    lead = _lead(rep, Stage.SIGNED)
    lead_transition(lead=lead, to_stage=Stage.LEAD, actor=manager, reason="合同作废")
    lead.refresh_from_db()
    assert (lead.stage, lead.stage_entered_at, lead.last_progress_at) == (Stage.LEAD, NOW, EARLIER)
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.actor) == (Stage.SIGNED, Stage.LEAD, manager)


def test_manager_may_move_a_pool_lead(manager):
    lead = _lead(None, Stage.RESOURCE)
    lead_transition(lead=lead, to_stage=Stage.GRADED, actor=manager)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.GRADED


@pytest.mark.parametrize("persona", ["manager", "director", "admin_user"])
def test_reopening_an_abandoned_lead_clears_the_loss(persona, rep, request):
    lead = _lead(rep, Stage.ABANDONED)
    lead_transition(lead=lead, to_stage=Stage.LEAD, actor=request.getfixturevalue(persona))
    lead.refresh_from_db()
    assert (lead.stage, lead.closed_at, lead.lost_reason, lead.lost_note) == (Stage.LEAD, None, "", "")
    assert StageChange.objects.get(lead=lead).from_stage == Stage.ABANDONED


def test_skipping_into_signed_marks_the_lead_out_of_funnel(rep, manager):
    lead = _lead(rep, Stage.LEAD)
    lead_transition(lead=lead, to_stage=Stage.SIGNED, actor=manager, signed_amount=Decimal("1000"), signed_on=TODAY)
    lead.refresh_from_db()
    assert lead.is_out_of_funnel is True
    assert StageChange.objects.get(lead=lead).is_out_of_funnel is True


def test_signed_on_today_counts_in_local_time_just_after_midnight(rep):
    lead = _lead(rep, Stage.INTENTION)
    # 00:30 on 10 March in Shanghai is still 9 March in UTC.
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 3, 10, 0, 30)), tick=False):
        lead_transition(lead=lead, to_stage=Stage.SIGNED, actor=rep, signed_amount=Decimal("1"), signed_on=TODAY)
    assert Lead.objects.get(pk=lead.pk).signed_on == TODAY


# Who may move the lead at all -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager", "finance"])
def test_lead_transition_refuses_anyone_who_cannot_edit_the_lead(persona, rep, request):
    lead = _lead(rep, Stage.CONTACTED)
    before, state = _counts(), _state(lead)
    with pytest.raises(PermissionDenied):
        lead_transition(lead=lead, to_stage=Stage.LEAD, actor=request.getfixturevalue(persona))
    assert (_counts(), _state(lead)) == (before, state)


def test_rep_may_not_move_a_pool_lead(rep):
    lead = _lead(None, Stage.RESOURCE)
    with pytest.raises(PermissionDenied):
        lead_transition(lead=lead, to_stage=Stage.GRADED, actor=rep)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.RESOURCE


# The stage rule --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_stage", "to_stage"),
    [
        (Stage.RESOURCE, Stage.CONTACTED),  # skip
        (Stage.CONTACTED, Stage.INTENTION),  # skip
        (Stage.LEAD, Stage.SIGNED),  # skip
        (Stage.LEAD, Stage.CONTACTED),  # back
        (Stage.SIGNED, Stage.INTENTION),  # back
        (Stage.CONTACTED, Stage.CONTACTED),  # same
        (Stage.IMPLEMENTED, Stage.SIGNED),  # nothing after implemented
        (Stage.IMPLEMENTED, Stage.ABANDONED),
        (Stage.ABANDONED, Stage.CONTACTED),  # reopening is for managers
        (Stage.ABANDONED, Stage.ABANDONED),
    ],
)
def test_rep_may_only_step_forward_once_or_abandon(from_stage, to_stage, rep):
    _refused(_lead(rep, from_stage), "to_stage", to_stage=to_stage, actor=rep, **ALL_GATES)


@pytest.mark.parametrize("persona", ["manager", "director"])
@pytest.mark.parametrize(
    ("from_stage", "to_stage"),
    [
        (Stage.LEAD, Stage.LEAD),
        (Stage.ABANDONED, Stage.ABANDONED),
        (Stage.IMPLEMENTED, Stage.ABANDONED),
    ],
)
def test_nobody_may_stay_put_or_abandon_a_closed_lead(persona, from_stage, to_stage, rep, request):
    actor = request.getfixturevalue(persona)
    _refused(_lead(rep, from_stage), "to_stage", to_stage=to_stage, actor=actor, **ALL_GATES)


# Gates ------------------------------------------------------------------------------------------------------------


def test_grading_needs_a_grade(rep):
    _refused(_lead(rep, Stage.RESOURCE, grade=""), "grade", to_stage=Stage.GRADED, actor=rep)


def test_skipping_past_graded_still_needs_a_grade(rep, manager):
    _refused(_lead(rep, Stage.RESOURCE, grade=""), "grade", to_stage=Stage.LEAD, actor=manager)


def test_the_grade_can_be_given_with_the_move_to_graded(rep):
    lead = lead_transition(lead=_lead(rep, Stage.RESOURCE, grade=""), to_stage=Stage.GRADED, actor=rep, grade="A")
    assert (lead.stage, lead.grade) == (Stage.GRADED, "A")


def test_an_unknown_grade_is_refused(rep):
    _refused(_lead(rep, Stage.RESOURCE, grade=""), "grade", to_stage=Stage.GRADED, actor=rep, grade="Z")


def test_moving_an_implemented_lead_back_reopens_it_without_an_out_of_funnel_mark(rep, manager):
    lead = _lead(rep, Stage.IMPLEMENTED)
    Lead.objects.filter(pk=lead.pk).update(closed_at=timezone.now())
    lead = lead_transition(lead=lead, to_stage=Stage.SIGNED, actor=manager, **ALL_GATES)
    assert lead.closed_at is None and lead.is_out_of_funnel is False


@pytest.mark.parametrize("missing", ["need_known", "authority_known", "visit"])
def test_intention_needs_need_authority_and_a_visit(missing, rep):
    lead = _lead(rep, Stage.LEAD, **({missing: False} if missing != "visit" else {}))
    if missing == "visit":
        lead.visits.all().delete()
    _refused(lead, "to_stage", to_stage=Stage.INTENTION, actor=rep)


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-5")])
def test_signing_needs_a_positive_amount(amount, rep):
    lead = _lead(rep, Stage.INTENTION)
    _refused(lead, "signed_amount", to_stage=Stage.SIGNED, actor=rep, signed_amount=amount, signed_on=TODAY)


@pytest.mark.parametrize("signed_on", [None, TODAY + datetime.timedelta(days=1)])
def test_signing_needs_a_date_not_in_the_future(signed_on, rep):
    lead = _lead(rep, Stage.INTENTION)
    _refused(lead, "signed_on", to_stage=Stage.SIGNED, actor=rep, signed_amount=Decimal("1"), signed_on=signed_on)


def test_implemented_needs_the_implementation_accepted(rep):
    lead = _lead(rep, Stage.SIGNED)
    _refused(lead, "implementation_accepted", to_stage=Stage.IMPLEMENTED, actor=rep, implementation_accepted=False)


def test_implemented_needs_the_contract_paid_in_full_by_confirmed_payments(rep):
    lead = _lead(rep, Stage.SIGNED)
    Contract.objects.filter(lead=lead).update(paid_amount=Decimal("49999.99"))
    _refused(lead, "to_stage", to_stage=Stage.IMPLEMENTED, actor=rep, implementation_accepted=True)


def test_implemented_needs_a_contract(rep, manager):
    lead = _lead(rep, Stage.INTENTION)  # a manager may skip 签约, but not the money
    _refused(lead, "to_stage", to_stage=Stage.IMPLEMENTED, actor=manager, implementation_accepted=True)


def test_implemented_refuses_a_contract_awaiting_approval(rep):
    lead = _lead(rep, Stage.SIGNED)
    Contract.objects.filter(lead=lead).update(status=Contract.Status.PENDING_APPROVAL)
    _refused(lead, "to_stage", to_stage=Stage.IMPLEMENTED, actor=rep, implementation_accepted=True)


def test_implementation_acceptance_is_kept_on_the_contract(rep):
    lead = _lead(rep, Stage.SIGNED)
    lead_transition(lead=lead, to_stage=Stage.IMPLEMENTED, actor=rep, implementation_accepted=True)
    assert Contract.objects.get(lead=lead).implementation_accepted_at == NOW
    assert StageChange.objects.get(lead=lead).reason == gettext("Contract paid in full; implementation accepted.")


@pytest.mark.parametrize("lost_reason", ["", "changed_mind"])
def test_abandoning_needs_a_known_lost_reason(lost_reason, rep):
    _refused(_lead(rep), "lost_reason", to_stage=Stage.ABANDONED, actor=rep, lost_reason=lost_reason)


@pytest.mark.parametrize("lost_note", ["", "   "])
def test_abandoning_for_other_reasons_needs_a_note(lost_note, rep):
    lead = _lead(rep)
    _refused(lead, "lost_note", to_stage=Stage.ABANDONED, actor=rep, lost_reason=LostReason.OTHER, lost_note=lost_note)
