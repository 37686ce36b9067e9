"""Form widgets for pages that render long choice lists."""

from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A single <select> written in Python, with the same markup as Django's own.

    Django renders every option through a template: a director's owner filter lists a few
    hundred people, and rendering it took half of the lead list page.
    """

    def render(self, name, value, attrs=None, renderer=None):
        wanted = self.format_value(value)
        done = False  # like Django's, a single select marks only the first matching option

        def option(option_value, label) -> str:
            nonlocal done
            text = "" if option_value is None else str(option_value)
            selected = not done and text in wanted
            done = done or selected
            return f'<option value="{escape(text)}"{" selected" if selected else ""}>{escape(str(label))}</option>'

        parts = [f'<select name="{escape(name)}"{flatatt(self.build_attrs(self.attrs, attrs))}>']
        for group_value, group_label in self.choices:
            if isinstance(group_label, (list, tuple)):
                parts.append(f'<optgroup label="{escape(str(group_value))}">')
                parts += [option(v, label) for v, label in group_label]
                parts.append("</optgroup>")
            else:
                parts.append(option(group_value, group_label))
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every value and label above is escaped)
