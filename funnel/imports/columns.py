"""The fields an import can fill, how a column header maps to them, and how each cell is checked."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from crm import normalize
from crm.choices import Grade, LostReason, Source, Stage

RESOURCE_FIELDS = {
    "company": (_("Company name"), ("company", "公司", "公司名称", "企业名称", "客户名称", "name")),
    "contact_name": (_("Contact"), ("contact", "contact_name", "联系人", "姓名")),
    "phone": (_("Phone"), ("phone", "mobile", "tel", "电话", "手机", "手机号", "联系电话")),
    "email": (_("Email"), ("email", "e-mail", "邮箱", "电子邮件")),
    "city": (_("City"), ("city", "城市", "所在城市")),
    "industry": (_("Industry"), ("industry", "行业")),
    "title": (_("Title"), ("title", "职务", "标题")),
    "source": (_("Source"), ("source", "来源")),
}
PIPELINE_FIELDS = {
    **RESOURCE_FIELDS,
    "stage": (_("Stage"), ("stage", "阶段")),
    "owner": (_("Owner (username)"), ("owner", "负责人", "销售员")),
    "grade": (_("Grade"), ("grade", "评级")),
    "expected_amount": (_("Expected amount"), ("amount", "expected_amount", "金额", "预计金额")),
    "created_on": (_("Created on"), ("created", "created_on", "创建日期")),
    "stage_entered_on": (_("In stage since"), ("stage_date", "stage_entered_on", "进入阶段日期")),
    "lost_reason": (_("Lost reason"), ("lost_reason", "放弃原因")),
}
REQUIRED = {"resources": ("company",), "pipeline": ("company", "stage", "owner")}
FORMULA = re.compile(r"^[=@]|^[+\-](?![\d\s(])")  # "+86 139..." and "-5" are data, "=SUM()" and "+A1" are not
STAGE_NAMES = {**{s.value: s.value for s in Stage}, **{str(s.label): s.value for s in Stage}}
STAGE_NAMES.update(
    {
        "资源": "resource",
        "分级": "graded",
        "接触": "contacted",
        "线索": "lead",
        "意向": "intention",
        "签约": "signed",
        "实施": "implemented",
        "放弃": "abandoned",
    }
)


def fields_for(kind: str) -> dict:
    return PIPELINE_FIELDS if kind == "pipeline" else RESOURCE_FIELDS


def guess_mapping(header: list[str], kind: str) -> dict[str, int]:
    """Map each field to the first column whose header names it, ignoring case and spaces."""
    plain = [h.strip().lower().replace(" ", "") for h in header]
    mapping = {}
    for field, (_label, names) in fields_for(kind).items():
        for index, cell in enumerate(plain):
            if cell in names and index not in mapping.values():
                mapping[field] = index
                break
    return mapping


def clean_cell(field: str, value: str):
    """Return the cell as the field's value, or raise ValueError with the reason."""
    if FORMULA.match(value) and not (field == "phone" and value.startswith("+")):
        raise ValueError(_("looks like a spreadsheet formula"))
    if not value:
        return "" if field not in ("expected_amount", "created_on", "stage_entered_on") else None
    if field == "phone":
        phone = normalize.chinese_phone(value)
        if phone is None:
            raise ValueError(_("not a Chinese mobile or landline number"))
        return phone
    if field == "email":
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(_("not an email address"))
        return normalize.email_key(value)
    if field == "source":
        if value not in Source.values:
            raise ValueError(_("unknown source"))
        return value
    if field == "stage":
        if value not in STAGE_NAMES:
            raise ValueError(_("unknown stage"))
        return STAGE_NAMES[value]
    if field == "grade":
        if value.upper() not in Grade.values:
            raise ValueError(_("grade must be A, B or C"))
        return value.upper()
    if field == "lost_reason":
        if value not in LostReason.values:
            raise ValueError(_("unknown lost reason"))
        return value
    if field == "expected_amount":
        try:
            amount = Decimal(value.replace(",", "").replace("¥", ""))
        except InvalidOperation:
            raise ValueError(_("not an amount")) from None
        if amount < 0:
            raise ValueError(_("amounts cannot be negative"))
        return amount.quantize(Decimal("0.01"))
    if field in ("created_on", "stage_entered_on"):
        try:
            return date.fromisoformat(value[:10].replace("/", "-"))
        except ValueError:
            raise ValueError(_("not a date (YYYY-MM-DD)")) from None
    if len(value) > 200:
        raise ValueError(_("longer than 200 characters"))
    return value
