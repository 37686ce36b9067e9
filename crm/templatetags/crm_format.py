from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value, places: int = 0) -> str:
    """Format an amount as ¥1,234,567 in every language (Chinese finance writes commas too)."""
    if value is None or value == "":
        return "—"
    return f"¥{Decimal(value):,.{int(places)}f}"
