"""The funnel reacting to the records: every stage change lands on the audit trail."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.audit import audit
from accounts.models import AuditEvent
from crm.models import MoneyChange, StageChange


@receiver(post_save, sender=StageChange)
def audit_stage_change(sender, instance: StageChange, created: bool, **kwargs) -> None:
    if created:
        audit(
            actor=instance.actor,
            action=AuditEvent.Action.STAGE_CHANGE,
            object_type="crm.lead",
            object_id=instance.lead_id,
            before={"stage": instance.from_stage},
            after={"stage": instance.to_stage, "reason": instance.reason},
        )


@receiver(post_save, sender=MoneyChange)
def audit_money_change(sender, instance: MoneyChange, created: bool, **kwargs) -> None:
    """Every money change on the trail too, with the address it came from."""
    if created:
        target = (instance.contract_id and ("crm.contract", instance.contract_id)) or (
            "crm.customer",
            instance.customer_id,
        )
        audit(
            actor=instance.actor,
            action=AuditEvent.Action.MONEY_CHANGE,
            object_type=target[0],
            object_id=target[1],
            before=instance.before,
            after={**instance.after, "what": instance.action},
        )
