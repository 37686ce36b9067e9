"""rep_handover: a leaving rep's customers and open leads handed over whole, one customer to one new owner."""

import collections

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from crm.choices import Stage
from crm.models import Customer, Lead, OwnerChange, StageChange
from funnel.services import rep_handover
from tests.factories import CustomerFactory, LeadFactory, UserFactory

Action = OwnerChange.Action


@pytest.fixture
def newcomer(team):
    return UserFactory(username="newcomer", role=Role.REP, team=team)


@pytest.fixture
def book(rep):
    """The leaving rep's book: four customers, four open leads, two closed ones."""
    customers = CustomerFactory.create_batch(4, owner=rep)
    first, second, third, _no_leads = customers
    open_leads = [
        LeadFactory(owner=rep, customer=first, stage=Stage.CONTACTED),
        LeadFactory(owner=rep, customer=first, stage=Stage.INTENTION),
        LeadFactory(owner=rep, customer=second, stage=Stage.RESOURCE),
        LeadFactory(owner=rep, customer=third, stage=Stage.SIGNED),
    ]
    closed_leads = [
        LeadFactory(owner=rep, customer=first, stage=Stage.ABANDONED),
        LeadFactory(owner=rep, customer=second, stage=Stage.IMPLEMENTED),
    ]
    return {"customers": customers, "open": open_leads, "closed": closed_leads}


def _snapshot():
    counts = [model.objects.count() for model in (Lead, Customer, StageChange, OwnerChange)]
    leads = list(Lead.objects.order_by("pk").values_list("pk", "owner_id"))
    customers = list(Customer.objects.order_by("pk").values_list("pk", "owner_id"))
    return counts, leads, customers


def _refused(key, **kwargs):
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        rep_handover(**kwargs)
    assert key in exc.value.message_dict
    assert _snapshot() == before


def test_manager_hands_a_rep_s_book_over_customer_by_customer(book, rep, teammate, newcomer, manager):
    result = rep_handover(from_user=rep, to_users=[teammate, newcomer], actor=manager, reason="离职交接")
    assert (result.leads, result.customers) == (4, 4)
    customers = {c.pk: c.owner for c in Customer.objects.filter(pk__in=[c.pk for c in book["customers"]])}
    assert set(customers.values()) == {teammate, newcomer}
    assert collections.Counter(customers.values()) == {teammate: 2, newcomer: 2}  # round-robin
    for lead in book["open"]:
        lead.refresh_from_db()
        assert lead.owner == customers[lead.customer_id]  # each customer's open leads follow it
    for lead in book["closed"]:
        lead.refresh_from_db()
        assert lead.owner == rep
    assert not Customer.objects.filter(owner=rep).exists()
    assert not Lead.objects.open().filter(owner=rep).exists()


def test_handover_writes_one_owner_change_per_lead_and_per_customer(book, rep, teammate, newcomer, manager):
    rep_handover(from_user=rep, to_users=[teammate, newcomer], actor=manager, reason="离职交接")
    changes = OwnerChange.objects.all()
    assert {c.action for c in changes} == {Action.HANDOVER}
    assert {(c.from_owner, c.actor) for c in changes} == {(rep, manager)}
    lead_rows = [c for c in changes if c.lead_id is not None]
    customer_rows = [c for c in changes if c.lead_id is None]
    assert sorted(c.lead_id for c in lead_rows) == sorted(lead.pk for lead in book["open"])
    assert sorted(c.customer_id for c in customer_rows) == sorted(c.pk for c in book["customers"])
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert all(c.to_owner_id == owners[c.lead_id] for c in lead_rows)
    customer_owners = dict(Customer.objects.values_list("pk", "owner_id"))
    assert all(c.to_owner_id == customer_owners[c.customer_id] for c in customer_rows)


def test_a_single_successor_takes_everything(book, rep, teammate, manager):
    result = rep_handover(from_user=rep, to_users=[teammate], actor=manager)
    assert (result.leads, result.customers) == (4, 4)
    assert Customer.objects.filter(owner=teammate).count() == 4
    assert Lead.objects.filter(owner=teammate).count() == 4


@pytest.mark.parametrize("persona", ["director", "admin_user"])
def test_directors_and_admins_hand_over_across_teams(persona, book, rep, outsider, request):
    result = rep_handover(from_user=rep, to_users=[outsider], actor=request.getfixturevalue(persona))
    assert (result.leads, result.customers) == (4, 4)
    assert Customer.objects.filter(owner=outsider).count() == 4


def test_a_manager_hands_over_the_book_of_a_rep_who_has_already_left(book, rep, teammate, manager):
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    result = rep_handover(from_user=rep, to_users=[teammate], actor=manager, reason="已离职")
    assert (result.leads, result.customers) == (4, 4)
    assert not Customer.objects.filter(owner=rep).exists()


def test_a_rep_with_nothing_hands_over_nothing(rep, teammate, manager):
    result = rep_handover(from_user=rep, to_users=[teammate], actor=manager)
    assert (result.leads, result.customers) == (0, 0)
    assert OwnerChange.objects.count() == 0


@pytest.mark.parametrize("persona", ["rep", "teammate", "support", "finance"])
def test_only_managers_directors_and_admins_hand_over(persona, book, rep, teammate, request):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        rep_handover(from_user=rep, to_users=[teammate], actor=request.getfixturevalue(persona))
    assert _snapshot() == before


def test_a_manager_may_not_hand_over_to_another_team(book, rep, outsider, manager):
    _refused("to_users", from_user=rep, to_users=[outsider], actor=manager)


def test_a_manager_may_not_hand_over_to_a_mixed_list_with_an_outsider(book, rep, teammate, outsider, manager):
    _refused("to_users", from_user=rep, to_users=[teammate, outsider], actor=manager)


def test_a_manager_may_not_hand_over_another_team_s_rep(book, outsider, teammate, manager):
    LeadFactory(owner=outsider)
    _refused("from_user", from_user=outsider, to_users=[teammate], actor=manager)


def test_handover_needs_someone_to_hand_over_to(book, rep, manager):
    _refused("to_users", from_user=rep, to_users=[], actor=manager)


def test_a_rep_may_not_hand_over_to_themselves(book, rep, teammate, manager):
    _refused("to_users", from_user=rep, to_users=[teammate, rep], actor=manager)
