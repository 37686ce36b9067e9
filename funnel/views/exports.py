import csv
import io
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from accounts.audit import audit
from accounts.models import AuditEvent
from crm import selectors as crm_selectors
from crm.filters import LeadFilter

EXPORT_CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> object:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix risky text with '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _columns() -> list[tuple[str, str]]:
    return [
        ("id", "ID"),
        ("customer__name", _("Customer")),
        ("customer__city", _("City")),
        ("customer__phone", _("Phone")),
        ("stage", _("Stage")),
        ("grade", _("Grade")),
        ("source", _("Source")),
        ("score", _("Score")),
        ("expected_amount", _("Expected amount")),
        ("owner__username", _("Owner")),
        ("next_step", _("Next step")),
        ("next_step_date", _("Next step date")),
        ("last_activity_at", _("Last activity")),
        ("created_at", _("Created at")),
    ]


def _rows(request):
    """Yield the visible, filtered leads as value tuples, a chunk at a time."""
    leads = LeadFilter(request.GET, queryset=crm_selectors.lead_list(user=request.user), user=request.user).qs
    fields = [field for field, _label in _columns()]
    for row in leads.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        yield [timezone.localtime(v).replace(tzinfo=None) if isinstance(v, datetime) else v for v in row]


def _money(sheet, value: Decimal) -> WriteOnlyCell:
    """Write an amount as an exact number with two decimals (Excel shows 1,234.50, not 1234.5)."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "#,##0.00"
    return cell


class _Echo:
    def write(self, value):
        return value


def _audit_export(request, kind: str) -> None:
    audit(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        object_type="crm.lead",
        after={"format": kind, "filters": request.GET.dict()},
    )


@login_required
def leads_csv(request):
    _audit_export(request, "csv")
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff"  # a BOM, so Excel opens the Chinese text as UTF-8
        yield writer.writerow([label for _field, label in _columns()])
        for row in _rows(request):
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.localdate():%Y%m%d}.csv"'
    return response


@login_required
def leads_xlsx(request):
    _audit_export(request, "xlsx")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Leads"))
    sheet.append([label for _field, label in _columns()])
    for row in _rows(request):
        sheet.append([_money(sheet, v) if isinstance(v, Decimal) else safe_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.localdate():%Y%m%d}.xlsx"'
    return response
