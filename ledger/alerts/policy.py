"""How the sender paces itself: polling, per-endpoint concurrency, timeouts, retries.

Retries back off exponentially from `first_retry_seconds`, doubling up to
`max_retry_seconds`, until the attempts span `retry_horizon_seconds` (three days by
default: 18 retries over 2.95 days); each delay is jittered by ±`jitter` so endpoints that failed
together do not all come back together. After the last, the alert is dead (the
dead-letter state) and waits for `POST /alerts/{id}/redeliver`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.settings import Settings

__all__ = ["SenderPolicy"]


@dataclass(frozen=True)
class SenderPolicy:
    poll_seconds: float = 0.05
    idle_poll_seconds: float = 0.25
    endpoint_concurrency: int = 4
    connect_timeout_seconds: float = 5.0
    timeout_seconds: float = 10.0
    resolve_timeout_seconds: float = 5.0
    first_retry_seconds: float = 5.0
    max_retry_seconds: float = 12 * 3600.0
    retry_horizon_seconds: float = 3 * 24 * 3600.0
    jitter: float = 0.2
    clear_batch: int = 500
    gate_retry_seconds: float = 2.0
    lock_check_seconds: float = 1.0
    schedule: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        delays: list[float] = []
        delay, total = self.first_retry_seconds, 0.0
        while total + delay <= self.retry_horizon_seconds:
            delays.append(delay)
            total += delay
            delay = min(self.max_retry_seconds, delay * 2)
        object.__setattr__(self, "schedule", tuple(delays))

    @property
    def max_attempts(self) -> int:
        """The first attempt and one per retry."""
        return len(self.schedule) + 1

    def retry_delay(self, failures: int, rng: random.Random | None = None) -> float | None:
        """Seconds to wait after the `failures`-th failed attempt; None once retries are spent."""
        if failures < 1 or failures > len(self.schedule):
            return None
        spread = 1 + (rng or random).uniform(-self.jitter, self.jitter)
        return self.schedule[failures - 1] * spread

    @classmethod
    def from_settings(cls, settings: Settings) -> SenderPolicy:
        return cls(
            endpoint_concurrency=settings.alerts_endpoint_concurrency,
            timeout_seconds=settings.alerts_timeout_seconds,
            retry_horizon_seconds=settings.alerts_retry_horizon_seconds,
        )
