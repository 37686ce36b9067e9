"""The intake's per-key rate: a fixed one-minute window counted in the shared cache."""

from funnel.intake.limits import rate_limited

MINUTE = 1_800_000_000  # a whole minute, in epoch seconds


def test_the_window_allows_its_quota_then_says_how_long_to_wait():
    answers = [rate_limited(key_id=1, per_minute=3, now=MINUTE + 10) for _ in range(4)]
    assert answers == [0, 0, 0, 50]


def test_a_new_window_starts_from_zero_and_keys_count_apart():
    for _ in range(3):
        rate_limited(key_id=1, per_minute=3, now=MINUTE + 10)
    assert rate_limited(key_id=2, per_minute=3, now=MINUTE + 10) == 0
    assert rate_limited(key_id=1, per_minute=3, now=MINUTE + 60) == 0
