from drf_spectacular.openapi import AutoSchema

ERROR_BODY = {
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}
ERRORS = {
    "400": "Field errors: {field: [messages]}.",
    "401": "Not logged in, or a bad token or key.",
    "403": "Not allowed.",
    "404": "Not there, or not visible to you.",
    "405": "Method not allowed.",
    "409": "The business rules refuse it (for example a stage move).",
    "413": "Body too large.",
    "415": "Unsupported content type.",
    "422": "Idempotency-Key reused with another body.",
    "429": "Too many requests; see Retry-After.",
}


class CrmAutoSchema(AutoSchema):
    """Document the JSON error answers every endpoint may give, beside its success answer."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            responses.setdefault(code, {**ERROR_BODY, "description": description})
        return responses
