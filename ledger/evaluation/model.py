"""The published scorecard: a plain JSON document anyone can apply without our code.

A model document holds, per indicator, the bin edges (`splits`), the integer points of
each bin and of the missing bin (an indicator with no value), and the share of the
training population in each; the scaling (points to double the odds, the odds at the
base score); the grade cut-offs A-E with the probability band of each; and the
indicator file it reads (version and SHA-256).

Applying it (README, "Credit evaluation"): for each indicator, no value gives
`missing_points`; otherwise the bin is the number of splits <= the value
(`bisect_right`), so bin i covers [splits[i-1], splits[i]). The score is the sum of the
points; the grade is the first whose `min_score` the score reaches (E has none). The
probability of default implied by a score is 1 / (1 + odds * 2^((score - base_score) / pdo)).

The document is validated strictly on load (unknown keys, wrong types, edges out of
order, points not matching the bins, grades out of order, shares not summing to one are
refused, with the field named) and written in RFC 8785 canonical form, so the SHA-256 of
the file is the model's hash (`content_hash`).
"""

from __future__ import annotations

import hashlib
import math
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal, Self

import rfc8785
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as Constraint

from ledger.evaluation.errors import ModelDocumentError
from ledger.evaluation.indicators import IndicatorFile, Risk

__all__ = [
    "FORMAT",
    "GRADES",
    "Grade",
    "IndicatorFileRef",
    "ModelDocument",
    "ModelIndicator",
    "Scaling",
    "check_model_against",
    "describe_validation_error",
    "load_model",
    "parse_model",
]

FORMAT = "credit-ledger/scorecard"
GRADES = ("A", "B", "C", "D", "E")
SHARE_TOLERANCE = 1e-4

_Strict = ConfigDict(frozen=True, extra="forbid", strict=True)
Name = Annotated[str, Constraint(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, Constraint(min_length=1, max_length=200)]
Share = Annotated[float, Constraint(ge=0, le=1)]
Hex64 = Annotated[str, Constraint(pattern=r"^[0-9a-f]{64}$")]


class Scaling(BaseModel):
    """PDO/odds scaling: at `base_score` the odds good:bad are `odds`; +`pdo` doubles them."""

    model_config = _Strict

    method: Literal["pdo_odds"]
    pdo: float = Constraint(gt=0)
    odds: float = Constraint(gt=0)
    base_score: float

    def probability(self, score: float) -> float:
        """The probability of default a score stands for under this scaling."""
        return 1.0 / (1.0 + self.odds * float(2.0 ** ((score - self.base_score) / self.pdo)))


class ModelIndicator(BaseModel):
    model_config = _Strict

    id: Name
    name_zh: Text
    name_en: Text
    unit: Text
    risk: Risk
    actionable: bool
    splits: tuple[float, ...]
    points: tuple[int, ...]
    missing_points: int
    training_shares: tuple[Share, ...]
    missing_share: Share

    @model_validator(mode="after")
    def _bins(self) -> Self:
        if any(not math.isfinite(s) for s in self.splits):
            raise ValueError("splits: not all finite")
        if any(b <= a for a, b in pairwise(self.splits)):
            raise ValueError("splits: not strictly increasing")
        if len(self.points) != len(self.splits) + 1:
            raise ValueError(f"points: {len(self.points)} for {len(self.splits) + 1} bins")
        if len(self.training_shares) != len(self.points):
            raise ValueError(f"training_shares: {len(self.training_shares)} for {len(self.points)} bins")
        total = sum(self.training_shares) + self.missing_share
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"training_shares: with missing_share they sum to {total}, not 1")
        return self


class Grade(BaseModel):
    """A grade: scores at or above `min_score` (E: every score below D's) and its PD band's top."""

    model_config = _Strict

    grade: Literal["A", "B", "C", "D", "E"]
    min_score: int | None
    max_probability: float | None = Constraint(gt=0, lt=1)


class IndicatorFileRef(BaseModel):
    model_config = _Strict

    version: int = Constraint(ge=1)
    sha256: Hex64


class ModelDocument(BaseModel):
    model_config = _Strict

    format: Literal["credit-ledger/scorecard"]
    format_version: Literal[1]
    model_id: Name
    model_version: Annotated[str, Constraint(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")]
    synthetic: bool  # trained on a synthetic cohort, not on observed outcomes
    target_en: Text
    target_zh: Text
    indicator_file: IndicatorFileRef
    scaling: Scaling
    indicators: tuple[ModelIndicator, ...] = Constraint(min_length=1)
    grades: tuple[Grade, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [i.id for i in self.indicators]
        dupes = sorted({x for x in ids if ids.count(x) > 1})
        if dupes:
            raise ValueError(f"indicators: listed twice {dupes}")
        if tuple(g.grade for g in self.grades) != GRADES:
            raise ValueError(f"grades: must be {list(GRADES)} in that order")
        *upper, last = self.grades
        if last.min_score is not None or last.max_probability is not None:
            raise ValueError("grades: E has neither min_score nor max_probability (it takes the rest)")
        if any(g.min_score is None or g.max_probability is None for g in upper):
            raise ValueError("grades: A-D each need min_score and max_probability")
        scores = [g.min_score for g in upper]
        bands = [g.max_probability for g in upper]
        if any(b >= a for a, b in pairwise(scores)):  # type: ignore[operator]  # None excluded above
            raise ValueError("grades: min_score must fall strictly from A to D")
        if any(b <= a for a, b in pairwise(bands)):  # type: ignore[operator]
            raise ValueError("grades: max_probability must rise strictly from A to D")
        return self

    def content_hash(self) -> bytes:
        """SHA-256 of the canonical document: the SHA-256 of the file `canonical()` writes."""
        return hashlib.sha256(self.canonical()).digest()

    def canonical(self) -> bytes:
        """The document as RFC 8785 canonical JSON, the bytes that are published."""
        return bytes(rfc8785.dumps(self.model_dump(mode="json")))

    def indicator(self, indicator_id: str) -> ModelIndicator:
        for i in self.indicators:
            if i.id == indicator_id:
                return i
        raise ModelDocumentError(f"model {self.model_version} has no indicator {indicator_id!r}")


def describe_validation_error(e: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, err['loc'])) or '<root>'}: {err['msg']}" for err in e.errors())


def parse_model(text: str | bytes, *, source: str = "model document") -> ModelDocument:
    """Validate a model document's JSON text strictly; every failure names the field."""
    try:
        return ModelDocument.model_validate_json(text)
    except ValidationError as e:
        raise ModelDocumentError(f"{source}: {describe_validation_error(e)}") from e


def load_model(path: str | Path) -> ModelDocument:
    try:
        text = Path(path).read_bytes()
    except OSError as e:
        raise ModelDocumentError(f"{path}: {e}") from e
    return parse_model(text, source=str(path))


def check_model_against(model: ModelDocument, indicators: IndicatorFile) -> None:
    """Refuse a model that does not read this indicator file exactly as it names it."""
    ref = model.indicator_file
    if ref.version != indicators.version or ref.sha256 != indicators.content_hash().hex():
        raise ModelDocumentError(
            f"indicator_file: the model reads v{ref.version} ({ref.sha256[:12]}…), "
            f"not v{indicators.version} ({indicators.content_hash().hex()[:12]}…)"
        )
    known = {i.id for i in indicators.indicators}
    unknown = [i.id for i in model.indicators if i.id not in known]
    if unknown:
        raise ModelDocumentError(f"indicators: not in indicator file v{indicators.version}: {unknown}")
