import uuid
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import VisitOutcome
from crm.models import Contact, Lead, Visit

from .cadence import leads_flag_cadence

CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock may run a little ahead of the server's
NEEDS_NEXT_STEP = (VisitOutcome.PROGRESS, VisitOutcome.CONTINUATION)


def _lock_lead_for(author, lead: Lead) -> Lead:
    """Return the lead locked for update if the author may log on it: own leads, or a light touch on the pool."""
    editable = Lead.objects.editable_by(author).filter(pk=lead.pk)
    light_touch = Lead.objects.visible_to(author).in_pool().filter(pk=lead.pk) if author.works_leads else None
    queryset = editable if light_touch is None else editable | light_touch
    locked = Lead.objects.select_for_update(of=("self",)).filter(pk__in=queryset.values("pk")).first()
    if locked is None:
        raise PermissionDenied
    return locked


def _check(
    *, lead: Lead, outcome: str, summary: str, next_step: str, next_step_date, contact, occurred_at: datetime
) -> None:
    errors = {}
    if outcome not in VisitOutcome.values:
        errors["outcome"] = _("Choose the outcome.")
    if not summary.strip():
        errors["summary"] = _("Write what happened.")
    if occurred_at > timezone.now() + CLOCK_SKEW:
        errors["occurred_at"] = _("A visit cannot be in the future.")
    if outcome in NEEDS_NEXT_STEP:
        if not next_step.strip():
            errors["next_step"] = _("Every visit that goes on needs a next step.")
        if next_step_date is None:
            errors["next_step_date"] = _("Give the next step a date.")
    if next_step_date is not None and next_step_date < timezone.localdate(occurred_at):
        errors["next_step_date"] = _("The next step cannot be before the visit.")
    if contact is not None and contact.customer_id != lead.customer_id:
        errors["contact"] = _("This contact belongs to another customer.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def visit_log(
    *,
    lead: Lead,
    author,
    kind: str,
    outcome: str,
    summary: str,
    next_step: str = "",
    next_step_date: date | None = None,
    contact: Contact | None = None,
    occurred_at: datetime | None = None,
    form_token: uuid.UUID | None = None,
) -> Visit:
    """Log a call, visit or meeting on a lead, keep its next step, and refresh its follow-up flag.

    A form posted twice carries the same token and gets back the visit it already made.
    """
    if form_token is not None:
        existing = Visit.objects.filter(author=author, form_token=form_token).first()
        if existing is not None:
            return existing
    lead = _lock_lead_for(author, lead)
    occurred_at = occurred_at or timezone.now()
    _check(
        lead=lead,
        outcome=outcome,
        summary=summary,
        next_step=next_step,
        next_step_date=next_step_date,
        contact=contact,
        occurred_at=occurred_at,
    )
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                lead=lead,
                author=author,
                contact=contact,
                kind=kind,
                outcome=outcome,
                summary=summary.strip(),
                next_step=next_step.strip(),
                next_step_date=next_step_date,
                occurred_at=occurred_at,
                form_token=form_token,
            )
    except IntegrityError:
        # The twin request committed first (the lead lock covers only this lead's rows).
        return Visit.objects.get(author=author, form_token=form_token)
    if lead.last_activity_at is None or occurred_at >= lead.last_activity_at:
        lead.last_activity_at = occurred_at
        lead.next_step, lead.next_step_date = visit.next_step, visit.next_step_date
        lead.save(update_fields=["last_activity_at", "next_step", "next_step_date", "updated_at"])
    leads_flag_cadence(lead_ids=[lead.pk])
    return visit
