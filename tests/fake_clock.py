"""Time for the cost bucket that moves only when someone sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeNow:
    """A UTC ``datetime`` clock that moves only when told (the event deliveries' schedule)."""

    def __init__(self) -> None:
        from shopify_loyalty.db import utcnow

        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
