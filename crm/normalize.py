"""Normalized keys for duplicate detection: one customer, one owner (DOMAIN.md)."""

import re
import unicodedata

# Legal-form suffixes that differ between two spellings of the same company.
_COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd",
    "corporation",
    "company",
    "limited",
    "corp",
    "inc",
    "ltd",
    "llc",
    "co",
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def company_key(name: str) -> str:
    """Return the company name folded for comparison: width, case, spacing, punctuation and legal form."""
    text = unicodedata.normalize("NFKC", name or "").casefold().strip()
    text = re.sub(r"[（(].*?[)）]", "", text)  # branch notes such as （北京）
    text = _NON_WORD.sub("", text)
    for suffix in _COMPANY_SUFFIXES:
        plain = _NON_WORD.sub("", suffix)
        if text.endswith(plain) and len(text) > len(plain):
            text = text[: -len(plain)]
            break
    return text


def phone_key(phone: str) -> str:
    """Return the phone's digits without the +86/0086 country prefix."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            return digits[len(prefix) :]
    return digits


def email_key(email: str) -> str:
    """Return the email trimmed and lowercased."""
    return unicodedata.normalize("NFKC", email or "").strip().lower()


def chinese_phone(phone: str) -> str | None:
    """Return a Chinese mobile or landline number in its usual written form, or None if it is not one.

    Mobile: 13912345678. Landline: 010-12345678 or 0512-1234567 (Beijing, Shanghai and the
    02x cities have three-digit area codes, the rest four).
    """
    digits = phone_key(phone)
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        return digits
    if not digits.startswith("0") and len(digits) in (10, 11, 12) and phone.strip().startswith("+"):
        digits = "0" + digits  # +86 10 1234 5678: the trunk 0 is dropped after the country code
    if re.fullmatch(r"0\d{9,11}", digits):
        area = 3 if digits[1] in "12" else 4
        local = digits[area:]
        if 7 <= len(local) <= 8:
            return f"{digits[:area]}-{local}"
    return None
