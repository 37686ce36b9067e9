"""A per-process memory of small tables read on every web-to-lead post (intake keys, webhooks).

At a few hundred posts a second, reading the same key and hook rows on each post is a measurable
share of the work. A value is remembered for MEMO_SECONDS; a save or delete through the ORM, or an
explicit forget(), clears it at once in this process, and other processes see the change within
MEMO_SECONDS (the bound, for example, on how long a revoked key still works in another worker).
"""

import time

from django.db.models.signals import post_delete, post_save

MEMO_SECONDS = 5.0

_memos: list["TableMemo"] = []


class TableMemo:
    def __init__(self, model, seconds: float = MEMO_SECONDS):
        self.seconds = seconds
        self._values: dict = {}
        post_save.connect(self.forget, sender=model, weak=False)
        post_delete.connect(self.forget, sender=model, weak=False)
        _memos.append(self)

    def get(self, key, load):
        """Return the remembered value for key, or load(), remembering it unless it is None."""
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if value is not None:
            self._values[key] = (now + self.seconds, value)
        return value

    def forget(self, *args, **kwargs) -> None:
        self._values.clear()


def forget_all() -> None:
    """Clear every memo (tests roll back rows without a signal)."""
    for memo in _memos:
        memo.forget()
