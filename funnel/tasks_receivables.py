"""Receivables jobs: thin Celery wrappers over the collection services (registered through funnel.tasks)."""

from datetime import date

from celery import shared_task
from django.db import OperationalError

from .services.receivables_collection import collection_month_close

__all__ = ["collection_month_close_task"]


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def collection_month_close_task(today: str | None = None) -> dict[str, int]:
    """Close the collection month: next month's targets per rep, this and last month's collection rates.

    Beat runs it on COLLECTION_CLOSING_DAY (the 25th); `today` (YYYY-MM-DD) re-closes as of another day.
    """
    return collection_month_close(today=date.fromisoformat(today) if today else None)
