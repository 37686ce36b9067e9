import hashlib
import json
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, permissions, renderers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import IntakeKey
from accounts.services import intake_key_for

from .limits import rate_limited
from .serializers import IntakeLeadSerializer, IntakeResponseSerializer
from .services import IdempotencyConflict, intake_spam, intake_submit

MAX_BODY_BYTES = 64 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key"
HONEYPOT = "website"


class SafeJSONParser(parsers.JSONParser):
    """JSON whose nesting is too deep for the parser is a 400, not a crash."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None


def _error(status_code: int, detail: str, **headers) -> Response:
    return Response({"detail": detail}, status=status_code, headers=headers)


def _form_to_dict(data) -> dict:
    """Turn a plain HTML form's fields into the JSON shape; `attributes.<name>` fields become attributes."""
    result, attributes = {}, {}
    for name in data:
        value = data.get(name)
        if name.startswith("attributes."):
            attributes[name.removeprefix("attributes.")] = value
        elif name not in ("api_key", "csrfmiddlewaretoken"):
            result[name] = value
    if attributes:
        result["attributes"] = attributes
    return result


class IntakeLeadView(APIView):
    """Web-to-lead: marketing forms post leads here with their intake key."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [SafeJSONParser, parsers.FormParser, parsers.MultiPartParser]
    renderer_classes = [renderers.JSONRenderer]  # a browser's form post gets JSON too, never the browsable API

    def _cors(self, response, origin: str, key: IntakeKey | None):
        allowed = key.allowed_origins if key is not None else self._all_origins()
        if origin and origin in allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Headers"] = CORS_HEADERS
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Vary"] = "Origin"
        return response

    @staticmethod
    def _all_origins() -> set[str]:
        origins = IntakeKey.objects.filter(revoked_at__isnull=True).values_list("allowed_origins", flat=True)
        return {origin for listed in origins for origin in listed}

    def options(self, request, *args, **kwargs):
        """Answer the browser's preflight for origins that some live key allows."""
        return self._cors(Response(status=status.HTTP_204_NO_CONTENT), request.headers.get("Origin", ""), None)

    @extend_schema(
        request=IntakeLeadSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={
            201: IntakeResponseSerializer,
            200: OpenApiResponse(IntakeResponseSerializer, description="Matched an existing customer or lead."),
            202: OpenApiResponse(IntakeResponseSerializer, description="Parked: over the form's daily cap."),
            400: OpenApiResponse(description="Field errors."),
            401: OpenApiResponse(description="Missing, unknown or revoked key."),
            413: OpenApiResponse(description="Body over 64 KiB."),
            422: OpenApiResponse(description="Idempotency-Key reused with another body."),
            429: OpenApiResponse(description="Over the key's rate; see Retry-After."),
        },
        auth=[{"intakeKey": []}],
    )
    def post(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return _error(413, _("The request body is over 64 KiB."))
        raw = request.body
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, _("The request body is over 64 KiB."))
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, _("The request body is not UTF-8."))
        is_form = request.content_type in FORM_TYPES
        key = self._key(request, is_form)
        if key is None:
            return _error(401, _("A valid intake key is required: Authorization: Api-Key <key>."))
        origin = request.headers.get("Origin", "")
        if origin and key.allowed_origins and origin not in key.allowed_origins:
            return _error(403, _("This origin may not post to this form."))
        wait = rate_limited(key_id=key.pk, per_minute=key.rate_per_minute)
        if wait:
            return self._cors(
                _error(429, _("Too many requests for this form; retry later."), **{"Retry-After": str(wait)}),
                origin,
                key,
            )
        payload = _form_to_dict(request.data) if is_form else request.data
        if not isinstance(payload, dict):
            return _error(400, _("Send a JSON object."))
        if str(payload.get(HONEYPOT) or "").strip():
            # People never see this field; a bot fills it. Keep the post for review, make no lead.
            result = intake_spam(
                key=key, payload=json.loads(json.dumps(payload, default=str)), body_hash=hashlib.sha256(raw).hexdigest()
            )
            return self._cors(Response(result.body, status=result.status_code), origin, key)
        serializer = IntakeLeadSerializer(data=payload)
        if not serializer.is_valid():
            return self._cors(Response(serializer.errors, status=400), origin, key)
        try:
            result = intake_submit(
                key=key,
                data=serializer.validated_data,
                payload=json.loads(json.dumps(payload, default=str)),
                body_hash=hashlib.sha256(raw).hexdigest(),
                idempotency_key=request.headers.get("Idempotency-Key", "").strip()[:200] or None,
            )
        except IdempotencyConflict:
            return _error(422, _("This Idempotency-Key was used with a different body."))
        if is_form and key.redirect_url:
            return HttpResponseRedirect(f"{key.redirect_url}?{urlencode(result.body)}", status=303)
        return self._cors(Response(result.body, status=result.status_code), origin, key)

    @staticmethod
    def _key(request, is_form: bool) -> IntakeKey | None:
        """Return the key from the Authorization header, or from a form field for plain HTML forms; never the URL."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Api-Key "):
            return intake_key_for(secret=header.removeprefix("Api-Key ").strip())
        if is_form and request.POST.get("api_key"):
            return intake_key_for(secret=request.POST["api_key"].strip())
        return None
