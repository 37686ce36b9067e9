"""Receivables test data: factories write rows directly; the behaviour under test goes through the services."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from crm.choices import Stage
from crm.models import Contract, CustomerAccount, Installment, Payment, Reminder
from tests.factories import LeadFactory, UserFactory


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    lead = factory.SubFactory(LeadFactory, stage=Stage.SIGNED, owner=factory.SelfAttribute("..owner"))
    owner = None
    amount = Decimal("100000.00")
    signed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=60))
    status = Contract.Status.ACTIVE
    commission_rate = Decimal("3.00")


class InstallmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installment

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: n + 1)
    due_on = factory.LazyFunction(timezone.localdate)
    amount = factory.SelfAttribute("contract.amount")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    installment = factory.SubFactory(InstallmentFactory)
    amount = Decimal("1000.00")
    paid_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.LazyAttribute(lambda p: p.installment.contract.owner or UserFactory())


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    installment = factory.SubFactory(InstallmentFactory)
    sent_on = factory.LazyFunction(timezone.localdate)
    author = factory.LazyAttribute(lambda r: r.installment.contract.owner or UserFactory())


class CustomerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAccount
        django_get_or_create = ("customer",)


def contract_with_plan(*, owner, amounts: list[str], dues: list[datetime.date], **kwargs) -> Contract:
    """Return an active contract whose installments have the given amounts and due dates (nothing paid)."""
    total = sum((Decimal(a) for a in amounts), Decimal("0"))
    contract = ContractFactory(owner=owner, amount=total, **kwargs)
    for number, (amount, due_on) in enumerate(zip(amounts, dues, strict=True), start=1):
        Installment.objects.create(contract=contract, number=number, due_on=due_on, amount=Decimal(amount))
    return contract


def paid_contract(*, lead, amount: Decimal = Decimal("50000.00"), finance=None) -> Contract:
    """Return an active contract on the lead paid in full by one confirmed payment (as finance would leave it)."""
    contract = ContractFactory(lead=lead, owner=lead.owner, amount=amount, paid_amount=amount)
    installment = Installment.objects.create(
        contract=contract,
        number=1,
        due_on=contract.signed_on,
        amount=amount,
        paid_amount=amount,
        paid_on=contract.signed_on,
    )
    Payment.objects.create(
        installment=installment,
        amount=amount,
        paid_on=contract.signed_on,
        status=Payment.Status.CONFIRMED,
        recorded_by=finance or lead.owner or UserFactory(),
        confirmed_by=finance or UserFactory(role="finance"),
        confirmed_at=timezone.now(),
    )
    return contract
