import time

from django.core.cache import cache

WINDOW_SECONDS = 60


def rate_limited(*, key_id: int, per_minute: int, now: float | None = None) -> int:
    """Count one request for the key; return 0 if allowed, else the seconds until the window resets.

    A fixed one-minute window in the shared cache (Redis in production), so every web worker counts
    against the same budget.
    """
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    counter = f"intake-rate:{key_id}:{window}"
    try:
        count = cache.incr(counter)  # one round trip for all but the window's first request
    except ValueError:  # the window's first request, or its counter just expired
        count = 1 if cache.add(counter, 1, timeout=WINDOW_SECONDS + 10) else cache.incr(counter)
    if count <= per_minute:
        return 0
    return max(1, int((window + 1) * WINDOW_SECONDS - now))
