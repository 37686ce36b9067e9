from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import OPEN_STAGES
from crm.models import Customer, Lead, OwnerChange

from .cadence import leads_flag_cadence
from .ownership import owner_changes_record
from .pool import assignable_users, notify_new_owners


@dataclass(frozen=True)
class HandoverResult:
    leads: int
    customers: int


def _check(from_user, to_users: list, actor) -> None:
    if not actor.manages_leads:
        raise PermissionDenied
    allowed = assignable_users(actor)
    # The leaving rep may already be deactivated; only the team matters for them.
    if not actor.sees_all and (actor.team_id is None or from_user.team_id != actor.team_id):
        raise ValidationError({"from_user": _("You can only hand over the leads of your own team.")})
    if not to_users:
        raise ValidationError({"to_users": _("Choose who takes over.")})
    if any(user.pk == from_user.pk for user in to_users):
        raise ValidationError({"to_users": _("The person leaving cannot take over their own leads.")})
    if allowed.filter(pk__in=[u.pk for u in to_users]).count() != len({u.pk for u in to_users}):
        raise ValidationError({"to_users": _("You cannot assign leads to this person.")})


@transaction.atomic
def rep_handover(*, from_user, to_users: list, actor, reason: str = "") -> HandoverResult:
    """Hand all of one rep's customers and open leads to others, round-robin by customer (staff turnover).

    Closed leads keep their owner, so who won or lost them stays on record.
    """
    _check(from_user, to_users, actor)
    reason = reason.strip() or _("Handover from %s") % from_user
    customer_ids = sorted(
        set(Customer.objects.filter(owner=from_user).values_list("pk", flat=True))
        | set(Lead.objects.filter(owner=from_user).open().values_list("customer_id", flat=True))
    )
    target_of = {customer_id: to_users[i % len(to_users)] for i, customer_id in enumerate(customer_ids)}
    leads = list(
        Lead.objects.filter(customer_id__in=customer_ids, stage__in=OPEN_STAGES, owner=from_user).values_list(
            "pk", "customer_id", "owner_id"
        )
    )
    now = timezone.now()
    by_target = defaultdict(lambda: {"customers": [], "leads": []})
    for customer_id, target in target_of.items():
        by_target[target]["customers"].append(customer_id)
    for pk, customer_id, _owner in leads:
        by_target[target_of[customer_id]]["leads"].append(pk)
    for target, ids in by_target.items():
        Customer.objects.filter(pk__in=ids["customers"]).update(owner=target, updated_at=now)
        Lead.objects.filter(pk__in=ids["leads"]).update(owner=target, updated_at=now)
    log = [
        OwnerChange(
            customer_id=customer_id,
            action=OwnerChange.Action.HANDOVER,
            from_owner=from_user,
            to_owner=target,
            actor=actor,
            reason=reason,
            changed_at=now,
        )
        for customer_id, target in target_of.items()
    ]
    log += [
        OwnerChange(
            lead_id=pk,
            customer_id=customer_id,
            action=OwnerChange.Action.HANDOVER,
            from_owner_id=owner_id,
            to_owner=target_of[customer_id],
            actor=actor,
            reason=reason,
            changed_at=now,
        )
        for pk, customer_id, owner_id in leads
    ]
    log = owner_changes_record(log)
    notify_new_owners(log)
    leads_flag_cadence(now=now, lead_ids=[pk for pk, _customer, _owner in leads])
    return HandoverResult(leads=len(leads), customers=len(customer_ids))
