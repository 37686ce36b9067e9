"""The data migration that gives leads signed before receivables existed their contracts."""

import datetime
import importlib
from decimal import Decimal

from django.apps import apps
from django.utils import timezone

from crm.choices import Stage
from crm.models import Contract, MoneyChange
from funnel.services import lead_transition
from tests.factories import LeadFactory

from .factories import ContractFactory

backfill = importlib.import_module("crm.migrations.0006_backfill_contracts").backfill
SIGNED_ON = datetime.date(2026, 1, 5)


def test_signed_and_implemented_leads_get_their_contracts_once(rep):
    signed = LeadFactory(owner=rep, stage=Stage.SIGNED, signed_amount=Decimal("5000.50"), signed_on=SIGNED_ON)
    done = LeadFactory(
        owner=rep,
        stage=Stage.IMPLEMENTED,
        signed_amount=Decimal("800.00"),
        signed_on=SIGNED_ON,
        closed_at=timezone.now(),
    )
    has_one = LeadFactory(owner=rep, stage=Stage.SIGNED, signed_amount=Decimal("1.00"), signed_on=SIGNED_ON)
    ContractFactory(lead=has_one, owner=rep, amount=Decimal("1.00"))
    LeadFactory(owner=rep, stage=Stage.INTENTION)
    backfill(apps, None)
    backfill(apps, None)  # safe to run again
    assert Contract.objects.count() == 3
    contract = Contract.objects.get(lead=signed)
    assert (contract.amount, contract.paid_amount, contract.owner) == (Decimal("5000.50"), Decimal("0.00"), rep)
    assert list(contract.installments.values_list("due_on", "amount")) == [
        (SIGNED_ON + datetime.timedelta(days=30), Decimal("5000.50"))
    ]
    paid = Contract.objects.get(lead=done)
    assert paid.paid_amount == paid.amount == paid.installments.get().paid_amount
    assert MoneyChange.objects.filter(action=MoneyChange.Action.CONTRACT_CREATED).count() == 2


def test_a_backfilled_implemented_lead_can_be_moved_back_and_forward_again(rep, manager):
    lead = LeadFactory(
        owner=rep,
        stage=Stage.IMPLEMENTED,
        signed_amount=Decimal("800.00"),
        signed_on=SIGNED_ON,
        closed_at=timezone.now(),
    )
    backfill(apps, None)
    lead_transition(
        lead=lead, to_stage=Stage.SIGNED, actor=manager, signed_amount=Decimal("800.00"), signed_on=SIGNED_ON
    )
    lead_transition(lead=lead, to_stage=Stage.IMPLEMENTED, actor=manager, implementation_accepted=True)
    assert Contract.objects.filter(lead=lead).count() == 1
