from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import IntakeKey, User
from crm.models import Lead
from crm.selectors import customer_duplicates

from ..models import IntakeSubmission
from ..services.leads import lead_insert


@dataclass(frozen=True)
class IntakeResult:
    status_code: int
    body: dict
    lead_id: int | None = None


TWIN_ATTEMPTS = 5  # each retry sees the twin that beat it, so a few always settle


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different body."""


def _owner_for(key: IntakeKey, data: dict):
    """Return who gets a new lead from this form: nobody (pool), the team in turn, or a city/source rule."""
    if key.assignment == IntakeKey.Assignment.ROUND_ROBIN and key.team_id:
        members = list(
            User.objects.active().sales().filter(team_id=key.team_id).order_by("pk").values_list("pk", flat=True)
        )
        if not members:
            return None
        IntakeKey.objects.filter(pk=key.pk).update(round_robin_cursor=F("round_robin_cursor") + 1)
        cursor = IntakeKey.objects.values_list("round_robin_cursor", flat=True).get(pk=key.pk)
        return User.objects.get(pk=members[(cursor - 1) % len(members)])
    if key.assignment == IntakeKey.Assignment.RULES:
        for field in ("city", "source"):
            username = (key.rules.get(field) or {}).get(data.get(field) or "")
            if username:
                return User.objects.active().sales().filter(username=username).first()
    return None


def _existing_lead(data: dict) -> tuple[Lead | None, object]:
    """Return (lead, customer) the post duplicates: the customer's newest open lead, else its newest lead."""
    matches = customer_duplicates(name=data["company"], phone=data["phone"], email=data["email"])
    if not matches:
        return None, None
    customer = matches[0][1]
    lead = customer.leads.order_by("-closed_at", "-created_at").filter(closed_at__isnull=True).first()
    return lead or customer.leads.order_by("-created_at").first(), customer


def _over_daily_cap(key: IntakeKey) -> bool:
    if key.daily_cap is None:
        return False
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    created_today = IntakeSubmission.objects.filter(
        key=key, created_at__gte=start, status=IntakeSubmission.Status.CREATED
    )
    return created_today.count() >= key.daily_cap


def _create_lead(key: IntakeKey, data: dict, customer) -> Lead:
    owner = customer.owner if customer is not None and customer.owner_id else _owner_for(key, data)
    return lead_insert(
        customer=customer,
        owner=owner,
        actor=None,
        customer_fields={"name": data["company"], "phone": data["phone"], "email": data["email"], "city": data["city"]},
        contact_fields={
            "name": data["contact_name"],
            "title": data["title"],
            "phone": data["phone"],
            "email": data["email"],
        },
        lead_fields={
            "title": data["company"],
            "source": data["source"] or key.source,
            "attributes": data["attributes"],
            "message": data["message"],
            "utm_source": data["utm_source"],
            "utm_medium": data["utm_medium"],
            "utm_campaign": data["utm_campaign"],
        },
    )


def _replay(key: IntakeKey, idempotency_key: str, body_hash: str) -> IntakeResult | None:
    earlier = IntakeSubmission.objects.filter(key=key, idempotency_key=idempotency_key).first()
    if earlier is None:
        return None
    if earlier.body_hash != body_hash:
        raise IdempotencyConflict
    return IntakeResult(status_code=earlier.status_code, body=earlier.response, lead_id=earlier.lead_id)


def intake_submit(
    *, key: IntakeKey, data: dict, payload: dict, body_hash: str, idempotency_key: str | None
) -> IntakeResult:
    """Store a web form's lead (or note the duplicate) and return the answer; a retry gets the first answer.

    The answer is given only after the transaction commits, so a 2xx always means a stored lead.
    """
    for attempt in range(1, TWIN_ATTEMPTS + 1):
        if idempotency_key:
            replay = _replay(key, idempotency_key, body_hash)
            if replay is not None:
                return replay
        try:
            return _submit(key=key, data=data, payload=payload, body_hash=body_hash, idempotency_key=idempotency_key)
        except IntegrityError:
            # A twin committed first (the same Idempotency-Key, or the same company): look again.
            if attempt == TWIN_ATTEMPTS:
                raise


@transaction.atomic
def _submit(*, key: IntakeKey, data: dict, payload: dict, body_hash: str, idempotency_key: str | None) -> IntakeResult:
    # A concurrent twin (the same Idempotency-Key, or the same company) fails on a unique index here
    # and rolls the whole post back; intake_submit then looks again and answers as the twin did.
    lead, customer = _existing_lead(data)
    if lead is not None:
        status, code = IntakeSubmission.Status.DUPLICATE, 200
    elif _over_daily_cap(key):
        status, code = IntakeSubmission.Status.PARKED, 202
    else:
        lead = _create_lead(key, data, customer)
        status, code = IntakeSubmission.Status.CREATED, 201
    submission = IntakeSubmission.objects.create(
        key=key,
        idempotency_key=idempotency_key or "",
        body_hash=body_hash,
        payload=payload,
        status=status,
        status_code=code,
        lead=lead,
    )
    return IntakeResult(status_code=code, body=submission.response, lead_id=getattr(lead, "pk", None))


def intake_spam(*, key: IntakeKey, payload: dict, body_hash: str) -> IntakeResult:
    """Keep a post that filled the honeypot field as spam, without making a lead."""
    submission = IntakeSubmission.objects.create(
        key=key, body_hash=body_hash, payload=payload, status=IntakeSubmission.Status.SPAM, status_code=202
    )
    return IntakeResult(status_code=202, body=submission.response)
