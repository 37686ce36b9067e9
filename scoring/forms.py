from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ScoreRule

SCALE = [(1, "1"), (2, "2"), (3, "3"), (4, "4"), (5, "5")]


class ScoreRuleForm(forms.ModelForm):
    """The shape of a rule; whether the condition fits what it looks at is checked by the service."""

    class Meta:
        model = ScoreRule
        fields = ["name", "criterion", "attribute_key", "operator", "value", "points", "is_active"]
        help_texts = {
            "value": _(
                "Codes for grade, source, stage, tier and size (e.g. A, referral_customer, strategic); "
                "several separated by commas for “is one of”; months for a timeline; "
                "visits for full points for engagement."
            ),
            "points": _("From -100 to 100; the total is kept between 0 and 100."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].required = False
        self.fields["operator"].choices = [("", "—"), *self.fields["operator"].choices[1:]]


class RiskAssessmentForm(forms.Form):
    size_budget = forms.TypedChoiceField(label=_("Size and budget"), choices=SCALE, coerce=int)
    funding_credit = forms.TypedChoiceField(label=_("Funding and credit"), choices=SCALE, coerce=int)
    fit = forms.TypedChoiceField(label=_("Our product meets the need"), choices=SCALE, coerce=int)
    competition = forms.TypedChoiceField(label=_("Our edge over competitors"), choices=SCALE, coerce=int)
    strategic_value = forms.TypedChoiceField(label=_("Strategic value"), choices=SCALE, coerce=int)
    months_to_close = forms.IntegerField(label=_("Months to close"), min_value=0, max_value=60)
