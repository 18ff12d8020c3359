"""What the evaluation routes answer besides an evaluation release, as view dataclasses.

The API makes its response models from these (`api.view_models.view_of`), so each field is
spelled and documented once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

__all__ = ["ModelDocumentsReceipt", "SelfEvaluation"]


@dataclass(frozen=True)
class ModelDocumentsReceipt:
    """A model document and its card, checked and stored, ready to be proposed on chain."""

    model_hash: Annotated[
        bytes, Field(description="SHA-256 of the document's RFC 8785 form: `modelHash` of ProposeModel")
    ]
    card_hash: Annotated[
        bytes, Field(description="SHA-256 of the card's RFC 8785 form: `cardHash` of ProposeModel")
    ]
    indicator_version: int
    input_categories: Annotated[
        int, Field(description="bit mask of the catalogue categories the indicator file reads")
    ]
    input_category_names: Annotated[list[str], Field(description="the same categories by name")]


@dataclass(frozen=True)
class SelfEvaluation:
    """The enterprise's own evaluation: the fields of a scored answer, or `missing_dimensions`
    when its data is insufficient (the others absent from the answer)."""

    subject: str
    model: Annotated[
        dict[str, Any],
        Field(description="the model used: version, hashes, id and version, indicator version, synthetic"),
    ]
    portrait: Annotated[
        dict[str, Any],
        Field(description="indicator_version, as_of (the platform's business day), values, disputed"),
    ]
    status: Annotated[str, Field(description="scored, or insufficient_data", examples=["scored"])]
    score: int | None = None
    grade: Annotated[str | None, Field(description="A (best) to E")] = None
    probability: float | None = None
    probability_band: list[float] | None = None
    reasons: Annotated[
        list[dict[str, Any]] | None, Field(description="four reason codes with their zh and en texts")
    ] = None
    missing_dimensions: Annotated[
        list[str] | None, Field(description="insufficient_data: the dimensions short of data")
    ] = None
    guidance: Annotated[
        dict[str, Any] | None, Field(description="what would raise the grade: which indicators, by how much")
    ] = None
