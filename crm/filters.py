from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from accounts.models import User

from . import normalize
from .choices import Grade, Source, Stage
from .models import Contact, Customer, Lead, StageChange, Visit
from .widgets import QuickSelect

MAX_ID = 2**63 - 1
MAX_OFFSET = timedelta(hours=14)  # the widest offset of any real time zone


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO datetime a database can store: years 1900-9999, a real time-zone offset."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        offset = moment.utcoffset()
        if not 1900 <= moment.year <= 9998 or (offset is not None and abs(offset) > MAX_OFFSET):
            raise forms.ValidationError(_("Enter a date and time between 1900 and 9998 with a real time zone."))
        return moment


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


def id_filter(field_name: str, **kwargs) -> django_filters.NumberFilter:
    """Filter on an id; a value no bigint can hold is a 400, not a database error."""
    return django_filters.NumberFilter(field_name=field_name, min_value=1, max_value=MAX_ID, **kwargs)


class LeadFilter(django_filters.FilterSet):
    """The lead list's filters, shared by the page and the API."""

    takes_user = True

    q = django_filters.CharFilter(label=_("Company, contact or phone"), method="filter_text")
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices, widget=QuickSelect)
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=Grade.choices, widget=QuickSelect)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Source.choices, widget=QuickSelect)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none(), widget=QuickSelect)
    score_min = django_filters.NumberFilter(
        label=_("Score from"), field_name="score", lookup_expr="gte", min_value=0, max_value=100
    )
    score_max = django_filters.NumberFilter(
        label=_("Score to"), field_name="score", lookup_expr="lte", min_value=0, max_value=100
    )
    flagged = django_filters.BooleanFilter(label=_("Flagged"), method="filter_flagged")
    team = id_filter("owner__team_id", label=_("Team"))
    created_after = BoundedIsoDateTimeFilter(label=_("Created from"), field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(label=_("Created before"), field_name="created_at", lookup_expr="lt")
    updated_after = BoundedIsoDateTimeFilter(label=_("Updated from"), field_name="updated_at", lookup_expr="gte")
    updated_before = BoundedIsoDateTimeFilter(label=_("Updated before"), field_name="updated_at", lookup_expr="lt")
    o = django_filters.OrderingFilter(
        label=_("Sort by"),
        widget=QuickSelect,
        fields=(
            ("updated_at", "updated"),
            ("score", "score"),
            ("expected_amount", "amount"),
            ("stage_entered_at", "in_stage"),
            ("next_step_date", "next_step"),
        ),
        field_labels={
            "updated_at": _("Last change"),
            "score": _("Score"),
            "expected_amount": _("Expected amount"),
            "stage_entered_at": _("Time in stage"),
            "next_step_date": _("Next step date"),
        },
    )

    class Meta:
        model = Lead
        fields = ["q", "stage", "grade", "source", "owner", "score_min", "score_max", "flagged"]

    PAGE_FILTERS = ("q", "stage", "grade", "source", "owner", "score_min", "score_max", "flagged", "o")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people whose leads the user may see can be picked: ?owner= cannot widen visibility.
        self.filters["owner"].queryset = User.objects.visible_to(user).sales() if user else User.objects.none()

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        phone = normalize.phone_key(value)
        contact_match = Q(name__icontains=value)
        customer_match = Q(customer__name__icontains=value) | Q(title__icontains=value)
        if len(phone) >= 4:
            contact_match |= Q(phone_key__contains=phone)
            customer_match |= Q(customer__phone_key__contains=phone)
        contacts = Contact.objects.filter(contact_match, customer_id=OuterRef("customer_id"))
        return queryset.filter(customer_match | Q(Exists(contacts)))

    def filter_flagged(self, queryset, name, value):
        if value is None:
            return queryset
        flags = Q(is_followup_overdue=True) | Q(is_verdict_due=True) | Q(is_slow=True)
        return queryset.filter(flags) if value else queryset.exclude(flags)


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or phone"), method="filter_text")
    tier = django_filters.ChoiceFilter(choices=Customer._meta.get_field("tier").choices)
    city = django_filters.CharFilter()
    industry = django_filters.CharFilter()
    owner = id_filter("owner_id")
    updated_after = BoundedIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["q", "tier", "city", "industry", "owner"]

    def filter_text(self, queryset, name, value):
        phone = normalize.phone_key(value)
        match = Q(name__icontains=value.strip())
        if len(phone) >= 4:
            match |= Q(phone_key__contains=phone)
        return queryset.filter(match)


class VisitFilter(django_filters.FilterSet):
    lead = id_filter("lead_id")
    author = id_filter("author_id")
    kind = django_filters.ChoiceFilter(choices=Visit._meta.get_field("kind").choices)
    outcome = django_filters.ChoiceFilter(choices=Visit._meta.get_field("outcome").choices)
    occurred_after = BoundedIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = BoundedIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Visit
        fields = ["lead", "author", "kind", "outcome"]


class StageChangeFilter(django_filters.FilterSet):
    lead = id_filter("lead_id")
    to_stage = django_filters.ChoiceFilter(choices=Stage.choices)
    changed_after = BoundedIsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")
    changed_before = BoundedIsoDateTimeFilter(field_name="changed_at", lookup_expr="lt")

    class Meta:
        model = StageChange
        fields = ["lead", "to_stage"]


class ContactFilter(django_filters.FilterSet):
    customer = id_filter("customer_id")
    role = django_filters.ChoiceFilter(choices=Contact._meta.get_field("role").choices)

    class Meta:
        model = Contact
        fields = ["customer", "role"]
