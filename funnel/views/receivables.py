"""Receivables pages: the list, aging, reminders due, confirmations, approvals, contracts, customers, commission."""

import io
from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from crm.models import Contract, CustomerAccount
from crm.querysets import AgingBucket

from .. import selectors_receivables as selectors
from ..filters_receivables import InstallmentFilter
from ..forms import StatementForm
from ..services.receivables import ZERO, is_director, is_finance_or_director, setting
from ..services.receivables_collection import month_start, next_month, previous_month
from .exports import EXPORT_CHUNK, safe_cell

ROWS_PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUCKET_LABELS = dict(AgingBucket.choices)


def _filtered_installments(request):
    """Return the receivables list's filter over the visible installments; unpaid ones unless asked otherwise."""
    data = request.GET.copy()
    data.setdefault("status", "unpaid")
    today = timezone.localdate()
    return InstallmentFilter(
        data, queryset=selectors.installment_list(user=request.user, today=today), user=request.user
    ), today


@login_required
def receivables(request):
    installments, today = _filtered_installments(request)
    rows = installments.qs
    totals = rows.aggregate(
        amount=Coalesce(Sum(F("amount") - F("paid_amount"), output_field=selectors.AMOUNT), ZERO),
    )
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    for row in page:
        row.days_overdue = max((today - row.due_on).days, 0)
    context = {"filter": installments, "page": page, "outstanding": totals["amount"], "today": today}
    return render(request, "receivables/list.html", context)


