from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import translation
from django.utils.translation import gettext as _

from crm.models import OwnerChange


def owner_changes_notify(*, owner_change_ids: list[int]) -> int:
    """Email each new owner the leads just given to them; return how many emails were sent."""
    changes = (
        OwnerChange.objects.filter(pk__in=owner_change_ids, lead__isnull=False, to_owner__isnull=False)
        .select_related("lead__customer", "to_owner", "actor")
        .order_by("to_owner_id", "lead__customer__name")
    )
    by_owner = defaultdict(list)
    for change in changes:
        if change.to_owner.email and change.to_owner_id != change.actor_id:
            by_owner[change.to_owner].append(change)
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for owner, owned in by_owner.items():
            lines = [f"- {c.lead.customer.name} ({c.lead.get_stage_display()})" for c in owned]
            subject = _("%(n)d leads were given to you") % {"n": len(owned)}
            body = _("%(actor)s gave you these leads (%(reason)s):") % {
                "actor": owned[0].actor,
                "reason": owned[0].reason or owned[0].get_action_display(),
            }
            messages.append((subject, "\n".join([body, *lines]), settings.DEFAULT_FROM_EMAIL, [owner.email]))
    return send_mass_mail(messages, fail_silently=False) if messages else 0
