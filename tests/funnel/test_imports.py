"""Imports: any encoding, delimiter or spreadsheet in; every bad row named; all or nothing. Exports: visible only."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from crm.choices import Stage
from crm.models import Customer, Lead, StageChange
from funnel.imports import parsing
from funnel.models import ImportBatch
from tests.factories import CustomerFactory, LeadFactory

HEADER = ["公司名称", "联系人", "手机", "城市"]
ROWS = [
    ["无锡华光机电有限公司", "王工", "13912340001", "无锡"],
    ["杭州云启软件有限公司", "李总", "0571-88886666", "杭州"],
]


def _csv(rows, *, header=HEADER, encoding="utf-8-sig", delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, *, name="list.csv", kind="resources"):
    return client.post(reverse("funnel:imports"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


def _run(client, data, django_capture_on_commit_callbacks, **kwargs) -> ImportBatch:
    response = _upload(client, data, **kwargs)
    assert response.status_code == 302, response.context["form"].errors
    batch = ImportBatch.objects.latest("pk")
    mapping = {field: str(column) for field, column in batch.mapping.items()}
    client.post(reverse("funnel:import-detail", args=[batch.pk]), mapping)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("funnel:import-start", args=[batch.pk]))
    batch.refresh_from_db()
    return batch


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_csv(ROWS), "utf8-bom.csv"),
        (_csv(ROWS, encoding="gbk", delimiter=";"), "gbk-semicolon.csv"),
        (_csv(ROWS, encoding="utf-8", delimiter="\t"), "tabs.txt"),
        (_xlsx(ROWS), "list.xlsx"),
        (_xlsx(ROWS), "renamed-spreadsheet.csv"),
    ],
)
def test_lists_in_any_common_shape_import_into_the_pool(
    data, name, client, support, django_capture_on_commit_callbacks
):
    client.force_login(support)
    batch = _run(client, data, django_capture_on_commit_callbacks, name=name)
    assert batch.status == ImportBatch.Status.DONE and batch.imported == 2
    lead = Lead.objects.select_related("customer").get(customer__name="杭州云启软件有限公司")
    assert lead.owner is None and lead.stage == Stage.RESOURCE and lead.customer.phone == "0571-88886666"
    assert lead.customer.contacts.get().name == "李总"


def test_existing_customers_are_reported_and_skipped(client, support, django_capture_on_commit_callbacks):
    CustomerFactory(name="无锡华光机电 有限公司")
    client.force_login(support)
    batch = _run(client, _csv(ROWS), django_capture_on_commit_callbacks)
    assert batch.duplicates == [{"row": 2, "company": "无锡华光机电有限公司"}]
    assert batch.imported == 1 and Customer.objects.count() == 2


def test_every_bad_row_is_named_and_nothing_is_imported(client, support):
    rows = [
        ["无锡华光机电有限公司", "王工", "12345", "无锡"],
        ['=HYPERLINK("http://x")', "李总", "13912340002", "杭州"],
        ["", "张三", "13912340003", "苏州"],
        ["无锡华光机电 有限公司", "赵四", "+86 139 1234 0004", "@SUM(A1)"],
    ]
    client.force_login(support)
    _upload(client, _csv(rows))
    batch = ImportBatch.objects.get()
    client.post(reverse("funnel:import-detail", args=[batch.pk]), {f: str(c) for f, c in batch.mapping.items()})
    batch.refresh_from_db()
    problems = {(e["row"], e["column"]) for e in batch.errors}
    assert {(2, "手机"), (3, "公司名称"), (4, "公司名称"), (5, "城市"), (5, "公司名称")} <= problems
    assert client.post(reverse("funnel:import-start", args=[batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKED and not Lead.objects.exists()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "空"),
        (b'name,phone\n"unclosed,1390000\n', "CSV"),
        (b"PK\x03\x04not really a zip", "Excel"),
    ],
)
def test_unreadable_files_get_a_clear_error(data, reason, client, support):
    client.force_login(support)
    response = _upload(client, data)
    assert response.status_code == 200 and reason in str(response.context["form"].errors["file"])
    assert not ImportBatch.objects.exists()


def test_too_many_rows_are_refused(client, support, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 1)
    client.force_login(support)
    response = _upload(client, _csv(ROWS))
    assert response.status_code == 200 and "file" in response.context["form"].errors


def test_a_missing_required_column_is_a_mapping_error(client, support):
    client.force_login(support)
    _upload(client, _csv([["王工", "13912340001"]], header=["联系人", "手机"]))
    batch = ImportBatch.objects.get()
    response = client.post(reverse("funnel:import-detail", args=[batch.pk]), {"contact_name": "0", "phone": "1"})
    assert response.status_code == 200 and response.context["form"].errors


@pytest.mark.parametrize("persona", ["rep", "finance"])
def test_reps_and_finance_do_not_import(persona, client, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:imports")).status_code == 404


@pytest.mark.parametrize("persona", ["support", "manager"])
def test_only_directors_and_admins_import_a_pipeline(persona, client, request):
    client.force_login(request.getfixturevalue(persona))
    _upload(client, _csv(ROWS), kind="pipeline")
    assert not ImportBatch.objects.exists()


def test_another_users_import_is_404(client, support, director):
    client.force_login(support)
    _upload(client, _csv(ROWS))
    client.force_login(director)
    assert client.get(reverse("funnel:import-detail", args=[ImportBatch.objects.get().pk])).status_code == 404


PIPELINE_HEADER = ["公司名称", "手机", "阶段", "负责人", "评级", "预计金额", "创建日期", "进入阶段日期", "放弃原因"]


def test_a_pipeline_arrives_with_consistent_history(client, director, rep, django_capture_on_commit_callbacks):
    rows = [
        ["甲公司", "13900000001", "签约", "rep", "A", "120,000", "2026-08-01", "2026-09-10", ""],
        ["乙公司", "13900000002", "abandoned", "rep", "C", "", "2026-09-01", "2026-10-01", "refused"],
        ["丙公司", "13900000003", "意向", "rep", "B", "50000", "2026-10-01", "2026-11-01", ""],
    ]
    client.force_login(director)
    batch = _run(client, _csv(rows, header=PIPELINE_HEADER), django_capture_on_commit_callbacks, kind="pipeline")
    assert batch.status == ImportBatch.Status.DONE, batch.errors
    signed = Lead.objects.get(customer__name="甲公司")
    assert (signed.stage, signed.owner, str(signed.signed_amount)) == (Stage.SIGNED, rep, "120000.00")
    history = list(signed.stage_changes.order_by("changed_at").values_list("to_stage", flat=True))
    assert history == ["resource", "graded", "contacted", "lead", "intention", "signed"]
    changes = list(StageChange.objects.filter(lead=signed).order_by("changed_at").values_list("changed_at", flat=True))
    assert changes[0].date().isoformat() == "2026-08-01" and changes[-1].date().isoformat() == "2026-09-10"
    lost = Lead.objects.get(customer__name="乙公司")
    assert (lost.stage, lost.lost_reason, lost.closed_at is not None) == (Stage.ABANDONED, "refused", True)


def test_a_pipeline_row_with_an_unknown_owner_is_an_error(client, director):
    rows = [["甲公司", "13900000001", "线索", "nobody", "A", "", "", "", ""]]
    client.force_login(director)
    _upload(client, _csv(rows, header=PIPELINE_HEADER), kind="pipeline")
    batch = ImportBatch.objects.get()
    client.post(reverse("funnel:import-detail", args=[batch.pk]), {f: str(c) for f, c in batch.mapping.items()})
    batch.refresh_from_db()
    assert batch.errors[0]["column"] == "负责人"


def test_csv_export_holds_only_visible_leads_and_escapes_formulas(client, rep, outsider):
    LeadFactory(owner=rep, customer__name="=cmd|' /C calc'!A0", next_step="+打电话")
    LeadFactory(owner=outsider, customer__name="别组客户有限公司")
    client.force_login(rep)
    response = client.get(reverse("funnel:lead-export-csv"))
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    assert "别组客户有限公司" not in text
    assert "'=cmd" in text and "'+打电话" in text


def test_excel_export_follows_the_filters(client, rep):
    LeadFactory(owner=rep, stage=Stage.INTENTION, customer__name="意向客户", expected_amount="1234.50")
    LeadFactory(owner=rep, stage=Stage.CONTACTED, customer__name="接触客户")
    client.force_login(rep)
    response = client.get(reverse("funnel:lead-export-xlsx"), {"stage": "intention"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "意向客户"
    amount = sheet.cell(row=2, column=9)
    assert amount.value == 1234.5 and amount.number_format == "#,##0.00"


def test_a_running_import_shows_a_polling_progress_bar(client, support):
    client.force_login(support)
    _upload(client, _csv(ROWS))
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    body = client.get(reverse("funnel:import-progress", args=[batch.pk])).content.decode()
    assert "<progress" in body and 'hx-trigger="every 1s"' in body
