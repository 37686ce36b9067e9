from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Role, Team, User
from crm.choices import BuyingRole, Stage, VisitKind, VisitOutcome
from crm.models import Contact, Customer, Lead, StageChange, Visit


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"销售{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"销售员{n}")
    role = Role.REP
    password = factory.django.Password("correct-horse-battery")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"苏州恒信{n}号精密机械有限公司")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    city = "苏州"
    industry = "制造业"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    role = BuyingRole.DECISION_MAKER


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    customer = factory.SubFactory(CustomerFactory, owner=factory.SelfAttribute("..owner"))
    owner = None
    stage = Stage.CONTACTED
    grade = "B"
    expected_amount = Decimal("120000.00")


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    lead = factory.SubFactory(LeadFactory)
    author = factory.SelfAttribute("lead.owner")
    kind = VisitKind.CALL
    outcome = VisitOutcome.PROGRESS
    summary = "电话沟通需求"
    occurred_at = factory.LazyFunction(timezone.now)


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageChange

    lead = factory.SubFactory(LeadFactory)
    from_stage = Stage.RESOURCE
    to_stage = Stage.GRADED
