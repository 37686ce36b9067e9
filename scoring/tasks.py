from celery import shared_task
from django.db import OperationalError, transaction

from .services import (
    customer_leads_rescore,
    lead_rescore,
    leads_rescore,
    leads_rescore_all,
    leads_rescore_stale,
    scoring_model_train,
)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def lead_rescore_task(lead_id: int) -> int:
    """Re-score one lead after a change to it, its visits or a stage move."""
    return lead_rescore(lead_id=lead_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leads_rescore_task(lead_ids: list[int]) -> int:
    """Re-score many leads at once, e.g. after an import wrote them with bulk_create (which sends no signal)."""
    return leads_rescore(lead_ids=lead_ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def customer_leads_rescore_task(customer_id: int) -> int:
    """Re-score a customer's leads after its archive changed."""
    return customer_leads_rescore(customer_id=customer_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leads_rescore_stale_task() -> int:
    """Re-score every lead whose inputs changed since its last score."""
    return leads_rescore_stale()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leads_rescore_all_task() -> int:
    """Recompute every lead's score (nightly: time decay; after new rules or a new model)."""
    return leads_rescore_all()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def scoring_model_train_task() -> int | None:
    """Train a new model version from closed leads, then re-score every lead with it."""
    model = scoring_model_train()
    if model is None:
        return None
    transaction.on_commit(lambda: leads_rescore_all_task.delay(), robust=True)
    return model.version
