"""One visibility rule for every role (DOMAIN.md): proven on leads, customers, contacts, visits and history."""

import pytest

from crm.models import Contact, Customer, Lead, StageChange, Visit
from tests.factories import ContactFactory, LeadFactory, StageChangeFactory, VisitFactory


@pytest.fixture
def world(rep, teammate, manager, outsider, other_manager):
    """One lead each for rep, teammate, manager, outsider, other_manager, and one in the pool."""
    leads = {
        "rep": LeadFactory(owner=rep),
        "teammate": LeadFactory(owner=teammate),
        "manager": LeadFactory(owner=manager),
        "outsider": LeadFactory(owner=outsider),
        "other_manager": LeadFactory(owner=other_manager),
        "pool": LeadFactory(owner=None),
    }
    for name, lead in leads.items():
        ContactFactory(customer=lead.customer, name=f"contact-{name}")
        if lead.owner is not None:
            VisitFactory(lead=lead)
        StageChangeFactory(lead=lead)
    return leads


EXPECTED = {
    "rep": {"rep", "pool"},
    "teammate": {"teammate", "pool"},
    "manager": {"rep", "teammate", "manager", "pool"},
    "outsider": {"outsider", "pool"},
    "other_manager": {"outsider", "other_manager", "pool"},
    "director": {"rep", "teammate", "manager", "outsider", "other_manager", "pool"},
    "admin_user": {"rep", "teammate", "manager", "outsider", "other_manager", "pool"},
    "support": {"pool"},
    "finance": set(),
}


def _names(world, leads) -> set[str]:
    ids = set(leads.values_list("pk", flat=True))
    return {name for name, lead in world.items() if lead.pk in ids}


@pytest.mark.parametrize("persona", EXPECTED)
def test_leads_visible_to_each_role(persona, world, request):
    user = request.getfixturevalue(persona)
    assert _names(world, Lead.objects.visible_to(user)) == EXPECTED[persona]


@pytest.mark.parametrize("persona", EXPECTED)
def test_history_and_visits_follow_the_lead(persona, world, request):
    user = request.getfixturevalue(persona)
    expected = EXPECTED[persona]
    visible_changes = {c.lead_id for c in StageChange.objects.visible_to(user)}
    assert visible_changes == {world[name].pk for name in expected}
    visible_visits = {v.lead_id for v in Visit.objects.visible_to(user)}
    assert visible_visits == {world[name].pk for name in expected if name != "pool"}


@pytest.mark.parametrize("persona", [p for p in EXPECTED if p != "finance"])
def test_customers_and_contacts_follow_the_owner(persona, world, request):
    user = request.getfixturevalue(persona)
    expected_customers = {world[name].customer_id for name in EXPECTED[persona]}
    assert set(Customer.objects.visible_to(user).values_list("pk", flat=True)) == expected_customers
    assert set(Contact.objects.visible_to(user).values_list("customer_id", flat=True)) == expected_customers


def test_finance_reads_every_customer_archive_but_no_lead(world, finance):
    assert Customer.objects.visible_to(finance).count() == len(world)
    assert Contact.objects.visible_to(finance).count() == len(world)
    assert not Lead.objects.visible_to(finance).exists()


def test_inactive_user_sees_nothing(world, rep):
    rep.is_active = False
    rep.save()
    assert not Lead.objects.visible_to(rep).exists()


def test_manager_without_team_sees_own_and_pool(world, manager):
    manager.team = None
    manager.save()
    assert _names(world, Lead.objects.visible_to(manager)) == {"manager", "pool"}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("rep", {"rep"}),
        ("manager", {"rep", "teammate", "manager", "pool"}),
        ("support", {"pool"}),
        ("finance", set()),
        ("director", set(EXPECTED["director"])),
    ],
)
def test_editable_leads(persona, expected, world, request):
    user = request.getfixturevalue(persona)
    assert _names(world, Lead.objects.editable_by(user)) == expected
