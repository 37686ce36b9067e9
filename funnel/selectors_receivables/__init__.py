"""Reads of the receivables pages: aging, reminders due, confirmations, commission, targets, strategic visits.

Every read starts from a visible_to queryset and costs a fixed number of queries, however many rows.
"""

from .aging import AgingRow, aging, aging_chart
from .commission import CommissionLine, collection_targets, commission_earned, commission_statement, statement_people
from .common import AMOUNT
from .lists import (
    contract_detail,
    contract_list,
    contracts_awaiting_approval,
    customer_receivables,
    installment_list,
    payments_waiting,
    reminders_due,
    suspended_customers,
)
from .visits import lead_card_flags, my_strategic_visits, strategic_visits

__all__ = [
    "AMOUNT",
    "AgingRow",
    "CommissionLine",
    "aging",
    "aging_chart",
    "collection_targets",
    "commission_earned",
    "commission_statement",
    "contract_detail",
    "contract_list",
    "contracts_awaiting_approval",
    "customer_receivables",
    "installment_list",
    "lead_card_flags",
    "my_strategic_visits",
    "payments_waiting",
    "reminders_due",
    "statement_people",
    "strategic_visits",
    "suspended_customers",
]
