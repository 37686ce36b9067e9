"""Filters of the receivables pages and API: one FilterSet per list serves both."""

import django_filters
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from crm.models import Contract, Installment, Payment
from crm.querysets import AgingBucket, bucket_q

MAX_ID = 2**63 - 1


def _id(field_name: str, label) -> django_filters.NumberFilter:
    """Filter on an id; a value no bigint can hold is a 400, not a database error."""
    return django_filters.NumberFilter(label=label, field_name=field_name, min_value=1, max_value=MAX_ID)


def _people(user):
    return User.objects.visible_to(user).sales().order_by("username") if user else User.objects.none()


class InstallmentFilter(django_filters.FilterSet):
    """The receivables list: by customer, rep, team, aging bucket, status and due dates."""

    takes_user = True
    STATUS_CHOICES = (
        ("unpaid", _("Unpaid")),
        ("overdue", _("Overdue")),
        ("paid", _("Paid in full")),
        ("all", _("All")),
    )

    q = django_filters.CharFilter(label=_("Customer"), method="filter_text")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=STATUS_CHOICES, method="filter_status")
    bucket = django_filters.ChoiceFilter(label=_("Aging"), choices=AgingBucket.choices, method="filter_bucket")
    owner = django_filters.ModelChoiceFilter(
        label=_("Sales rep"), field_name="contract__owner", queryset=User.objects.none()
    )
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), field_name="contract__owner__team", queryset=Team.objects.order_by("name")
    )
    customer = _id("contract__lead__customer_id", _("Customer ID"))
    contract = _id("contract_id", _("Contract ID"))
    due_after = django_filters.DateFilter(label=_("Due from"), field_name="due_on", lookup_expr="gte")
    due_before = django_filters.DateFilter(label=_("Due until"), field_name="due_on", lookup_expr="lte")
    suspended = django_filters.BooleanFilter(label=_("Supply suspended"), method="filter_suspended")
    in_collection = django_filters.BooleanFilter(label=_("In collection"), method="filter_in_collection")
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(("due_on", "due"), ("amount", "amount"), ("outstanding_amount", "outstanding")),
        field_labels={"due_on": _("Due date"), "amount": _("Amount"), "outstanding_amount": _("Outstanding")},
    )

    PAGE_FILTERS = ("q", "status", "bucket", "owner", "team", "due_after", "due_before", "suspended", "in_collection")

    class Meta:
        model = Installment
        fields = ["q", "status", "bucket", "owner", "team", "customer", "contract", "due_after", "due_before"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people the user may see can be picked: ?owner= cannot widen visibility (the rows are scoped anyway).
        self.filters["owner"].queryset = _people(user)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(contract__lead__customer__name__icontains=value) if value else queryset

    def filter_status(self, queryset, name, value):
        if value == "unpaid":
            return queryset.unpaid()
        if value == "overdue":
            return queryset.overdue(timezone.localdate())
        if value == "paid":
            return queryset.filter(paid_amount=F("amount"))
        return queryset

    def filter_bucket(self, queryset, name, value):
        return queryset.unpaid().filter(bucket_q(value, timezone.localdate()))

    def filter_suspended(self, queryset, name, value):
        suspended = Q(contract__lead__customer__account__supply_suspended_at__isnull=False)
        return queryset.filter(suspended) if value else queryset.exclude(suspended)

    def filter_in_collection(self, queryset, name, value):
        return queryset.filter(contract__collection_owner__isnull=not value)


class ContractFilter(django_filters.FilterSet):
    takes_user = True

    q = django_filters.CharFilter(label=_("Customer"), field_name="lead__customer__name", lookup_expr="icontains")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Contract.Status.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Sales rep"), queryset=User.objects.none())
    customer = _id("lead__customer_id", _("Customer ID"))
    lead = _id("lead_id", _("Lead ID"))
    signed_after = django_filters.DateFilter(label=_("Signed from"), field_name="signed_on", lookup_expr="gte")
    signed_before = django_filters.DateFilter(label=_("Signed until"), field_name="signed_on", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["q", "status", "owner", "customer", "lead", "signed_after", "signed_before"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = _people(user)


class PaymentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Payment.Status.choices)
    installment = _id("installment_id", _("Installment ID"))
    contract = _id("installment__contract_id", _("Contract ID"))
    paid_after = django_filters.DateFilter(label=_("Paid from"), field_name="paid_on", lookup_expr="gte")
    paid_before = django_filters.DateFilter(label=_("Paid until"), field_name="paid_on", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ["status", "installment", "contract", "paid_after", "paid_before"]