def _money_cell(sheet, value: Decimal) -> WriteOnlyCell:
    """Write an amount as an exact number shown with two decimals (1,234.50)."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "#,##0.00"
    return cell


def _xlsx_response(workbook: Workbook, name: str) -> HttpResponse:
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


@login_required
def receivables_export(request):
    """Export the visible, filtered receivables to Excel; amounts stay exact numbers."""
    installments, _today = _filtered_installments(request)
    columns = [
        ("contract_id", _("Contract")),
        ("contract__lead__customer__name", _("Customer")),
        ("contract__owner__username", _("Sales rep")),
        ("number", _("Installment")),
        ("due_on", _("Due on")),
        ("amount", _("Amount")),
        ("paid_amount", _("Paid (confirmed)")),
        ("outstanding_amount", _("Outstanding")),
        ("bucket", _("Aging")),
        ("last_reminder_on", _("Last reminder")),
        ("reminders_unanswered", _("Unanswered reminders")),
        ("contract__lead__customer__account__supply_suspended_at", _("Supply suspended")),
        ("contract__collection_owner__username", _("Collection owner")),
    ]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Receivables"))
    sheet.append([label for _field, label in columns])
    for row in installments.qs.values_list(*[name for name, _label in columns]).iterator(chunk_size=EXPORT_CHUNK):
        values = list(row)
        values[8] = str(BUCKET_LABELS[values[8]])
        values[11] = _("Yes") if values[11] else ""
        sheet.append([_money_cell(sheet, v) if isinstance(v, Decimal) else safe_cell(v) for v in values])
    return _xlsx_response(workbook, "receivables")


@login_required
def aging(request):
    context = selectors.aging(user=request.user, today=timezone.localdate())
    return render(request, "receivables/aging.html", context)


@login_required
def reminders_due(request):
    today = timezone.localdate()
    page = Paginator(selectors.reminders_due(user=request.user, today=today), ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for row in page:
        row.days_overdue = (today - row.due_on).days
    context = {"page": page, "suspended": list(selectors.suspended_customers(user=request.user)), "today": today}
    return render(request, "receivables/reminders.html", context)


@login_required
def payment_confirmations(request):
    page = Paginator(selectors.payments_waiting(user=request.user), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "receivables/confirmations.html", {"page": page, "can_confirm": request.user.is_finance})


@login_required
def contract_approvals(request):
    page = Paginator(selectors.contracts_awaiting_approval(user=request.user), ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "receivables/approvals.html", {"page": page, "can_approve": is_director(request.user)})


@login_required
def contract_detail(request, pk: int):
    today = timezone.localdate()
    contract = selectors.contract_detail(user=request.user, pk=pk, today=today)
    user = request.user
    can_edit = Contract.objects.editable_by(user).filter(pk=pk).exists()
    installments = list(contract.installments.all())
    for row in installments:
        row.days_overdue = max((today - row.due_on).days, 0)
    has_records = any(row.payments.all() or row.reminders.all() for row in installments)
    active = contract.status == Contract.Status.ACTIVE
    context = {
        "contract": contract,
        "customer": contract.lead.customer,
        "account": getattr(contract.lead.customer, "account", None) or CustomerAccount(),
        "installments": installments,
        "history": contract.money_changes.all(),
        "today": today,
        "can_see_lead": user.works_leads,
        "can_record": can_edit and active and contract.outstanding > 0,
        "can_plan": can_edit and contract.status != Contract.Status.CANCELLED and not has_records,
        "can_remind": can_edit and active,
        "can_confirm": user.is_finance,
        "can_approve": is_director(user) and contract.status == Contract.Status.PENDING_APPROVAL,
        "can_manage": is_finance_or_director(user) and contract.status != Contract.Status.CANCELLED,
        "can_collect": is_finance_or_director(user)
        and active
        and any(r.outstanding_amount and r.bucket != "not_due" for r in installments),
    }
    return render(request, "receivables/contract_detail.html", context)


@login_required
def customer_receivables(request, pk: int):
    context = selectors.customer_receivables(user=request.user, pk=pk, today=timezone.localdate())
    context["can_set_limit"] = is_finance_or_director(request.user)
    context["buckets"] = AgingBucket.choices
    return render(request, "receivables/customer.html", context)


def _statement_period(request):
    """Return (form, rep, month) for the statement and targets pages; 404 for a rep the viewer may not see."""
    people = selectors.statement_people(viewer=request.user)
    form = StatementForm(request.GET or None, people=people)
    rep, month = request.user, month_start(timezone.localdate())
    if form.is_bound and form.is_valid():
        rep = form.cleaned_data["rep"] or rep
        month = month_start(form.cleaned_data["month"] or month)
    elif form.is_bound and "rep" in form.errors:
        raise Http404
    if not people.filter(pk=rep.pk).exists():
        rep = people.first() or rep  # finance and directors open the first rep's; nobody's when there are none
    return form, rep, month


def _month_links(month: date) -> dict:
    return {"previous_month": previous_month(month), "next_month": next_month(month)}


@login_required
def commission(request):
    form, rep, month = _statement_period(request)
    context = selectors.commission_statement(rep=rep, month=month)
    context.update(form=form, **_month_links(month))
    return render(request, "receivables/commission.html", context)


@login_required
def commission_export(request):
    """Export a rep's commission statement for a month to Excel."""
    _form, rep, month = _statement_period(request)
    statement = selectors.commission_statement(rep=rep, month=month)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Commission"))
    sheet.append([safe_cell(_("Commission statement")), safe_cell(str(rep)), f"{month:%Y-%m}"])
    sheet.append([])
    sheet.append(
        [
            _("Contract"),
            _("Customer"),
            _("Signed on"),
            _("Contract amount"),
            _("Rate (%)"),
            _("Rate if late (%)"),
            _("Collected in time"),
            _("Collected late"),
            _("Collected to date"),
            _("Collected (%)"),
            _("Commission this month"),
            _("Commission to date"),
        ]
    )
    for line in statement["lines"]:
        sheet.append(
            [
                line.contract_id,
                safe_cell(line.customer),
                line.signed_on,
                _money_cell(sheet, line.amount),
                line.rate,
                line.late_rate,
                _money_cell(sheet, line.collected_on_time),
                _money_cell(sheet, line.collected_late),
                _money_cell(sheet, line.collected_to_date),
                line.share,
                _money_cell(sheet, line.commission),
                _money_cell(sheet, line.commission_to_date),
            ]
        )
    sheet.append(
        [
            _("Total"),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            _money_cell(sheet, statement["total_commission"]),
        ]
    )
    return _xlsx_response(workbook, f"commission-{rep.username}-{month:%Y%m}")


@login_required
def collection_targets(request):
    form, _rep, month = _statement_period(request)
    context = selectors.collection_targets(user=request.user, month=month)
    context.update(form=form, closing_day=setting("COLLECTION_CLOSING_DAY"), **_month_links(month))
    return render(request, "receivables/targets.html", context)


@login_required
def strategic_visits(request):
    if not request.user.works_leads:
        raise Http404
    context = selectors.strategic_visits(user=request.user, today=timezone.localdate())
    context["page"] = Paginator(context.pop("customers"), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context["previous_month"] = previous_month(context["month"])
    return render(request, "receivables/strategic_visits.html", context)
