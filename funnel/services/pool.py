from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from crm.choices import OPEN_STAGES, Stage
from crm.models import Customer, Lead, OwnerChange, StageChange

from .cadence import leads_flag_cadence
from .ownership import owner_changes_record

AUTO_RETURN_STAGES = (Stage.RESOURCE, Stage.GRADED, Stage.CONTACTED, Stage.LEAD, Stage.INTENTION)
AUTO_RETURN_CHUNK = 2000  # rows per UPDATE and log insert


def _start_of_today(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _check_claim(lead: Lead, rep, now: datetime) -> None:
    if lead.owner_id is not None:
        raise ValidationError({"owner": _("This lead already belongs to %s.") % lead.owner})
    if lead.customer.owner_id not in (None, rep.pk):
        raise ValidationError(
            {"owner": _("This customer belongs to %s: one customer, one owner.") % lead.customer.owner}
        )
    cooldown = timedelta(days=settings.POOL_COOLDOWN_DAYS)
    if lead.stage == Stage.ABANDONED and lead.closed_at and lead.closed_at > now - cooldown:
        free_on = date_format(timezone.localdate(lead.closed_at + cooldown), "Y-m-d")
        raise ValidationError(
            {"owner": _("Abandoned leads cool down before they are claimed again; this one is free on %s.") % free_on}
        )
    held = Lead.objects.filter(owner=rep).open().count()
    if held >= settings.POOL_MAX_OPEN_LEADS:
        raise ValidationError(
            {"owner": _("You already hold %(n)d open leads, the most allowed.") % {"n": settings.POOL_MAX_OPEN_LEADS}}
        )
    claimed_today = OwnerChange.objects.filter(
        actor=rep, action=OwnerChange.Action.CLAIM, changed_at__gte=_start_of_today(now)
    ).count()
    if claimed_today >= settings.POOL_MAX_CLAIMS_PER_DAY:
        raise ValidationError(
            {
                "owner": _("You have claimed %(n)d leads today, the daily limit.")
                % {"n": settings.POOL_MAX_CLAIMS_PER_DAY}
            }
        )


@transaction.atomic
def lead_claim(*, lead: Lead, rep, now: datetime | None = None) -> Lead:
    """Take a lead from the pool, within the caps; an abandoned one past its cool-down is reopened."""
    if not (rep.is_rep or rep.is_manager):
        raise PermissionDenied
    now = now or timezone.now()
    lead = Lead.objects.select_related("customer__owner", "owner").get(pk=lead.pk)
    _check_claim(lead, rep, now)
    # Conditional update: of two reps claiming at once exactly one wins.
    if Lead.objects.filter(pk=lead.pk, owner__isnull=True).update(owner=rep, updated_at=now) != 1:
        raise ValidationError({"owner": _("Someone else has just claimed this lead.")})
    Customer.objects.filter(pk=lead.customer_id).update(owner=rep)
    owner_changes_record(
        [
            OwnerChange(
                lead=lead,
                customer=lead.customer,
                action=OwnerChange.Action.CLAIM,
                to_owner=rep,
                actor=rep,
                changed_at=now,
            )
        ]
    )
    lead.refresh_from_db()
    if lead.stage == Stage.ABANDONED:
        StageChange.objects.create(
            lead=lead,
            from_stage=Stage.ABANDONED,
            to_stage=Stage.RESOURCE,
            actor=rep,
            reason=_("Claimed from the pool"),
            changed_at=now,
        )
        lead.stage, lead.stage_entered_at, lead.last_progress_at = Stage.RESOURCE, now, now
        lead.closed_at, lead.lost_reason, lead.lost_note = None, "", ""
        lead.save()
    leads_flag_cadence(now=now, lead_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def _release_customers(customer_ids, from_owner_id: int | None) -> None:
    """Free the customers whose former owner holds no other open lead on them."""
    still_held = Lead.objects.filter(customer=OuterRef("pk"), owner_id=from_owner_id, stage__in=OPEN_STAGES)
    Customer.objects.filter(pk__in=customer_ids, owner_id=from_owner_id).exclude(Exists(still_held)).update(owner=None)


@transaction.atomic
def lead_release(*, lead: Lead, actor, reason: str) -> Lead:
    """Return a lead to the pool, with the reason on record."""
    lead = Lead.objects.editable_by(actor).select_for_update(of=("self",)).filter(pk=lead.pk).first()
    if lead is None or lead.owner_id is None:
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the lead goes back to the pool.")})
    from_owner_id = lead.owner_id
    lead.owner = None
    lead.save(update_fields=["owner", "updated_at"])
    owner_changes_record(
        [
            OwnerChange(
                lead=lead,
                customer_id=lead.customer_id,
                action=OwnerChange.Action.RETURN,
                from_owner_id=from_owner_id,
                actor=actor,
                reason=reason.strip(),
            )
        ]
    )
    _release_customers([lead.customer_id], from_owner_id)
    leads_flag_cadence(lead_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def notify_new_owners(log: list[OwnerChange]) -> None:
    """Email the new owners once the change is committed; a broker outage must not undo the change."""
    from funnel.tasks import owner_changes_notify_task  # tasks import services: import at call time

    ids = [change.pk for change in log]
    transaction.on_commit(lambda: owner_changes_notify_task.delay(ids), robust=True)


def assignable_users(actor):
    """Return the active reps and managers the actor may give leads to."""
    users = User.objects.active().sales()
    if actor.sees_all:
        return users
    if actor.is_manager and actor.team_id is not None:
        return users.filter(team_id=actor.team_id)
    return users.none()


@transaction.atomic
def lead_assign(*, lead: Lead, to_owner, actor, reason: str = "") -> Lead:
    """Give a lead, with its customer and the customer's other open leads, to a rep (managers and up)."""
    if not actor.manages_leads:
        raise PermissionDenied
    lead = Lead.objects.editable_by(actor).select_for_update(of=("self",)).filter(pk=lead.pk).first()
    if lead is None:
        raise PermissionDenied
    if not assignable_users(actor).filter(pk=to_owner.pk).exists():
        raise ValidationError({"to_owner": _("You cannot assign leads to this person.")})
    moving = list(
        Lead.objects.filter(Q(pk=lead.pk) | Q(customer_id=lead.customer_id, stage__in=OPEN_STAGES))
        .exclude(owner=to_owner)
        .values_list("pk", "owner_id")
    )
    now = timezone.now()
    moving_ids = [pk for pk, _owner in moving]
    Lead.objects.filter(pk__in=moving_ids).update(owner=to_owner, updated_at=now)
    Customer.objects.filter(pk=lead.customer_id).update(owner=to_owner)
    log = owner_changes_record(
        [
            OwnerChange(
                lead_id=pk,
                customer_id=lead.customer_id,
                action=OwnerChange.Action.ASSIGN,
                from_owner_id=owner_id,
                to_owner=to_owner,
                actor=actor,
                reason=reason.strip(),
                changed_at=now,
            )
            for pk, owner_id in moving
        ]
    )
    notify_new_owners(log)
    leads_flag_cadence(now=now, lead_ids=moving_ids)
    lead.refresh_from_db()
    return lead


@transaction.atomic
def leads_return_stale(*, now: datetime | None = None) -> int:
    """Return owned leads with no follow-up for POOL_AUTO_RETURN_DAYS to the pool (off when 0); return the count."""
    days = settings.POOL_AUTO_RETURN_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    stale = (
        Lead.objects.filter(owner__isnull=False, stage__in=AUTO_RETURN_STAGES)
        .alias(touched=Coalesce("last_activity_at", "created_at"))
        .filter(touched__lt=now - timedelta(days=days))
    )
    rows = list(stale.values_list("pk", "owner_id", "customer_id"))
    for start in range(0, len(rows), AUTO_RETURN_CHUNK):
        chunk = rows[start : start + AUTO_RETURN_CHUNK]
        owner_changes_record(
            [
                OwnerChange(
                    lead_id=pk,
                    customer_id=customer_id,
                    action=OwnerChange.Action.AUTO_RETURN,
                    from_owner_id=owner_id,
                    reason=_("No follow-up for %(days)d days") % {"days": days},
                    changed_at=now,
                )
                for pk, owner_id, customer_id in chunk
            ]
        )
        Lead.objects.filter(pk__in=[row[0] for row in chunk]).update(
            owner=None, updated_at=now, is_followup_overdue=False, is_verdict_due=False
        )
        for owner_id in {row[1] for row in chunk}:
            _release_customers([row[2] for row in chunk if row[1] == owner_id], owner_id)
    return len(rows)
