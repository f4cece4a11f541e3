from datetime import UTC, datetime

from bot.config import parse_config
from bot.service.slots import next_slot


def _account(extra: str = ""):
    cfg = parse_config(f'[[accounts]]\nname = "a"\nplatform = "outbox"\n{extra}')
    return cfg.account("a")


def test_next_slot_same_day_and_wraps_to_tomorrow():
    acc = _account('post_slots = ["19:00", "09:00"]\n')
    assert next_slot(acc, datetime(2026, 3, 1, 8, 0, tzinfo=UTC)) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert next_slot(acc, datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) == datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
    assert next_slot(acc, datetime(2026, 3, 1, 20, 0, tzinfo=UTC)) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_next_slot_respects_the_account_time_zone():
    acc = _account('post_slots = ["09:00"]\ntimezone = "Europe/Berlin"\n')
    # 09:00 in Berlin is 08:00 UTC in winter
    assert next_slot(acc, datetime(2026, 1, 10, 7, 0, tzinfo=UTC)) == datetime(2026, 1, 10, 8, 0, tzinfo=UTC)


def test_next_slot_from_cron():
    acc = _account('post_cron = "30 */4 * * *"\n')
    assert next_slot(acc, datetime(2026, 3, 1, 4, 30, tzinfo=UTC)) == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
