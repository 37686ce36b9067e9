from datetime import date
from decimal import Decimal
from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CLOSED_STAGES, FUNNEL_ORDER, Grade, LostReason, Stage
from crm.models import Contract, Lead, StageChange

from ..models import Webhook
from ..webhooks import lead_payload, webhook_emit
from .cadence import FLAGS, leads_flag_cadence
from .receivables import contract_check_implemented, contract_sign


def _position(stage: str) -> int:
    return FUNNEL_ORDER.index(stage) if stage in FUNNEL_ORDER else -1


def moves_for(*, lead: Lead, user) -> list[str]:
    """Return the stages the user may try to move the lead to (the gates are checked on the move)."""
    if lead.stage == Stage.IMPLEMENTED and not user.manages_leads:
        return []
    targets = [s for s in FUNNEL_ORDER if s != lead.stage]
    if not user.manages_leads:
        here = _position(lead.stage)
        targets = [] if lead.stage == Stage.ABANDONED else [s for s in targets if _position(s) == here + 1]
    if lead.stage not in CLOSED_STAGES:
        targets.append(Stage.ABANDONED)
    return targets


def _check_move(lead: Lead, to_stage: str, actor) -> None:
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": _("Unknown stage.")})
    if to_stage == lead.stage:
        raise ValidationError({"to_stage": _("The lead is already in this stage.")})
    if to_stage == Stage.ABANDONED:
        if lead.stage in CLOSED_STAGES:
            raise ValidationError({"to_stage": _("A closed lead cannot be abandoned.")})
        return
    if actor.manages_leads:
        return
    if lead.stage == Stage.ABANDONED:
        raise ValidationError({"to_stage": _("Only a manager can reopen an abandoned lead.")})
    step = _position(to_stage) - _position(lead.stage)
    if step < 0:
        raise ValidationError({"to_stage": _("Only a manager can move a lead back.")})
    if step > 1:
        raise ValidationError({"to_stage": _("Move the lead one stage at a time; only a manager can skip stages.")})


def _check_gates(
    lead: Lead,
    to_stage: str,
    *,
    lost_reason: str,
    lost_note: str,
    signed_amount: Decimal | None,
    signed_on: date | None,
    implementation_accepted: bool,
) -> None:
    """Check what the target stage requires of the lead (DOMAIN.md's funnel and BANT rules)."""
    if to_stage == Stage.ABANDONED:
        if lost_reason not in LostReason.values:
            raise ValidationError({"lost_reason": _("Say why the lead is abandoned.")})
        if lost_reason == LostReason.OTHER and not lost_note.strip():
            raise ValidationError({"lost_note": _("Describe the reason when it is “other”.")})
        return
    if _position(to_stage) >= _position(Stage.GRADED) and not lead.grade:
        raise ValidationError({"grade": _("Grade the lead (A, B or C) first.")})
    if to_stage == Stage.INTENTION:
        missing = [
            label
            for label, known in ((_("Need"), lead.need_known), (_("Authority"), lead.authority_known))
            if not known
        ]
        if missing:
            raise ValidationError(
                {"to_stage": _("Intention needs Need and Authority known; missing: %s.") % ", ".join(missing)}
            )
        if not lead.visits.exists():
            raise ValidationError({"to_stage": _("Intention needs at least one logged visit.")})
    if to_stage == Stage.SIGNED:
        errors = {}
        if signed_amount is None or signed_amount <= 0:
            errors["signed_amount"] = _("Enter the contract amount (more than zero).")
        if signed_on is None:
            errors["signed_on"] = _("Enter the date the contract was signed.")
        elif signed_on > timezone.localdate():
            errors["signed_on"] = _("The signing date cannot be in the future.")
        if errors:
            raise ValidationError(errors)
    if to_stage == Stage.IMPLEMENTED:
        contract_check_implemented(lead=lead)  # paid in full by confirmed payments
        if not implementation_accepted:
            raise ValidationError(
                {"implementation_accepted": _("Confirm that the customer has accepted the implementation.")}
            )


@transaction.atomic
def lead_transition(
    *,
    lead: Lead,
    to_stage: str,
    actor,
    reason: str = "",
    lost_reason: str = "",
    lost_note: str = "",
    signed_amount: Decimal | None = None,
    signed_on: date | None = None,
    implementation_accepted: bool = False,
    grade: str = "",
) -> Lead:
    """Move the lead to another funnel stage if the stage rules allow it, and record the move.

    Grading is part of the move to 分级, so a grade given with the move is set first. Signing creates
    the lead's contract (receivables); 实施 needs that contract paid in full and the implementation accepted.
    """
    try:
        lead = (
            Lead.objects.editable_by(actor).select_for_update(of=("self",)).get(pk=lead.pk)
        )  # serialize concurrent moves
    except Lead.DoesNotExist:
        raise PermissionDenied from None
    _check_move(lead, to_stage, actor)
    if grade:
        if grade not in Grade.values:
            raise ValidationError({"grade": _("Choose grade A, B or C.")})
        lead.grade = grade
    _check_gates(
        lead,
        to_stage,
        lost_reason=lost_reason,
        lost_note=lost_note,
        signed_amount=signed_amount,
        signed_on=signed_on,
        implementation_accepted=implementation_accepted,
    )
    now = timezone.now()
    from_stage = lead.stage
    # Out of the funnel: a signing reached by jumping over 意向, not a manager stepping back from 实施.
    skipped = to_stage == Stage.SIGNED and _position(from_stage) < _position(Stage.INTENTION)
    forward = to_stage == Stage.ABANDONED or _position(to_stage) > _position(from_stage)
    if to_stage == Stage.IMPLEMENTED:
        reason = reason or _("Contract paid in full; implementation accepted.")
    StageChange.objects.create(
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        actor=actor,
        reason=reason.strip(),
        is_out_of_funnel=skipped,
        changed_at=now,
    )
    lead.stage = to_stage
    lead.stage_entered_at = now
    if forward:
        lead.last_progress_at = now
        lead.is_verdict_due = False
    if skipped:
        lead.is_out_of_funnel = True
    if to_stage == Stage.SIGNED:
        lead.signed_amount, lead.signed_on = signed_amount, signed_on
        contract_sign(lead=lead, amount=signed_amount, signed_on=signed_on, actor=actor)
    if to_stage == Stage.IMPLEMENTED:
        Contract.objects.live().filter(lead=lead).update(implementation_accepted_at=now)
    if to_stage in CLOSED_STAGES:
        lead.closed_at = now
    else:
        lead.closed_at, lead.lost_reason, lead.lost_note = None, "", ""
    if to_stage == Stage.ABANDONED:
        lead.lost_reason, lead.lost_note = lost_reason, lost_note.strip()
    lead.save()
    leads_flag_cadence(now=now, lead_ids=[lead.pk])
    lead.refresh_from_db(fields=list(FLAGS))
    _announce(lead, from_stage)
    return lead


def _announce(lead: Lead, from_stage: str) -> None:
    """Tell the webhooks: every move, and separately a win or a loss."""

    @cache
    def payload() -> dict:
        return {**lead_payload(lead), "from_stage": from_stage}

    webhook_emit(event=Webhook.Event.STAGE_CHANGED, payload=payload)
    if lead.stage == Stage.SIGNED and from_stage != Stage.IMPLEMENTED:
        webhook_emit(event=Webhook.Event.WON, payload=payload)
    elif lead.stage == Stage.ABANDONED:
        webhook_emit(event=Webhook.Event.LOST, payload=payload)
