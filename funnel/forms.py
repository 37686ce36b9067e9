import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import IntakeKey, Team, User
from crm.choices import BuyingRole, Grade, LostReason, Source, Stage, VisitKind, VisitOutcome
from crm.models import Contact, Contract, Customer, Installment, Lead, Reminder

from .models import ImportBatch, Target, Verdict, Webhook
from .services.leads import EDITABLE_LEAD_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's field-keyed errors on the form's fields, the rest above the form."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class VisitForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=VisitKind.choices, initial=VisitKind.CALL)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VisitOutcome.choices, initial=VisitOutcome.PROGRESS)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    next_step_date = forms.DateField(label=_("Next step date"), required=False, widget=DATE)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    form_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, lead: Lead, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("form_token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        # Another customer's contact id is simply not a choice: a tampered id is a field error.
        self.fields["contact"].queryset = Contact.objects.filter(customer_id=lead.customer_id)


class TransitionForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices, widget=forms.HiddenInput)
    grade = forms.ChoiceField(label=_("Grade"), choices=[("", "—"), *Grade.choices], required=False)
    reason = forms.CharField(label=_("Note"), required=False, max_length=300)
    signed_amount = forms.DecimalField(label=_("Contract amount"), required=False, max_digits=14, decimal_places=2)
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DATE)
    lost_reason = forms.ChoiceField(label=_("Why abandoned"), choices=[("", "—"), *LostReason.choices], required=False)
    lost_note = forms.CharField(label=_("Details"), required=False, max_length=300)
    implementation_accepted = forms.BooleanField(
        label=_("The customer has accepted the implementation"), required=False
    )

    FIELDS_FOR = {
        Stage.GRADED: ("grade", "reason"),
        Stage.SIGNED: ("signed_amount", "signed_on", "reason"),
        Stage.ABANDONED: ("lost_reason", "lost_note"),
        Stage.IMPLEMENTED: ("implementation_accepted", "reason"),
    }

    def visible_fields_for(self, stage: str) -> list:
        return [self[name] for name in self.FIELDS_FOR.get(stage, ("reason",))]


class LeadEditForm(forms.ModelForm):
    class Meta:
        model = Lead
        # What the service lets an owner change, less the next step (the visit form sets that).
        fields = [f for f in EDITABLE_LEAD_FIELDS if f not in ("next_step", "next_step_date")]
        widgets = {
            "expected_close_date": DATE,
            "timeline_date": DATE,
            "budget_learned_on": DATE,
            "authority_learned_on": DATE,
            "need_learned_on": DATE,
            "timeline_learned_on": DATE,
            "need_note": forms.Textarea(attrs={"rows": 2}),
        }


