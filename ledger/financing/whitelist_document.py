"""The white-list document and its parsing: pure, so a client builds and hashes a list too.

Every code is validated with its check character (`validate_uscc`) and normalised; one
bad code refuses the whole version, naming the position and the rule (422
`invalid_identifier`); a code listed twice is `white_list_invalid`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, ValidationError

from ledger.chain.publications import PublicationKind
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput
from ledger.financing.documents import PublishedDocument

#: the most enterprises one version lists
MAX_ENTERPRISES = 100_000


class WhiteListInvalid(InvalidInput):
    code = "white_list_invalid"


class WhiteListDocument(PublishedDocument):
    """One version of a white list."""

    KIND: ClassVar[PublicationKind] = PublicationKind.WHITE_LIST

    name: str = Field(min_length=1, max_length=200)
    district: str = Field(min_length=1, max_length=100, description="the recommending district")
    criteria: str = Field(min_length=1, max_length=8000, description="who qualifies, in words")
    enterprises: list[str] = Field(max_length=MAX_ENTERPRISES, description="统一社会信用代码, sorted, unique")


def parse_white_list(document: object) -> WhiteListDocument:
    """The white list with every code checked and normalised, sorted and unique.

    Refusals name what is wrong: `invalid_identifier` with the position
    (`enterprises[3]: check character ...`), `white_list_invalid` for the rest.
    """
    if isinstance(document, dict) and isinstance(document.get("enterprises"), list):
        codes: list[str] = []
        for i, code in enumerate(document["enterprises"]):
            if not isinstance(code, str):
                raise WhiteListInvalid(f"enterprises[{i}]: expected a 统一社会信用代码 string")
            codes.append(validate_uscc(code, field=f"enterprises[{i}]").code)
        seen: set[str] = set()
        for i, code in enumerate(codes):
            if code in seen:
                raise WhiteListInvalid(f"enterprises[{i}]: {code} is listed twice")
            seen.add(code)
        document = {**document, "enterprises": sorted(codes)}
    try:
        return WhiteListDocument.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise WhiteListInvalid(f"white list: {where}: {first['msg']}") from None
