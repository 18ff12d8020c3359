"""The delivery gate: the sender asks it once per alert, before the first attempt.

The real gate (`ledger.alerts.authorize`, issue 19 part 1-2) checks on chain at a fresh
block B, like the release path, and appends and commits the access-trail entry before it
returns the `Clearance`. The sender stores B and the trail entry in the alert's row and
builds the payload once from them, so every retry resends the same `webhook-id` and bytes.

Contract: `clear` returns a `Clearance` or raises `Withheld`; any other exception counts
as "not now" (the alert stays pending and is asked about again later). A withheld alert is
never sent and never appears in the pull feed. A gate may also offer
`clear_many(alerts) -> list[Clearance | Withheld]` (one answer per alert, in order) to clear
a batch at once; the sender then uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ledger.alerts.model import Clearance, Withheld

if TYPE_CHECKING:
    from ledger.alerts.outbox import OutboxAlert

__all__ = ["DeliveryGate", "NoGate"]


class DeliveryGate(Protocol):
    def clear(self, alert: OutboxAlert) -> Clearance:
        """Authorize `alert` and log it in the access trail; raise `Withheld` to refuse it."""
        ...


class NoGate:
    """The gate before a real one is plugged in: every alert waits (never sent, never lost)."""

    def clear(self, alert: OutboxAlert) -> Clearance:
        raise Withheld("no_gate", "no delivery gate is configured: the alert waits", final=False)
