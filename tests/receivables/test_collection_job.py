"""The monthly collection close (the 25th): next month's targets, the closing month's rates; idempotent; as a task."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from crm.models import CollectionTarget, Payment
from funnel.services import collection_month_close
from funnel.tasks import collection_month_close_task
from tests.factories import UserFactory

from .factories import ContractFactory, InstallmentFactory, PaymentFactory

RUN_DAY = datetime.date(2026, 3, 25)
MARCH, APRIL, FEBRUARY = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1), datetime.date(2026, 2, 1)


def _due(owner, amount: str, due_on: datetime.date, paid: str = "0", **contract):
    return InstallmentFactory(
        contract__owner=owner,
        contract__amount=Decimal(amount),
        amount=Decimal(amount),
        paid_amount=Decimal(paid),
        due_on=due_on,
        **{f"contract__{key}": value for key, value in contract.items()},
    )


def _paid(installment, amount: str, paid_on: datetime.date, status=Payment.Status.CONFIRMED):
    return PaymentFactory(installment=installment, amount=Decimal(amount), paid_on=paid_on, status=status)


def _rows() -> dict:
    return {
        (row.rep_id, row.month): (row.target_amount, row.collected_amount, row.rate)
        for row in CollectionTarget.objects.all()
    }


@pytest.fixture
def book(rep, teammate, outsider):
    """Installments across the months around the close of March 2026."""
    _due(rep, "100.00", datetime.date(2026, 1, 31))  # long overdue: still to collect
    _due(rep, "200.00", datetime.date(2026, 3, 31))  # later this month
    _due(rep, "500.00", datetime.date(2026, 4, 30), paid="100.00")  # due next month, partly paid
    _due(rep, "300.00", datetime.date(2026, 5, 1))  # after next month: not in the target
    _due(rep, "50.00", datetime.date(2026, 4, 2), paid="50.00")  # paid in full
    _due(rep, "70.00", datetime.date(2026, 4, 2), status="cancelled")
    _due(rep, "90.00", datetime.date(2026, 3, 1), collection_owner=outsider)  # with legal: nobody's target
    _due(teammate, "1000.00", datetime.date(2026, 4, 15))


def test_next_months_target_is_what_is_unpaid_on_installments_due_by_its_end(book, rep, teammate):
    result = collection_month_close(today=RUN_DAY)
    targets = {rep_id: values[0] for (rep_id, month), values in _rows().items() if month == APRIL}
    assert targets == {rep.pk: Decimal("700.00"), teammate.pk: Decimal("1000.00")}
    assert result["targets"] == 2


def test_the_closing_months_rate_is_confirmed_collection_against_its_target(rep, teammate):
    CollectionTarget.objects.create(rep=rep, month=MARCH, target_amount=Decimal("800.00"))
    installment = _due(rep, "1000.00", datetime.date(2026, 3, 5))
    _paid(installment, "300.00", datetime.date(2026, 3, 1))
    _paid(installment, "200.50", datetime.date(2026, 3, 24))
    _paid(installment, "99.00", datetime.date(2026, 2, 28))  # last month
    _paid(installment, "77.00", datetime.date(2026, 3, 20), status=Payment.Status.RECORDED)  # not confirmed
    _paid(installment, "66.00", datetime.date(2026, 3, 20), status=Payment.Status.REJECTED)
    collection_month_close(today=RUN_DAY)
    rows = _rows()
    assert rows[(rep.pk, MARCH)] == (Decimal("800.00"), Decimal("500.50"), Decimal("62.56"))  # 500.50 / 800
    assert rows[(rep.pk, FEBRUARY)] == (None, Decimal("99.00"), None)  # no target was set for February


def test_a_rate_without_a_target_stays_empty(rep):
    _paid(_due(rep, "10.00", datetime.date(2026, 3, 1)), "10.00", datetime.date(2026, 3, 2))
    collection_month_close(today=RUN_DAY)
    assert _rows()[(rep.pk, MARCH)] == (None, Decimal("10.00"), None)


def test_the_job_is_idempotent(book, rep):
    CollectionTarget.objects.create(rep=rep, month=MARCH, target_amount=Decimal("400.00"))
    _paid(_due(rep, "40.00", datetime.date(2026, 3, 1)), "40.00", datetime.date(2026, 3, 3))
    collection_month_close(today=RUN_DAY)
    first = _rows()
    collection_month_close(today=RUN_DAY)
    assert _rows() == first
    assert CollectionTarget.objects.count() == len(first)


def test_running_again_recomputes_from_source(book, rep):
    collection_month_close(today=RUN_DAY)
    # Finance confirmed the overdue 100 after the first run: a rerun lowers the target, never double counts.
    InstallmentFactory._meta.model.objects.filter(contract__owner=rep, due_on=datetime.date(2026, 1, 31)).update(
        paid_amount=Decimal("100.00")
    )
    collection_month_close(today=RUN_DAY)
    assert _rows()[(rep.pk, APRIL)][0] == Decimal("600.00")


def test_a_rep_with_nothing_left_to_collect_gets_a_zero_target_on_a_rerun(rep):
    installment = _due(rep, "10.00", datetime.date(2026, 4, 3))
    collection_month_close(today=RUN_DAY)
    type(installment).objects.filter(pk=installment.pk).update(paid_amount=Decimal("10.00"))
    collection_month_close(today=RUN_DAY)
    assert _rows()[(rep.pk, APRIL)][0] == Decimal("0.00")


def test_last_months_collection_is_completed_on_the_next_close(rep):
    CollectionTarget.objects.create(rep=rep, month=FEBRUARY, target_amount=Decimal("100.00"))
    installment = _due(rep, "100.00", datetime.date(2026, 2, 10))
    _paid(installment, "60.00", datetime.date(2026, 2, 26))  # after February's close on the 25th
    collection_month_close(today=RUN_DAY)
    assert _rows()[(rep.pk, FEBRUARY)] == (Decimal("100.00"), Decimal("60.00"), Decimal("60.00"))


def test_the_task_runs_the_job_in_eager_mode(book, rep):
    result = collection_month_close_task.delay(RUN_DAY.isoformat()).get()
    assert result["targets"] == 2
    assert _rows()[(rep.pk, APRIL)][0] == Decimal("700.00")


def test_the_task_is_registered_with_celery_under_its_module_name():
    from config.celery import app

    assert "funnel.tasks_receivables.collection_month_close_task" in app.tasks


def test_the_command_closes_as_of_a_given_day(book, rep, capsys):
    call_command("collection_close", "--date", RUN_DAY.isoformat())
    assert "targets set: 2" in capsys.readouterr().out
    assert _rows()[(rep.pk, APRIL)][0] == Decimal("700.00")


def test_contracts_with_no_rep_count_for_nobody(db):
    ContractFactory(owner=None, lead__owner=UserFactory())
    _due(None, "10.00", datetime.date(2026, 4, 1))
    collection_month_close(today=RUN_DAY)
    assert not CollectionTarget.objects.exists()
