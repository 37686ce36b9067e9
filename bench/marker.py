"""The finished dataset's description, kept as a comment on its database (readable without Django)."""

import json

MARKER = "crm-bench-dataset"


def marker_read(cursor) -> dict | None:
    """Return the finished dataset's description from the database comment, or None."""
    cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
    text = cursor.fetchone()[0] or ""
    return json.loads(text.removeprefix(MARKER)) if text.startswith(MARKER) else None


def marker_text(info: dict | None) -> str | None:
    return None if info is None else MARKER + json.dumps(info, ensure_ascii=False)