class LeadCreateForm(forms.Form):
    company = forms.CharField(label=_("Company name"), max_length=200)
    contact_name = forms.CharField(label=_("Contact"), required=False, max_length=100)
    contact_role = forms.ChoiceField(label=_("Buying role"), choices=[("", "—"), *BuyingRole.choices], required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    email = forms.EmailField(label=_("Email"), required=False)
    city = forms.CharField(label=_("City"), required=False, max_length=50)
    industry = forms.CharField(label=_("Industry"), required=False, max_length=50)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.OTHER)
    expected_amount = forms.DecimalField(
        label=_("Expected amount"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    title = forms.CharField(label=_("Title"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            self.add_error("phone", _("Give a phone number or an email."))
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "role", "title", "phone", "email"]


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Why does it go back to the pool?"), max_length=300)


class AssignForm(forms.Form):
    to_owner = forms.ModelChoiceField(label=_("Give to"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = users


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(label=_("Leaving rep"), queryset=User.objects.none())
    to_users = forms.ModelMultipleChoiceField(
        label=_("Take over (round-robin)"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_user"].queryset = users
        self.fields["to_users"].queryset = users


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(label=_("Keep"), queryset=Customer.objects.all(), widget=forms.NumberInput)
    duplicate = forms.ModelChoiceField(
        label=_("Merge into it and delete"), queryset=Customer.objects.all(), widget=forms.NumberInput
    )


class IntakeKeyForm(forms.Form):
    name = forms.CharField(label=_("Form name"), max_length=100)
    source = forms.ChoiceField(label=_("Lead source"), choices=Source.choices, initial=Source.WEB_FORM)
    assignment = forms.ChoiceField(label=_("New leads go"), choices=IntakeKey.Assignment.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    allowed_origins = forms.CharField(
        label=_("Allowed origins"), required=False, help_text=_("One per line, e.g. https://www.example.com")
    )
    redirect_url = forms.URLField(label=_("Thank-you page after a form post"), required=False, assume_scheme="https")
    rate_per_minute = forms.IntegerField(label=_("Requests per minute"), min_value=1, max_value=10000, initial=60)
    daily_cap = forms.IntegerField(label=_("Leads per day before review"), min_value=1, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_origins"].widget = forms.Textarea(attrs={"rows": 2})

    def clean_allowed_origins(self) -> list[str]:
        origins = [
            line.strip().rstrip("/") for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()
        ]
        for origin in origins:
            if not origin.startswith(("https://", "http://")) or "/" in origin.split("://", 1)[1]:
                raise forms.ValidationError(_("“%s” is not an origin like https://www.example.com.") % origin)
        return origins


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=Webhook.Event.choices, widget=forms.CheckboxSelectMultiple
    )


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the list holds"))
    file = forms.FileField(
        label=_("CSV or Excel file"), help_text=_("UTF-8 or GBK CSV, or .xlsx; up to 5 MB and 20,000 rows.")
    )

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, ImportBatch.Kind(k).label) for k in kinds]


def mapping_form(batch: ImportBatch, data=None) -> forms.Form:
    """Return a form with one column chooser per importable field, preset from the batch's mapping."""
    from .imports.columns import REQUIRED, fields_for

    columns = [("", "—"), *[(str(i), name or f"#{i + 1}") for i, name in enumerate(batch.header)]]
    form = forms.Form(data)
    for field, (label, _names) in fields_for(batch.kind).items():
        form.fields[field] = forms.ChoiceField(
            label=label,
            choices=columns,
            required=field in REQUIRED[batch.kind],
            initial=str(batch.mapping[field]) if field in batch.mapping else "",
        )
    return form


class VerdictForm(forms.Form):
    decision = forms.ChoiceField(label=_("Verdict"), choices=Verdict.Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lost_reason = forms.ChoiceField(label=_("Why abandoned"), choices=[("", "—"), *LostReason.choices], required=False)
    lost_note = forms.CharField(label=_("Details"), required=False, max_length=300)


class ReviewCommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class TargetForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = ["rep", "team", "period_start", "period_end", "signings", "amount", "collection"]
        widgets = {"period_start": DATE, "period_end": DATE}

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = User.objects.filter(pk__in=scope.rep_ids)
        self.fields["team"].queryset = (
            Team.objects.all() if scope.viewer.sees_all else Team.objects.filter(pk=scope.viewer.team_id)
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("rep")) == bool(data.get("team")):
            raise ValidationError(_("Choose either a rep or a team."))
        return data


# Receivables (issue 4): the forms only check shape; the receivables services enforce the money rules. -------------


def _amount(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=14, decimal_places=2, **kwargs)


class PaymentForm(forms.Form):
    installment = forms.ModelChoiceField(label=_("Installment"), queryset=Installment.objects.none())
    amount = _amount(_("Amount"))
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE)
    reference = forms.CharField(label=_("Bank reference"), required=False, max_length=100)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        # Another contract's installment is simply not a choice: a tampered id is a field error.
        self.fields["installment"].queryset = Installment.objects.filter(contract=contract).order_by("number")
        self.fields["installment"].label_from_instance = lambda i: (
            _("No. %(n)s · due %(due)s · %(open)s open")
            % {
                "n": i.number,
                "due": i.due_on.isoformat(),
                "open": f"¥{i.outstanding:,.2f}",
            }
        )


class InstallmentRowForm(forms.Form):
    due_on = forms.DateField(label=_("Due on"), widget=DATE, required=False)
    amount = _amount(_("Amount"), required=False)


InstallmentFormSet = forms.formset_factory(InstallmentRowForm, extra=2, max_num=60, absolute_max=60)


class ContractTermsForm(forms.Form):
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReminderForm(forms.Form):
    channel = forms.ChoiceField(label=_("Sent by"), choices=Reminder.Channel.choices)
    sent_on = forms.DateField(label=_("Sent on"), widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ReminderAnswerForm(forms.Form):
    note = forms.CharField(label=_("How did the customer answer?"), max_length=300)


class CollectionHandoverForm(forms.Form):
    collection_owner = forms.ModelChoiceField(label=_("Collection owner"), queryset=User.objects.none())
    note = forms.CharField(label=_("Why it goes to collection"), max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection_owner"].queryset = User.objects.active().order_by("username")


class CreditLimitForm(forms.Form):
    credit_limit = _amount(_("Credit limit"), required=False, help_text=_("Empty: no limit."))


class CommissionRateForm(forms.Form):
    commission_rate = forms.DecimalField(label=_("Commission rate (%)"), max_digits=5, decimal_places=2)


class StatementForm(forms.Form):
    rep = forms.ModelChoiceField(label=_("Sales rep"), queryset=User.objects.none(), required=False)
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        required=False,
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = people
