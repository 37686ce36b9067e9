from django.db.models import DecimalField, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from . import normalize
from .models import Contract, Customer, Installment, Lead, OwnerChange, StageChange, Visit

DUPLICATE_LIMIT = 20  # enough to find an owned twin among the matches


def lead_list(*, user) -> QuerySet[Lead]:
    """Return the leads the user may see, with what a list row shows joined in."""
    return lead_rows().visible_to(user)


def lead_rows() -> QuerySet[Lead]:
    """Return every lead as a list row, newest change first: for crm.paging.visible_page, which limits it."""
    return Lead.objects.select_related("customer", "owner").order_by("-updated_at", "-pk")


def lead_detail(*, user, pk: int) -> Lead:
    """Return one visible lead with its customer, contacts, visits, stage and owner history; 404 otherwise."""
    queryset = (
        Lead.objects.visible_to(user)
        .with_editable(user)
        .select_related("customer", "owner", "customer__owner", "customer__account", "score_detail", "risk_assessment")
        .prefetch_related(
            "customer__contacts",
            Prefetch("visits", queryset=Visit.objects.select_related("author", "contact")),
            Prefetch("stage_changes", queryset=StageChange.objects.select_related("actor")),
            Prefetch("owner_changes", queryset=OwnerChange.objects.select_related("from_owner", "to_owner", "actor")),
        )
    )
    return get_object_or_404(with_live_contract(queryset, user=user), pk=pk)


def with_live_contract(leads: QuerySet[Lead], *, user) -> QuerySet[Lead]:
    """Annotate the lead's live contract the user may see: contract_pk, _status, _amount, _paid, _next_due.

    Subqueries of the lead's own query: the lead page shows its contract without another query.
    """
    live = Contract.objects.visible_to(user).live().filter(lead=OuterRef("pk")).order_by("-pk")
    money = DecimalField(max_digits=14, decimal_places=2)
    leads = leads.annotate(
        contract_pk=Subquery(live.values("pk")[:1]),
        contract_status=Subquery(live.values("status")[:1]),
        contract_amount=Subquery(live.values("amount")[:1], output_field=money),
        contract_paid=Subquery(live.values("paid_amount")[:1], output_field=money),
    )
    unpaid = Installment.objects.filter(contract=OuterRef("contract_pk"), paid_amount__lt=F("amount"))
    return leads.annotate(contract_next_due=Subquery(unpaid.order_by("due_on").values("due_on")[:1]))


def customer_duplicates(*, name: str = "", phone: str = "", email: str = "") -> list[tuple[str, Customer]]:
    """Return (field, customer) for every existing customer matching the normalized name, phone or email."""
    keys = {
        "company": ("name_key", normalize.company_key(name)),
        "phone": ("phone_key", normalize.phone_key(phone)),
        "email": ("email_key", normalize.email_key(email)),
    }
    wanted = {column: key for column, key in keys.values() if key}
    if not wanted:
        return []
    match = Q()
    for column, key in wanted.items():
        match |= Q(**{column: key})
    candidates = Customer.objects.filter(match).select_related("owner").order_by("pk")[:DUPLICATE_LIMIT]
    return [
        (field, customer)
        for customer in candidates
        for field, (column, key) in keys.items()
        if key and getattr(customer, column) == key
    ]
