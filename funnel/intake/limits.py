import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

WINDOW_SECONDS = 60
COUNTER_TTL = WINDOW_SECONDS + 10


def _count(counter: str) -> int:
    """Add one to the counter and return it, creating it (expiring after the window) if new."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # INCR and EXPIRE in one round trip: Django's incr() asks EXISTS first, and the rate
        # limit was an eighth of each intake post's time under load. Integers are stored raw
        # by Django's Redis cache, so the counter stays readable through the cache API.
        key = backend.make_and_validate_key(counter)
        pipe = backend._cache.get_client(key, write=True).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, COUNTER_TTL)
        return pipe.execute()[0]
    try:
        return backend.incr(counter)
    except ValueError:  # the window's first request, or its counter just expired
        return 1 if backend.add(counter, 1, timeout=COUNTER_TTL) else backend.incr(counter)


def rate_limited(*, key_id: int, per_minute: int, now: float | None = None) -> int:
    """Count one request for the key; return 0 if allowed, else the seconds until the window resets.

    A fixed one-minute window in the shared cache (Redis in production), so every web worker counts
    against the same budget.
    """
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = _count(f"intake-rate:{key_id}:{window}")
    if count <= per_minute:
        return 0
    return max(1, int((window + 1) * WINDOW_SECONDS - now))
