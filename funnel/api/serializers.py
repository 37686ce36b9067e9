from rest_framework import serializers

from accounts.models import User
from crm.choices import BuyingRole, Confidence, Grade, LostReason, Source, Stage, VisitKind, VisitOutcome
from crm.models import Contact

from ..models import ReviewAgenda, Verdict
from ..services.leads import EDITABLE_LEAD_FIELDS


class LeadCreateSerializer(serializers.Serializer):
    company = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    industry = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    contact_role = serializers.ChoiceField(choices=BuyingRole.choices, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=Source.choices, required=False, default=Source.OTHER)
    expected_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Defaults to the caller for reps and managers; others create pool leads.",
    )


class LeadUpdateSerializer(serializers.Serializer):
    """The fields a lead's owner may change; owner, stage, score and flags have their own endpoints."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    grade = serializers.ChoiceField(choices=Grade.choices, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    product = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expected_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    budget_known = serializers.BooleanField(required=False)
    budget_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    authority_known = serializers.BooleanField(required=False)
    need_known = serializers.BooleanField(required=False)
    need_note = serializers.CharField(required=False, allow_blank=True)
    timeline_date = serializers.DateField(required=False, allow_null=True)
    budget_confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, allow_blank=True)
    budget_learned_on = serializers.DateField(required=False, allow_null=True)
    authority_note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    authority_confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, allow_blank=True)
    authority_learned_on = serializers.DateField(required=False, allow_null=True)
    need_confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, allow_blank=True)
    need_learned_on = serializers.DateField(required=False, allow_null=True)
    timeline_confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, allow_blank=True)
    timeline_learned_on = serializers.DateField(required=False, allow_null=True)
    next_step = serializers.CharField(max_length=200, required=False, allow_blank=True)
    next_step_date = serializers.DateField(required=False, allow_null=True)

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(EDITABLE_LEAD_FIELDS)
            if unknown:
                raise serializers.ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
        return super().to_internal_value(data)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    grade = serializers.ChoiceField(choices=Grade.choices, required=False, allow_blank=True, default="")
    lost_reason = serializers.ChoiceField(choices=LostReason.choices, required=False, allow_blank=True, default="")
    lost_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    signed_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    signed_on = serializers.DateField(required=False, allow_null=True, default=None)
    implementation_accepted = serializers.BooleanField(required=False, default=False)


class VisitCreateSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=VisitKind.choices)
    outcome = serializers.ChoiceField(choices=VisitOutcome.choices)
    summary = serializers.CharField(max_length=4000)
    next_step = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    next_step_date = serializers.DateField(required=False, allow_null=True, default=None)
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class AssignSerializer(serializers.Serializer):
    to_owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReviewAgendaSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewAgenda
        fields = ["id", "team", "week_start", "items", "built_at"]
        read_only_fields = fields


class VerdictSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Verdict.Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    lost_reason = serializers.ChoiceField(choices=LostReason.choices, required=False, allow_blank=True, default="")
    lost_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
