from datetime import datetime, time

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit
from accounts.models import AuditEvent, Role, User
from crm import normalize
from crm.choices import CLOSED_STAGES, FUNNEL_ORDER, Stage
from crm.models import Customer, Lead, StageChange

from ..models import ImportBatch
from ..services.leads import lead_insert
from .columns import REQUIRED, clean_cell, fields_for, guess_mapping
from .parsing import read_table

IMPORT_ROLES = {
    ImportBatch.Kind.RESOURCES: (Role.SUPPORT, Role.MANAGER, Role.DIRECTOR, Role.ADMIN),
    ImportBatch.Kind.PIPELINE: (Role.DIRECTOR, Role.ADMIN),
}
PROGRESS_EVERY = 200  # rows between progress updates
ERRORS_KEPT = 500


def may_import(user, kind: str) -> bool:
    return user.is_superuser or user.role in IMPORT_ROLES[kind]


def progress_key(batch_id: int) -> str:
    return f"import-progress:{batch_id}"


@transaction.atomic
def import_upload(*, actor, kind: str, filename: str, data: bytes) -> ImportBatch:
    """Read an uploaded list and keep it with a guessed column mapping, ready to be checked."""
    if kind not in ImportBatch.Kind.values or not may_import(actor, kind):
        raise PermissionDenied
    header, rows = read_table(data)
    return ImportBatch.objects.create(
        kind=kind,
        created_by=actor,
        filename=filename[:200],
        header=header,
        rows=rows,
        mapping=guess_mapping(header, kind),
    )


