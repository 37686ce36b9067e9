"""The pool (公海): claiming, releasing, assigning, and the optional auto-return of neglected leads."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Role
from crm.choices import LostReason, Stage
from crm.models import Customer, Lead, OwnerChange, StageChange, Visit
from funnel.services import lead_assign, lead_claim, lead_release, leads_return_stale
from tests.factories import CustomerFactory, LeadFactory, UserFactory

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
DAY = datetime.timedelta(days=1)
Action = OwnerChange.Action


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _snapshot(*leads):
    counts = [model.objects.count() for model in (Lead, StageChange, Visit, OwnerChange, Customer)]
    rows = Lead.objects.filter(pk__in=[lead.pk for lead in leads]).order_by("pk")
    return counts, list(rows.values_list("stage", "owner_id", "customer__owner_id", "closed_at", "lost_reason"))


def _refused(call, key, *leads, **kwargs):
    """Assert the call fails with `key` and changes nothing."""
    before = _snapshot(*leads)
    with pytest.raises(ValidationError) as exc:
        call(**kwargs)
    assert key in exc.value.message_dict
    assert _snapshot(*leads) == before


# lead_claim -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_reps_and_managers_claim_a_pool_lead_with_its_customer(persona, request):
    user = request.getfixturevalue(persona)
    lead = LeadFactory(owner=None)
    lead_claim(lead=lead, rep=user)
    lead.refresh_from_db()
    assert (lead.owner, lead.customer.owner) == (user, user)
    change = OwnerChange.objects.get()
    assert (change.action, change.lead, change.from_owner, change.to_owner, change.actor) == (
        Action.CLAIM, lead, None, user, user,
    )  # fmt: skip


def test_claiming_a_cooled_down_abandoned_lead_reopens_it_as_a_resource(rep, settings):
    settings.POOL_COOLDOWN_DAYS = 30
    lead = LeadFactory(
        owner=None, stage=Stage.ABANDONED, closed_at=NOW - 31 * DAY, lost_reason=LostReason.OTHER, lost_note="无预算"
    )
    lead_claim(lead=lead, rep=rep)
    lead.refresh_from_db()
    assert (lead.owner, lead.stage, lead.lost_reason, lead.lost_note, lead.closed_at) == (
        rep, Stage.RESOURCE, "", "", None,
    )  # fmt: skip
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage) == (Stage.ABANDONED, Stage.RESOURCE)


def test_a_rep_may_claim_a_pool_lead_of_a_customer_they_own(rep):
    lead = LeadFactory(owner=None, customer=CustomerFactory(owner=rep))
    assert lead_claim(lead=lead, rep=rep).owner == rep


def test_closed_leads_do_not_count_against_the_open_lead_cap(rep, settings):
    settings.POOL_MAX_OPEN_LEADS = 2
    LeadFactory.create_batch(2, owner=rep, stage=Stage.ABANDONED)
    LeadFactory(owner=rep, stage=Stage.IMPLEMENTED)
    LeadFactory(owner=rep, stage=Stage.CONTACTED)
    assert lead_claim(lead=LeadFactory(owner=None), rep=rep).owner == rep


@pytest.mark.parametrize("persona", ["finance", "support", "director"])
def test_only_reps_and_managers_claim(persona, db, request):
    lead = LeadFactory(owner=None)
    with pytest.raises(PermissionDenied):
        lead_claim(lead=lead, rep=request.getfixturevalue(persona))
    assert (Lead.objects.get(pk=lead.pk).owner, OwnerChange.objects.count()) == (None, 0)


def test_claiming_an_owned_lead_is_refused(rep, teammate):
    lead = LeadFactory(owner=teammate)
    _refused(lead_claim, "owner", lead, lead=lead, rep=rep)


def test_claiming_past_the_open_lead_cap_is_refused(rep, settings):
    settings.POOL_MAX_OPEN_LEADS = 2
    LeadFactory.create_batch(2, owner=rep, stage=Stage.LEAD)
    lead = LeadFactory(owner=None)
    _refused(lead_claim, "owner", lead, lead=lead, rep=rep)


def test_claiming_past_the_daily_cap_is_refused_counting_from_local_midnight(rep, settings):
    settings.POOL_MAX_CLAIMS_PER_DAY = 2
    # 00:30 in Shanghai today is still yesterday in UTC; these claims count for today.
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 3, 10, 0, 30)), tick=False):
        for _ in range(2):
            lead_claim(lead=LeadFactory(owner=None), rep=rep)
    lead = LeadFactory(owner=None)
    _refused(lead_claim, "owner", lead, lead=lead, rep=rep)


def test_claims_before_local_midnight_belong_to_yesterday(rep, settings):
    settings.POOL_MAX_CLAIMS_PER_DAY = 2
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 3, 9, 23, 30)), tick=False):
        for _ in range(2):
            lead_claim(lead=LeadFactory(owner=None), rep=rep)
    assert lead_claim(lead=LeadFactory(owner=None), rep=rep).owner == rep


def test_an_abandoned_lead_is_not_claimed_again_during_its_cool_down(rep, settings):
    settings.POOL_COOLDOWN_DAYS = 30
    lead = LeadFactory(owner=None, stage=Stage.ABANDONED, closed_at=NOW - 10 * DAY, lost_reason=LostReason.REFUSED)
    _refused(lead_claim, "owner", lead, lead=lead, rep=rep)


def test_a_pool_lead_of_someone_else_s_customer_is_not_claimed(rep, teammate):
    lead = LeadFactory(owner=None, customer=CustomerFactory(owner=teammate))
    _refused(lead_claim, "owner", lead, lead=lead, rep=rep)


# lead_release -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_a_lead_returns_to_the_pool_with_its_customer(persona, rep, request):
    actor = request.getfixturevalue(persona)
    lead = LeadFactory(owner=rep)
    LeadFactory(owner=rep, customer=lead.customer, stage=Stage.ABANDONED)  # closed: does not hold the customer
    lead_release(lead=lead, actor=actor, reason="客户暂无需求")
    lead.refresh_from_db()
    assert (lead.owner, lead.customer.owner) == (None, None)
    change = OwnerChange.objects.get()
    assert (change.action, change.lead, change.from_owner, change.to_owner) == (Action.RETURN, lead, rep, None)
    assert (change.actor, change.reason) == (actor, "客户暂无需求")


def test_the_customer_stays_with_a_rep_who_still_works_another_of_its_leads(rep):
    lead = LeadFactory(owner=rep)
    LeadFactory(owner=rep, customer=lead.customer, stage=Stage.INTENTION)
    lead_release(lead=lead, actor=rep, reason="重复线索")
    lead.refresh_from_db()
    assert (lead.owner, lead.customer.owner) == (None, rep)


@pytest.mark.parametrize("reason", ["", "   "])
def test_releasing_needs_a_reason(reason, rep):
    lead = LeadFactory(owner=rep)
    _refused(lead_release, "reason", lead, lead=lead, actor=rep, reason=reason)


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager"])
def test_only_someone_who_may_edit_the_lead_releases_it(persona, rep, request):
    lead = LeadFactory(owner=rep)
    with pytest.raises(PermissionDenied):
        lead_release(lead=lead, actor=request.getfixturevalue(persona), reason="不想跟了")
    assert (Lead.objects.get(pk=lead.pk).owner, OwnerChange.objects.count()) == (rep, 0)


# lead_assign ------------------------------------------------------------------------------------------------------


def test_manager_reassigns_a_lead_and_the_customer_s_other_open_leads_follow(rep, teammate, manager):
    lead = LeadFactory(owner=rep)
    sibling = LeadFactory(owner=rep, customer=lead.customer, stage=Stage.INTENTION)
    closed = LeadFactory(owner=rep, customer=lead.customer, stage=Stage.ABANDONED)
    lead_assign(lead=lead, to_owner=teammate, actor=manager, reason="均衡工作量")
    for row in (lead, sibling, closed):
        row.refresh_from_db()
    assert (lead.owner, sibling.owner, closed.owner, lead.customer.owner) == (teammate, teammate, rep, teammate)
    changes = OwnerChange.objects.filter(action=Action.ASSIGN)
    assert sorted(c.lead_id for c in changes) == sorted([lead.pk, sibling.pk])
    assert {(c.from_owner, c.to_owner, c.actor) for c in changes} == {(rep, teammate, manager)}


def test_manager_assigns_a_pool_lead_to_a_team_member(rep, manager):
    lead = LeadFactory(owner=None)
    lead_assign(lead=lead, to_owner=rep, actor=manager)
    lead.refresh_from_db()
    assert (lead.owner, lead.customer.owner) == (rep, rep)
    assert OwnerChange.objects.get().action == Action.ASSIGN


@pytest.mark.parametrize("persona", ["director", "admin_user"])
def test_directors_and_admins_assign_across_teams(persona, rep, outsider, request):
    lead = LeadFactory(owner=outsider)
    lead_assign(lead=lead, to_owner=rep, actor=request.getfixturevalue(persona))
    assert Lead.objects.get(pk=lead.pk).owner == rep


def test_reps_may_not_assign_even_their_own_leads(rep, teammate):
    lead = LeadFactory(owner=rep)
    with pytest.raises(PermissionDenied):
        lead_assign(lead=lead, to_owner=teammate, actor=rep)
    assert Lead.objects.get(pk=lead.pk).owner == rep


def test_a_manager_may_not_assign_another_team_s_lead(rep, outsider, manager):
    lead = LeadFactory(owner=outsider)
    with pytest.raises(PermissionDenied):
        lead_assign(lead=lead, to_owner=rep, actor=manager)
    assert (Lead.objects.get(pk=lead.pk).owner, OwnerChange.objects.count()) == (outsider, 0)


def test_a_manager_may_not_assign_to_another_team(rep, outsider, manager):
    lead = LeadFactory(owner=rep)
    _refused(lead_assign, "to_owner", lead, lead=lead, to_owner=outsider, actor=manager)


@pytest.mark.parametrize(
    "target",
    [{"role": Role.FINANCE}, {"role": Role.SUPPORT}, {"role": Role.DIRECTOR}, {"role": Role.REP, "is_active": False}],
)
def test_leads_go_only_to_active_reps_and_managers(target, rep, team, director):
    lead = LeadFactory(owner=rep)
    _refused(lead_assign, "to_owner", lead, lead=lead, to_owner=UserFactory(team=team, **target), actor=director)


# leads_return_stale -----------------------------------------------------------------------------------------------


def _stale_world(rep):
    old = {"created_at": NOW - 90 * DAY}
    return {
        "returned": [
            LeadFactory(owner=rep, stage=Stage.CONTACTED, last_activity_at=NOW - 31 * DAY, **old),
            LeadFactory(owner=rep, stage=Stage.RESOURCE, last_activity_at=None, created_at=NOW - 40 * DAY),
            LeadFactory(owner=rep, stage=Stage.INTENTION, last_activity_at=NOW - 60 * DAY, **old),
        ],
        "kept": [
            LeadFactory(owner=rep, stage=Stage.LEAD, last_activity_at=NOW - 29 * DAY, **old),
            LeadFactory(owner=rep, stage=Stage.GRADED, last_activity_at=None, created_at=NOW - 5 * DAY),
            LeadFactory(owner=rep, stage=Stage.SIGNED, last_activity_at=NOW - 90 * DAY, **old),
            LeadFactory(owner=rep, stage=Stage.ABANDONED, last_activity_at=NOW - 90 * DAY, **old),
            LeadFactory(owner=rep, stage=Stage.IMPLEMENTED, last_activity_at=NOW - 90 * DAY, **old),
        ],
    }


def test_stale_leads_go_back_to_the_pool_once(rep, settings):
    settings.POOL_AUTO_RETURN_DAYS = 30
    world = _stale_world(rep)
    LeadFactory(owner=None, last_activity_at=NOW - 90 * DAY, created_at=NOW - 90 * DAY)  # already in the pool
    assert leads_return_stale(now=NOW) == 3
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert [owners[lead.pk] for lead in world["returned"]] == [None, None, None]
    assert [owners[lead.pk] for lead in world["kept"]] == [rep.pk] * 5
    changes = OwnerChange.objects.all()
    assert sorted(c.lead_id for c in changes) == sorted(lead.pk for lead in world["returned"])
    assert {(c.action, c.from_owner, c.to_owner) for c in changes} == {(Action.AUTO_RETURN, rep, None)}
    assert leads_return_stale(now=NOW) == 0
    assert OwnerChange.objects.count() == 3


def test_auto_return_is_off_by_default(rep, settings):
    settings.POOL_AUTO_RETURN_DAYS = 0
    world = _stale_world(rep)
    assert leads_return_stale(now=NOW) == 0
    assert Lead.objects.get(pk=world["returned"][0].pk).owner == rep
    assert OwnerChange.objects.count() == 0
