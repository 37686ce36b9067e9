from datetime import timedelta

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone

from .imports.services import import_commit, import_fail
from .models import WebhookDelivery
from .notifications import owner_changes_notify
from .reports.rollups import rollups_build, weekly_snapshots_take
from .services import leads_flag_cadence, leads_return_stale, review_agendas_build
from .services.review import week_start_of
from .webhooks import DeliveryFailed, webhook_deliver, webhook_give_up


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leads_flag_cadence_task() -> int:
    """Refresh the 1/15/30 cadence flags on every open lead."""
    return leads_flag_cadence()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leads_return_stale_task() -> int:
    """Return leads nobody followed up to the pool, when POOL_AUTO_RETURN_DAYS is on."""
    return leads_return_stale()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def owner_changes_notify_task(owner_change_ids: list[int]) -> int:
    """Tell new owners by email which leads they were given."""
    return owner_changes_notify(owner_change_ids=owner_change_ids)


@shared_task(bind=True, max_retries=6)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """Send one webhook delivery; retry with exponential backoff (1, 2, 4 ... 32 minutes), then mark it failed."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        return
    try:
        webhook_deliver(delivery=delivery)
    except DeliveryFailed as error:
        if self.request.retries >= self.max_retries:
            webhook_give_up(delivery_id=delivery_id)
            return
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_commit_task(batch_id: int) -> int:
    """Import a checked list in one transaction; on a rule failure nothing is written and the batch says why."""
    try:
        return import_commit(batch_id=batch_id)
    except ValidationError as error:
        import_fail(batch_id=batch_id, reason=" ".join(error.messages))
        return 0


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def review_agendas_build_task() -> int:
    """Build every team's weekly review agenda (Monday morning)."""
    return review_agendas_build()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def review_rollups_task() -> int:
    """Rebuild the per-rep × stage rollup and this week's snapshots (nightly)."""
    written = rollups_build()
    weekly_snapshots_take(week=week_start_of(timezone.now()).date())
    return written


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def weekly_snapshots_task() -> int:
    """Close last week's snapshots on Monday morning, so the history stays as it was."""
    last_week = week_start_of(timezone.now()).date() - timedelta(weeks=1)
    return weekly_snapshots_take(week=last_week)


from .tasks_receivables import *  # noqa: E402, F403  (registers the receivables tasks)
