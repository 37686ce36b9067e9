"""Give every lead signed before receivables existed its contract, from the amount and date stored on the lead.

Implemented leads were confirmed "paid in full and accepted" by hand, so their contract starts paid in full
(no payment rows: that money predates the receivables). Signed leads get one installment due 30 days after
signing, as a new signing does. Set-based, in chunks; leads that already have a contract are skipped.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import migrations
from django.db.models import Exists, OuterRef
from django.utils import timezone

CHUNK = 1000
DUE_AFTER_DAYS = 30


def backfill(apps, schema_editor):
    Lead = apps.get_model("crm", "Lead")
    Contract = apps.get_model("crm", "Contract")
    Installment = apps.get_model("crm", "Installment")
    MoneyChange = apps.get_model("crm", "MoneyChange")
    rate = Decimal(str(getattr(settings, "COMMISSION_BASE_RATE_PERCENT", "3.00")))
    now = timezone.now()
    leads = (
        Lead.objects.filter(stage__in=("signed", "implemented"), signed_amount__gt=0, signed_on__isnull=False)
        .exclude(Exists(Contract.objects.filter(lead=OuterRef("pk")).exclude(status="cancelled")))
        .order_by("pk")
        .values_list("pk", "owner_id", "customer_id", "stage", "signed_amount", "signed_on", "closed_at")
    )
    rows = list(leads)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        contracts = Contract.objects.bulk_create(
            Contract(
                lead_id=pk,
                owner_id=owner_id,
                amount=amount,
                signed_on=signed_on,
                status="active",
                commission_rate=rate,
                paid_amount=amount if stage == "implemented" else Decimal("0"),
                implementation_accepted_at=closed_at if stage == "implemented" else None,
                created_at=now,
            )
            for pk, owner_id, _customer, stage, amount, signed_on, closed_at in chunk
        )
        Installment.objects.bulk_create(
            Installment(
                contract=contract,
                number=1,
                due_on=contract.signed_on + timedelta(days=DUE_AFTER_DAYS),
                amount=contract.amount,
                paid_amount=contract.paid_amount,
                paid_on=contract.signed_on if contract.paid_amount else None,
            )
            for contract in contracts
        )
        MoneyChange.objects.bulk_create(
            MoneyChange(
                action="contract_created",
                contract=contract,
                customer_id=customer_id,
                after={"amount": str(contract.amount), "paid_amount": str(contract.paid_amount)},
                note="Backfilled from the lead's signing",
                changed_at=now,
            )
            for contract, (_pk, _owner, customer_id, *_rest) in zip(contracts, chunk, strict=True)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_receivables"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
