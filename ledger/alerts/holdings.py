"""Holdings: an institution's standing with a subject other than a watch, for joint action.

Malicious debt evasion (恶意逃废债) flagged by an operator reaches every institution that
watches the subject, and also every institution that holds a loan application of it or
has reported a loan to it. Applications and loans live in the financing package, a layer
above this one, so they reach the alerts through this small interface, which the
composition root (`ledger.wiring`) fills from the financing tables.

A holding is what such an alert is authorized under at delivery, in place of a watch:
the institution, the subject, the agreement, the purpose bit and the categories it may be
told of, and, for an application, the consent grant the application was made with (the
gate then also requires that grant to be live at the block B it authorizes at: a revoked
grant yields nothing). Its `ref` (``application:<id>``, ``loan:<id>``) is stored as the
alert's `watch_id`, so the gate finds the holding again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

__all__ = ["HOLDING_PREFIXES", "Holding", "HoldingSource", "is_holding_ref"]

#: the prefixes of a holding's ref: never a watch id (those begin ``watch_``)
HOLDING_PREFIXES = ("application:", "loan:")


def is_holding_ref(ref: str | None) -> bool:
    """Whether an alert's `watch_id` names a holding rather than a watch."""
    return ref is not None and ref.startswith(HOLDING_PREFIXES)


@dataclass(frozen=True)
class Holding:
    """An institution's application or reported loan of a subject, as an alert basis."""

    ref: str
    institution: str
    subject: str
    #: the agreement the alerts are authorized under (on chain, at B)
    agreement_id: int
    #: the catalogue purpose bit: credit assessment for an application, post-loan management for a loan
    purpose_bit: int
    #: catalogue category names the holding may be told of
    categories: frozenset[str]
    #: the consent grant that must be live at B (an application's); 0: none beyond the agreement
    grant_id: int = 0


class HoldingSource(Protocol):
    """Where the holdings come from (the financing tables, through the wiring)."""

    def holdings(self, session: Session, subjects: Iterable[str]) -> list[Holding]:
        """The holdings of `subjects`, in the caller's transaction; oldest first."""
        ...

    def resolve(self, session: Session, refs: Iterable[str]) -> dict[str, Holding]:
        """The holdings named by `refs` (unknown refs left out)."""
        ...

    def grant_live(self, grant_id: int, block: int, at: int) -> bool:
        """Whether consent grant `grant_id` exists, is unrevoked at `block` and unexpired at `at`."""
        ...
