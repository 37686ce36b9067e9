from rest_framework import serializers

# These serializers only ever write responses; inputs have their own serializers in funnel/api.
# They are left writable on purpose: DRF drops allow_blank from read-only fields, and the
# schema would then promise that a blank grade or reason is never sent.
from accounts.models import User
from crm.models import Contact, Customer, Lead, OwnerChange, StageChange, Visit


class CalledField(serializers.CharField):
    """Read-only text from a model method, called directly.

    DRF's own lookup of a callable source inspects its signature on every row: a third of a
    100-lead list's serializing time.
    """

    def __init__(self, method: str, **kwargs):
        self.method = method
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return getattr(instance, self.method)()


class UserRefSerializer(serializers.ModelSerializer):
    name = CalledField("__str__")

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class CustomerSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "phone",
            "email",
            "address",
            "city",
            "industry",
            "size",
            "credit",
            "business_status",
            "tier",
            "notes",
            "owner",
            "created_at",
            "updated_at",
        ]


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "city", "tier"]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "customer", "name", "title", "role", "phone", "email", "notes", "created_at"]


class LeadSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True, allow_null=True)
    stage_label = CalledField("get_stage_display")
    bant_completeness = serializers.IntegerField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "title",
            "customer",
            "owner",
            "stage",
            "stage_label",
            "grade",
            "source",
            "product",
            "expected_amount",
            "expected_close_date",
            "budget_known",
            "budget_amount",
            "authority_known",
            "need_known",
            "need_note",
            "timeline_date",
            "bant_completeness",
            "budget_confidence",
            "budget_learned_on",
            "authority_note",
            "authority_confidence",
            "authority_learned_on",
            "need_confidence",
            "need_learned_on",
            "timeline_confidence",
            "timeline_learned_on",
            "score",
            "win_probability",
            "scored_at",
            "stage_entered_at",
            "last_activity_at",
            "last_progress_at",
            "next_step",
            "next_step_date",
            "is_followup_overdue",
            "is_verdict_due",
            "is_out_of_funnel",
            "is_slow",
            "signed_amount",
            "signed_on",
            "lost_reason",
            "lost_note",
            "closed_at",
            "attributes",
            "message",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "created_at",
            "updated_at",
        ]


class VisitSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "lead",
            "author",
            "contact",
            "kind",
            "outcome",
            "summary",
            "next_step",
            "next_step_date",
            "occurred_at",
            "created_at",
        ]


class StageChangeSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = StageChange
        fields = ["id", "lead", "from_stage", "to_stage", "actor", "reason", "is_out_of_funnel", "changed_at"]


class OwnerChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OwnerChange
        fields = ["id", "lead", "customer", "action", "from_owner", "to_owner", "actor", "reason", "changed_at"]
