"""Helpers for the scoring tests: rules made to order (the shipped defaults are removed first) and closed leads."""

import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.choices import Stage
from crm.models import Customer, Lead
from scoring.models import ScoreRule

_names = itertools.count()


@pytest.fixture(autouse=True)
def _no_default_rules(db):
    """Start every test from no rules; a test adds the ones it means."""
    ScoreRule.objects.all().delete()


@pytest.fixture
def add_rule():
    def make(criterion: str, points: int, *, operator: str = "", value: str = "", key: str = "", name: str = ""):
        return ScoreRule.objects.create(
            name=name or f"{criterion} {operator} {value}".strip(),
            criterion=criterion,
            operator=operator,
            value=value,
            attribute_key=key,
            points=points,
        )

    return make


def closed_leads(*, won: int, lost: int, open_: int = 0) -> list[Lead]:
    """Bulk-create leads whose grade and budget tell won from lost (with some noise), plus open ones."""
    rows = []
    for i in range(won + lost + open_):
        if i < won:
            stage, good = Stage.SIGNED if i % 2 else Stage.IMPLEMENTED, i % 7 != 0
        elif i < won + lost:
            stage, good = Stage.ABANDONED, i % 7 == 0
        else:
            stage, good = Stage.CONTACTED, i % 2 == 0
        rows.append((stage, good))
    customers = Customer.objects.bulk_create(
        Customer(name=f"测试客户{next(_names)}", name_key=f"key{next(_names)}", industry="制造业") for _ in rows
    )
    now = timezone.now()
    return Lead.objects.bulk_create(
        Lead(
            customer=customer,
            stage=stage,
            grade="A" if good else "C",
            budget_known=good,
            expected_amount=Decimal("500000") if good else Decimal("20000"),
            closed_at=now if stage != Stage.CONTACTED else None,
        )
        for customer, (stage, good) in zip(customers, rows, strict=True)
    )
