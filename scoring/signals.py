"""Re-score a lead after anything that feeds its score is committed: the lead itself, its visits, its customer.

Scores are written with queryset updates, which send no signal, so scoring never re-triggers itself.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm.models import Customer, Lead, Visit

from .tasks import customer_leads_rescore_task, lead_rescore_task

SCORE_FIELDS = frozenset({"score", "win_probability", "scored_at"})
CUSTOMER_INPUTS = frozenset({"tier", "size", "industry", "city", "credit"})


def _rescore_after_commit(lead_id: int) -> None:
    # robust: a broker outage must not fail the change that was just committed; the sweep repairs it.
    transaction.on_commit(lambda: lead_rescore_task.delay(lead_id), robust=True)


@receiver(post_save, sender=Lead, dispatch_uid="scoring.lead_saved")
def lead_saved(sender, instance: Lead, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and set(update_fields) <= SCORE_FIELDS):
        return
    _rescore_after_commit(instance.pk)


@receiver(post_save, sender=Visit, dispatch_uid="scoring.visit_saved")
@receiver(post_delete, sender=Visit, dispatch_uid="scoring.visit_deleted")
def visit_changed(sender, instance: Visit, raw: bool = False, **kwargs) -> None:
    if not raw:
        _rescore_after_commit(instance.lead_id)


@receiver(post_save, sender=Customer, dispatch_uid="scoring.customer_saved")
def customer_saved(
    sender, instance: Customer, raw: bool = False, created: bool = False, update_fields=None, **kwargs
) -> None:
    if raw or created:  # a new customer has no leads yet
        return
    if update_fields is not None and not CUSTOMER_INPUTS & set(update_fields):
        return  # e.g. only its owner changed
    customer_id = instance.pk
    transaction.on_commit(lambda: customer_leads_rescore_task.delay(customer_id), robust=True)
