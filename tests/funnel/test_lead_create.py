"""lead_create and customer_merge: one customer, one owner; duplicates are caught on entry and merged by support."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.choices import BuyingRole, Source, Stage
from crm.models import Contact, Customer, CustomerAccount, Lead, MoneyChange, OwnerChange, StageChange, Visit
from funnel.services import credit_limit_set, customer_merge, lead_create
from tests.factories import ContactFactory, CustomerFactory, LeadFactory, VisitFactory

COMPANY = "苏州恒信精密机械有限公司"
Action = OwnerChange.Action


def _counts():
    return [model.objects.count() for model in (Customer, Lead, Contact, StageChange, Visit, OwnerChange)]


def _customers():
    return list(Customer.objects.order_by("pk").values_list("pk", "name", "owner_id", "phone", "email", "city"))


def _refused(call, key, **kwargs):
    """Assert the call fails with `key`, writes nothing and changes no customer."""
    before = (_counts(), _customers())
    with pytest.raises(ValidationError) as exc:
        call(**kwargs)
    assert key in exc.value.message_dict
    assert (_counts(), _customers()) == before
    return exc.value.message_dict[key]


# lead_create ------------------------------------------------------------------------------------------------------


def test_a_new_company_becomes_a_customer_and_a_resource_lead(rep):
    lead = lead_create(
        actor=rep,
        owner=rep,
        company=COMPANY,
        phone="0512-66668888",
        email="sales@hengxin.cn",
        city="苏州",
        industry="机械",
        contact_name="王经理",
        contact_role=BuyingRole.DECISION_MAKER,
        title="数控机床改造",
        source=Source.EXHIBITION,
        expected_amount=Decimal("300000"),
    )
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.title, lead.source) == (Stage.RESOURCE, rep, "数控机床改造", Source.EXHIBITION)
    assert lead.expected_amount == Decimal("300000")
    customer = lead.customer
    assert (customer.name, customer.phone, customer.email, customer.city) == (
        COMPANY, "0512-66668888", "sales@hengxin.cn", "苏州",
    )  # fmt: skip
    assert (customer.industry, customer.owner) == ("机械", rep)
    contact = Contact.objects.get()
    assert (contact.customer, contact.name, contact.role) == (customer, "王经理", BuyingRole.DECISION_MAKER)
    change = StageChange.objects.get()
    assert (change.lead, change.from_stage, change.to_stage, change.actor) == (lead, "", Stage.RESOURCE, rep)


def test_a_lead_without_an_owner_goes_to_the_pool(director):
    lead = lead_create(actor=director, owner=None, company=COMPANY)
    lead.refresh_from_db()
    assert (lead.owner, lead.customer.owner, lead.stage) == (None, None, Stage.RESOURCE)
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("owned_by_owner", [False, True])
def test_an_unowned_or_own_customer_is_reused(owned_by_owner, rep):
    existing = CustomerFactory(name=COMPANY, owner=rep if owned_by_owner else None)
    lead = lead_create(actor=rep, owner=rep, company="苏州恒信精密机械")
    assert lead.customer == existing
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("existing", "given"),
    [
        ({"name": COMPANY}, {"company": "苏州恒信精密机械 有限公司"}),
        ({"name": COMPANY}, {"company": "苏州恒信精密机械"}),
        ({"phone": "13912345678"}, {"company": "恒信苏州", "phone": "+86 139 1234 5678"}),
        ({"email": "Sales@HengXin.cn"}, {"company": "恒信苏州", "email": "sales@hengxin.cn"}),
    ],
)
def test_reuse_matches_on_normalized_name_phone_or_email(existing, given, rep):
    customer = CustomerFactory(**existing)
    assert lead_create(actor=rep, owner=rep, **given).customer == customer


@pytest.mark.parametrize(
    ("key", "existing", "given"),
    [
        ("company", {"name": COMPANY}, {"company": "苏州恒信精密机械 有限公司"}),
        ("company", {"name": COMPANY}, {"company": "苏州恒信精密机械"}),
        ("phone", {"phone": "13912345678"}, {"company": "恒信苏州", "phone": "+86 139 1234 5678"}),
        ("email", {"email": "Sales@HengXin.cn"}, {"company": "恒信苏州", "email": "sales@hengxin.cn"}),
    ],
)
def test_another_rep_s_customer_is_refused_naming_its_owner(key, existing, given, rep, teammate):
    CustomerFactory(owner=teammate, **existing)
    messages = _refused(lead_create, key, actor=rep, owner=rep, contact_name="王经理", **given)
    assert any(str(teammate) in message for message in messages)


@pytest.mark.parametrize("company", ["", "   "])
def test_a_lead_needs_a_company(company, rep):
    _refused(lead_create, "company", actor=rep, owner=rep, company=company, phone="13912345678")


# customer_merge ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["support", "director", "admin_user"])
def test_a_duplicate_is_merged_into_the_customer_kept(persona, rep, request):
    actor = request.getfixturevalue(persona)
    keep = CustomerFactory(name=COMPANY, owner=rep, phone="", email="", address="", city="苏州", industry="")
    duplicate = CustomerFactory(
        name="恒信精机",
        owner=None,
        phone="0512-1234",
        email="a@hx.cn",
        address="工业园区1号",
        city="昆山",
        industry="机械",
    )
    lead = LeadFactory(customer=duplicate, owner=rep)
    visit = VisitFactory(lead=lead)
    contact = ContactFactory(customer=duplicate)
    merged = customer_merge(keep=keep, duplicate=duplicate, actor=actor)
    assert merged == keep
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    keep.refresh_from_db()
    assert (keep.phone, keep.email, keep.address, keep.industry) == ("0512-1234", "a@hx.cn", "工业园区1号", "机械")
    assert keep.city == "苏州"  # filled only where blank
    assert Lead.objects.get(pk=lead.pk).customer == keep
    assert Contact.objects.get(pk=contact.pk).customer == keep
    assert Visit.objects.get(pk=visit.pk).lead_id == lead.pk
    change = OwnerChange.objects.get()
    assert (change.action, change.customer, change.actor) == (Action.MERGE, keep, actor)
    assert "恒信精机" in change.reason


def test_a_merge_keeps_the_stricter_credit_standing_and_the_money_history(support, finance, rep):
    keep = CustomerFactory(name=COMPANY, owner=rep)
    duplicate = CustomerFactory(name="恒信精机", owner=None)
    credit_limit_set(customer=keep, actor=finance, credit_limit=Decimal("500000.00"))
    credit_limit_set(customer=duplicate, actor=finance, credit_limit=Decimal("80000.00"))
    CustomerAccount.objects.filter(customer=duplicate).update(
        supply_suspended_at=timezone.now(), suspension_reason="三次催款未回复"
    )
    customer_merge(keep=keep, duplicate=duplicate, actor=support)
    account = CustomerAccount.objects.get(customer=keep)
    assert account.credit_limit == Decimal("80000.00")  # a merge never raises a limit
    assert account.supply_suspended_at is not None and account.suspension_reason == "三次催款未回复"
    history = MoneyChange.objects.filter(customer=keep).order_by("pk")
    assert [change.action for change in history] == ["credit_limit_set", "credit_limit_set", "credit_limit_set"]
    assert history.last().actor == support and "恒信精机" in history.last().note


def test_a_merge_leaves_a_stricter_kept_account_alone(support, finance, rep):
    keep = CustomerFactory(name=COMPANY, owner=rep)
    duplicate = CustomerFactory(name="恒信精机", owner=None)
    credit_limit_set(customer=keep, actor=finance, credit_limit=Decimal("1000.00"))
    credit_limit_set(customer=duplicate, actor=finance, credit_limit=None)
    customer_merge(keep=keep, duplicate=duplicate, actor=support)
    assert CustomerAccount.objects.get(customer=keep).credit_limit == Decimal("1000.00")
    assert MoneyChange.objects.filter(customer=keep).count() == 2  # both earlier changes, no new one


@pytest.mark.parametrize("persona", ["rep", "manager", "finance"])
def test_only_support_directors_and_admins_merge(persona, db, request):
    keep, duplicate = CustomerFactory(), CustomerFactory()
    before = (_counts(), _customers())
    with pytest.raises(PermissionDenied):
        customer_merge(keep=keep, duplicate=duplicate, actor=request.getfixturevalue(persona))
    assert (_counts(), _customers()) == before


def test_customers_of_two_different_owners_are_not_merged(rep, teammate, support):
    keep, duplicate = CustomerFactory(owner=rep), CustomerFactory(owner=teammate)
    LeadFactory(customer=duplicate, owner=teammate)
    ContactFactory(customer=duplicate)
    _refused(customer_merge, "duplicate", keep=keep, duplicate=duplicate, actor=support)
    assert Lead.objects.get().customer == duplicate


def test_a_customer_is_not_merged_into_itself(support):
    customer = CustomerFactory()
    _refused(customer_merge, "duplicate", keep=customer, duplicate=customer, actor=support)


@pytest.mark.parametrize("persona", ["finance"])
def test_roles_outside_sales_cannot_create_leads(persona, request):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        lead_create(actor=actor, owner=None, company="北京华夏贸易有限公司", phone="13800000009")
    assert not Lead.objects.exists()


def test_a_rep_cannot_create_a_lead_for_a_teammate(rep, teammate):
    with pytest.raises(PermissionDenied):
        lead_create(actor=rep, owner=teammate, company="北京华夏贸易有限公司", phone="13800000009")
    assert not Lead.objects.exists()


def test_an_owned_twin_is_found_beside_an_unowned_one(rep, teammate):
    CustomerFactory(name="上海申通物流有限公司", owner=None, phone="13800000001")
    CustomerFactory(name="申通快递上海分部", owner=teammate, phone="13800000009")
    with pytest.raises(ValidationError) as exc:
        lead_create(actor=rep, owner=rep, company="上海申通物流", phone="13800000009")
    assert str(teammate) in exc.value.message_dict["phone"][0]
    assert not Lead.objects.exists()
