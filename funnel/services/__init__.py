"""The funnel's write services: every change to a lead's stage, owner or activity goes through here."""

from .cadence import leads_flag_cadence
from .handover import HandoverResult, rep_handover
from .leads import contact_add, customer_merge, lead_create, lead_update
from .pool import lead_assign, lead_claim, lead_release, leads_return_stale
from .receivables import (
    contract_approve,
    contract_cancel,
    contract_plan_set,
    contract_rate_set,
    customer_exposure,
)
from .receivables_collection import (
    collection_month_close,
    contract_collection_handover,
    credit_limit_set,
    reminder_answer,
    reminder_log,
)
from .receivables_payments import payment_confirm, payment_record, payment_reject
from .review import lead_verdict, review_agendas_build
from .transitions import lead_transition, moves_for
from .visits import visit_log

__all__ = [
    "HandoverResult",
    "collection_month_close",
    "contact_add",
    "contract_approve",
    "contract_cancel",
    "contract_collection_handover",
    "contract_plan_set",
    "contract_rate_set",
    "credit_limit_set",
    "customer_exposure",
    "customer_merge",
    "lead_assign",
    "lead_claim",
    "lead_create",
    "lead_release",
    "lead_transition",
    "lead_update",
    "lead_verdict",
    "leads_flag_cadence",
    "leads_return_stale",
    "moves_for",
    "payment_confirm",
    "payment_record",
    "payment_reject",
    "reminder_answer",
    "reminder_log",
    "rep_handover",
    "review_agendas_build",
    "visit_log",
]
