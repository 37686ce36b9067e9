from accounts.audit import audit_many
from accounts.models import AuditEvent
from crm.models import OwnerChange


def owner_changes_record(rows: list[OwnerChange]) -> list[OwnerChange]:
    """Write owner changes and their audit events together (one INSERT each per thousand rows)."""
    created = OwnerChange.objects.bulk_create(rows, batch_size=1000)
    audit_many(
        [
            {
                "actor": row.actor,
                "action": AuditEvent.Action.OWNER_CHANGE,
                "object_type": "crm.lead" if row.lead_id else "crm.customer",
                "object_id": row.lead_id or row.customer_id,
                "before": {"owner": row.from_owner_id},
                "after": {"owner": row.to_owner_id, "why": row.action},
            }
            for row in created
        ]
    )
    return created
