from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm import normalize
from crm.choices import Source

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTE_TEXT = 500


class IntakeLeadSerializer(serializers.Serializer):
    """What a web form may send; text is trimmed, phones normalized, emails lowercased."""

    company = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    message = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=Source.choices, required=False, allow_blank=True, default="")
    utm_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    utm_medium = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    utm_campaign = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    attributes = serializers.DictField(required=False, default=dict)

    def validate_phone(self, value: str) -> str:
        if not value:
            return ""
        normalized = normalize.chinese_phone(value)
        if normalized is None:
            raise serializers.ValidationError(_("Enter a Chinese mobile or landline number."))
        return normalized

    def validate_email(self, value: str) -> str:
        return normalize.email_key(value)

    def validate_attributes(self, value: dict) -> dict:
        if len(value) > MAX_ATTRIBUTES:
            raise serializers.ValidationError(_("At most %(n)d attributes.") % {"n": MAX_ATTRIBUTES})
        clean = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip() or len(key) > MAX_ATTRIBUTE_KEY:
                raise serializers.ValidationError(_("Attribute names are text of 1-64 characters."))
            if isinstance(item, dict | list):
                raise serializers.ValidationError(_("Attribute values are plain text, numbers or true/false."))
            if isinstance(item, str):
                item = item.strip()
                if len(item) > MAX_ATTRIBUTE_TEXT:
                    raise serializers.ValidationError(_("Attribute values are at most 500 characters."))
            clean[key.strip()] = item
        return clean

    def validate(self, data: dict) -> dict:
        if not data.get("phone") and not data.get("email"):
            raise serializers.ValidationError({"phone": [_("Give a phone number or an email.")]})
        return data


class IntakeResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    status = serializers.ChoiceField(choices=["created", "duplicate", "parked", "spam"])