def _clean_rows(batch: ImportBatch) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Return ([(spreadsheet row number, values)], errors); row numbers count the header as row 1."""
    fields = fields_for(batch.kind)
    clean, errors = [], []
    for offset, row in enumerate(batch.rows):
        number = offset + 2
        values, row_errors = {}, []
        for field, column in batch.mapping.items():
            try:
                values[field] = clean_cell(field, row[column])
            except ValueError as reason:
                row_errors.append({"row": number, "column": batch.header[column], "reason": str(reason)})
        for field in REQUIRED[batch.kind]:
            if not values.get(field):
                label = str(fields[field][0])
                row_errors.append({"row": number, "column": label, "reason": _("required")})
        errors.extend(row_errors)
        if not row_errors:
            clean.append((number, values))
    return clean, errors


def _pipeline_errors(clean: list[tuple[int, dict]], header_of: dict) -> list[dict]:
    owners = set(User.objects.active().sales().values_list("username", flat=True))
    today = timezone.localdate()
    errors = []
    for number, values in clean:
        if values["owner"] not in owners:
            errors.append(
                {"row": number, "column": header_of["owner"], "reason": _("no active rep with this username")}
            )
        if values["stage"] == Stage.ABANDONED and not values.get("lost_reason"):
            errors.append({"row": number, "column": header_of["stage"], "reason": _("abandoned needs a lost reason")})
        created, entered = values.get("created_on"), values.get("stage_entered_on")
        if (created and created > today) or (entered and entered > today):
            errors.append({"row": number, "column": header_of["stage"], "reason": _("dates cannot be in the future")})
        if created and entered and entered < created:
            errors.append({"row": number, "column": header_of["stage"], "reason": _("in stage before it was created")})
    return errors


@transaction.atomic
def import_check(*, batch: ImportBatch, mapping: dict[str, int]) -> ImportBatch:
    """Check every row under the mapping: errors with row, column and reason; duplicates of existing customers."""
    fields = fields_for(batch.kind)
    missing = [str(fields[f][0]) for f in REQUIRED[batch.kind] if f not in mapping]
    if missing:
        raise ValidationError({"mapping": _("Map a column to: %s.") % ", ".join(missing)})
    if len(set(mapping.values())) != len(mapping) or any(not 0 <= c < len(batch.header) for c in mapping.values()):
        raise ValidationError({"mapping": _("Each column can feed one field only.")})
    batch.mapping = mapping
    clean, errors = _clean_rows(batch)
    header_of = {field: batch.header[column] for field, column in mapping.items()}
    if batch.kind == ImportBatch.Kind.PIPELINE:
        errors += _pipeline_errors(clean, header_of)
    seen, duplicates = {}, []
    company_column = mapping["company"]
    for offset, row in enumerate(batch.rows):  # twins count even when one of them has other problems
        key = normalize.company_key(row[company_column])
        if key and key in seen:
            errors.append(
                {"row": offset + 2, "column": header_of["company"], "reason": _("same company as row %d") % seen[key]}
            )
        seen.setdefault(key, offset + 2)
    existing = set(
        Customer.objects.filter(name_key__in={normalize.company_key(v["company"]) for _n, v in clean}).values_list(
            "name_key", flat=True
        )
    )
    for number, values in clean:
        if normalize.company_key(values["company"]) in existing:
            duplicates.append({"row": number, "company": values["company"]})
    batch.errors = sorted(errors, key=lambda e: e["row"])[:ERRORS_KEPT]
    batch.duplicates = duplicates
    batch.status = ImportBatch.Status.CHECKED
    batch.save(update_fields=["mapping", "errors", "duplicates", "status"])
    return batch


def import_start(*, batch: ImportBatch) -> ImportBatch:
    """Queue a checked, error-free batch for import; the worker commits it in one transaction."""
    from ..tasks import import_commit_task  # tasks import this module

    updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.CHECKED, errors=[]).update(
        status=ImportBatch.Status.RUNNING
    )
    if updated != 1:
        raise ValidationError({"file": _("Only a checked list without errors can be imported, once.")})
    cache.set(progress_key(batch.pk), 0, timeout=3600)
    audit(
        actor=batch.created_by,
        action=AuditEvent.Action.IMPORT,
        obj=batch,
        after={"kind": batch.kind, "file": batch.filename, "rows": len(batch.rows)},
    )
    transaction.on_commit(lambda: import_commit_task.delay(batch.pk), robust=True)
    batch.refresh_from_db()
    return batch


def _at(day, fallback: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0))) if day else fallback


def _write_history(lead: Lead, values: dict, actor) -> None:
    """Give an imported lead the stage history it had: one step per stage, spread between its dates."""
    now = timezone.now()
    created = _at(values.get("created_on"), now)
    entered = max(_at(values.get("stage_entered_on"), created), created)
    stage = values["stage"]
    path = [Stage.ABANDONED] if stage == Stage.ABANDONED else FUNNEL_ORDER[1 : FUNNEL_ORDER.index(stage) + 1]
    step = (entered - created) / max(len(path), 1)
    StageChange.objects.filter(lead=lead).update(changed_at=created)
    previous, changes = Stage.RESOURCE, []
    for index, target in enumerate(path, start=1):
        changes.append(
            StageChange(
                lead=lead,
                from_stage=previous,
                to_stage=target,
                actor=actor,
                reason=_("Imported history"),
                changed_at=created + step * index,
            )
        )
        previous = target
    StageChange.objects.bulk_create(changes)
    lead.stage, lead.created_at, lead.stage_entered_at, lead.last_progress_at = stage, created, entered, entered
    lead.grade = values.get("grade") or lead.grade
    lead.expected_amount = values.get("expected_amount")
    if stage in CLOSED_STAGES:
        lead.closed_at = entered
    if stage == Stage.ABANDONED:
        lead.lost_reason = values["lost_reason"]
    if stage in (Stage.SIGNED, Stage.IMPLEMENTED):
        lead.signed_amount = values.get("expected_amount")
        lead.signed_on = timezone.localdate(created + step * path.index(Stage.SIGNED) + step)
    lead.save()


@transaction.atomic
def import_commit(*, batch_id: int) -> int:
    """Import every checked row of a batch, all or nothing; duplicates of existing customers are skipped."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != ImportBatch.Status.RUNNING:
        return batch.imported  # a second run of the task writes nothing
    clean, errors = _clean_rows(batch)
    if errors:
        raise ValidationError({"file": _("The list changed since it was checked.")})
    skip = {d["row"] for d in batch.duplicates}
    owners = {u.username: u for u in User.objects.active().sales()} if batch.kind == ImportBatch.Kind.PIPELINE else {}
    count = 0
    for number, values in clean:
        if number in skip:
            continue
        owner = owners.get(values.get("owner"))
        lead = lead_insert(
            customer=None,
            owner=owner,
            actor=batch.created_by,
            customer_fields={k: values.get(k, "") for k in ("phone", "email", "city", "industry")}
            | {"name": values["company"]},
            contact_fields={
                "name": values.get("contact_name", ""),
                "phone": values.get("phone", ""),
                "email": values.get("email", ""),
            },
            lead_fields={"title": values.get("title", ""), "source": values.get("source") or "database"},
        )
        if batch.kind == ImportBatch.Kind.PIPELINE:
            _write_history(lead, values, batch.created_by)
        count += 1
        if count % PROGRESS_EVERY == 0:
            cache.set(progress_key(batch.pk), count, timeout=3600)
    batch.status, batch.imported, batch.finished_at = ImportBatch.Status.DONE, count, timezone.now()
    batch.save(update_fields=["status", "imported", "finished_at"])
    cache.set(progress_key(batch.pk), count, timeout=3600)
    return count


def import_fail(*, batch_id: int, reason: str) -> None:
    """Record that a batch could not be imported; nothing of it was written."""
    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportBatch.Status.FAILED,
        errors=[{"row": 0, "column": "", "reason": reason[:300]}],
        finished_at=timezone.now(),
    )
