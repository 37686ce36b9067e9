"""Receivables lists and pages: installments, contracts, reminders due, confirmations, approvals, customers."""

from datetime import date, timedelta

from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from crm.models import (
    Contract,
    Customer,
    CustomerAccount,
    Installment,
    MoneyChange,
    Payment,
    Reminder,
)

from ..services.receivables import ZERO, cents, setting
from .aging import AgingRow, bucket_sums, buckets
from .common import AMOUNT, count_of


def _with_reminders(installments: QuerySet[Installment]) -> QuerySet[Installment]:
    """Annotate the date of the last reminder and how many are unanswered."""
    reminders = Reminder.objects.filter(installment=OuterRef("pk"))
    return installments.annotate(
        last_reminder_on=Subquery(reminders.order_by("-sent_on", "-pk").values("sent_on")[:1]),
        reminders_unanswered=count_of(reminders.filter(answered_at__isnull=True), "installment"),
    )


def installment_list(*, user, today: date) -> QuerySet[Installment]:
    """Return the installments the user may see, with aging, reminders, customer and rep joined in."""
    return (
        _with_reminders(Installment.objects.visible_to(user).with_aging(today))
        .select_related("contract__lead__customer__account", "contract__owner", "contract__collection_owner")
        .order_by("due_on", "pk")
    )


def contract_list(*, user, today: date) -> QuerySet[Contract]:
    """Return the contracts the user may see with customer, reps and installments (with aging) ready."""
    return (
        Contract.objects.visible_to(user)
        .select_related("lead__customer__account", "owner", "collection_owner")
        .prefetch_related(Prefetch("installments", queryset=Installment.objects.with_aging(today).order_by("number")))
        .order_by("-signed_on", "-pk")
    )


def reminders_due(*, user, today: date) -> QuerySet[Installment]:
    """Return overdue installments due a reminder: never reminded, or not for RECEIVABLES_REMINDER_INTERVAL_DAYS.

    Debts already handed to collection are the collection owner's business and are left out.
    """
    interval = setting("RECEIVABLES_REMINDER_INTERVAL_DAYS")
    return (
        _with_reminders(
            Installment.objects.visible_to(user)
            .overdue(today)
            .filter(contract__collection_owner__isnull=True)
            .with_aging(today)
        )
        .filter(Q(last_reminder_on__isnull=True) | Q(last_reminder_on__lte=today - timedelta(days=interval)))
        .select_related("contract__lead__customer__account", "contract__owner")
        .order_by("due_on", "pk")
    )


def suspended_customers(*, user) -> QuerySet[Customer]:
    """Return customers whose supply is suspended, among those with contracts the user may see."""
    visible = Contract.objects.visible_to(user).filter(lead__customer=OuterRef("pk"))
    return (
        Customer.objects.filter(account__supply_suspended_at__isnull=False)
        .filter(Exists(visible))
        .select_related("account", "owner")
        .order_by("account__supply_suspended_at")
    )


def payments_waiting(*, user) -> QuerySet[Payment]:
    """Return recorded payments finance has not confirmed or rejected yet, oldest first."""
    return (
        Payment.objects.visible_to(user)
        .waiting()
        .select_related("installment__contract__lead__customer__account", "installment__contract__owner", "recorded_by")
        .order_by("recorded_at", "pk")
    )


def _exposure_of_customer() -> Subquery:
    active = (
        Contract.objects.active()
        .filter(lead__customer=OuterRef("lead__customer"))
        .order_by()
        .values("lead__customer")
        .annotate(total=Sum(F("amount") - F("paid_amount"), output_field=AMOUNT))
        .values("total")
    )
    return Coalesce(Subquery(active, output_field=AMOUNT), ZERO)


def contracts_awaiting_approval(*, user) -> QuerySet[Contract]:
    """Return contracts over their customer's credit limit that wait for a director, with the exposure."""
    return (
        Contract.objects.visible_to(user)
        .filter(status=Contract.Status.PENDING_APPROVAL)
        .annotate(exposure=_exposure_of_customer())
        .select_related("lead__customer__account", "owner")
        .order_by("created_at", "pk")
    )


def contract_detail(*, user, pk: int, today: date) -> Contract:
    """Return one visible contract with its plan, payments, reminders and money history; 404 otherwise."""
    installments = Installment.objects.with_aging(today).prefetch_related(
        Prefetch("payments", queryset=Payment.objects.select_related("recorded_by", "confirmed_by")),
        Prefetch("reminders", queryset=Reminder.objects.select_related("author")),
    )
    queryset = (
        Contract.objects.visible_to(user)
        .select_related("lead__customer__account", "owner", "collection_owner", "approved_by", "created_by")
        .prefetch_related(
            Prefetch("installments", queryset=installments),
            Prefetch("money_changes", queryset=MoneyChange.objects.select_related("actor", "payment")),
        )
    )
    return get_object_or_404(queryset, pk=pk)


def customer_receivables(*, user, pk: int, today: date) -> dict:
    """Return a customer's credit limit, exposure, aging and contracts, if the user may see it or its contracts."""
    contracts = Contract.objects.visible_to(user).filter(lead__customer=OuterRef("pk"))
    customer = get_object_or_404(
        Customer.objects.filter(
            Q(pk__in=Customer.objects.visible_to(user).values("pk")) | Q(Exists(contracts))
        ).select_related("account", "owner"),
        pk=pk,
    )
    account = getattr(customer, "account", None) or CustomerAccount(customer=customer)
    visible = Contract.objects.visible_to(user).filter(lead__customer=customer)
    unpaid = Installment.objects.filter(contract__in=visible).unpaid()
    totals = unpaid.aggregate(**bucket_sums(today))
    exposure = cents(
        Contract.objects.active()
        .filter(lead__customer=customer)
        .aggregate(total=Coalesce(Sum(F("amount") - F("paid_amount"), output_field=AMOUNT), ZERO))["total"]
    )
    return {
        "customer": customer,
        "account": account,
        "exposure": exposure,
        "headroom": None if account.credit_limit is None else account.credit_limit - exposure,
        "aging": AgingRow(key=customer.pk, label=customer.name, amounts=buckets(totals)),
        "contracts": list(visible.select_related("owner", "lead").order_by("-signed_on", "-pk")),
        "history": list(
            MoneyChange.objects.visible_to(user)
            .filter(customer=customer)
            .select_related("actor", "contract")
            .order_by("-changed_at", "-pk")[:50]
        ),
    }
