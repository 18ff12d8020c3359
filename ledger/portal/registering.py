"""An enterprise's registration as an operator types it, checked before it is signed.

The chain keeps only the keccak-256 of a 统一社会信用代码, so a mistyped code would register
an enterprise nobody can find: `uscc_verdict` checks it with `validate_uscc` (GB 32100-2015,
the check the API makes) and names the position at fault (1 the registration authority,
2 the entity type, 3-8 the region, 18 the check character), which the page says in words
before anything is signed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ledger.domain.identifiers import USCC_ALPHABET, InvalidIdentifierError, validate_uscc

__all__ = ["UsccVerdict", "uscc_verdict"]

#: the positions (1-based, first and last) each rule of `validate_uscc` looks at
RULE_POSITIONS = {"authority": (1, 1), "entity_type": (2, 2), "region": (3, 8), "check_char": (18, 18)}


@dataclass(frozen=True)
class UsccVerdict:
    """The code as normalised, and the rule it breaks with its positions (none when it is valid)."""

    code: str
    rule: str = ""  # length, alphabet, authority, entity_type, region, check_char (empty: valid)
    first: int = 0
    last: int = 0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.rule


def uscc_verdict(text: str) -> UsccVerdict:
    """`text` checked as a 统一社会信用代码: valid, or the rule broken and where."""
    code = unicodedata.normalize("NFKC", text).strip().upper()
    try:
        return UsccVerdict(validate_uscc(code).code)
    except InvalidIdentifierError as exc:
        if exc.rule == "alphabet":
            position = next(i for i, char in enumerate(code, start=1) if char not in USCC_ALPHABET)
            return UsccVerdict(code, exc.rule, position, position, exc.detail)
        first, last = RULE_POSITIONS.get(exc.rule, (0, 0))
        return UsccVerdict(code, exc.rule, first, last, exc.detail)
