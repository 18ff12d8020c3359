"""Every refusal of the self-service workflows, named after the rule it enforces.

The class decides the HTTP status (through the one table in `api/errors.py`); `code`
is the rule's stable name, shown as `error` in the response body; the message names
the rule's source where there is one. `example` is what the OpenAPI document shows.
"""

from __future__ import annotations

from ledger.domain.catalogue import FieldError
from ledger.errors import Conflict, InvalidInput, LedgerError, NotAuthorized, NotFound

__all__ = [
    "RULE_ERRORS",
    "AlreadyDecided",
    "AlreadyRepaired",
    "CommitmentBreached",
    "CommitmentNotYours",
    "CommitmentUnknown",
    "CommitmentWrongKind",
    "CorrectionInvalid",
    "DeclarationInvalid",
    "MinimumPeriodNotPassed",
    "NotDishonesty",
    "NotTheDecider",
    "NotTheSubject",
    "ObjectionAlreadyForwarded",
    "ObjectionAlreadyOpen",
    "OwnDeclaration",
    "PublicationEnded",
    "RecordInvalid",
    "RecordSuperseded",
    "RepairAlreadyPending",
    "UnknownApplication",
    "UnknownObjection",
    "UnknownRecord",
]


class NotTheSubject(NotAuthorized):
    """Only the enterprise a record is about may see it in full, object to it or apply for its repair."""

    code = "not_the_subject"
    example = "record 5b0c… is about another enterprise: only its subject may object to it"


class NotTheDecider(NotAuthorized):
    """Objections are decided by the record's provider or an operator; repairs by an operator."""

    code = "not_the_decider"
    example = "0x9965… is an institution: an objection is decided by the record's provider or an operator"


class UnknownRecord(NotFound):
    code = "record_unknown"
    example = "no record 5b0c…"


class UnknownObjection(NotFound):
    code = "objection_unknown"
    example = "no objection 7f3e…"


class UnknownApplication(NotFound):
    code = "repair_application_unknown"
    example = "no repair application 1c2d…"


class ObjectionAlreadyOpen(Conflict):
    """One open objection per record at a time: the open one is decided first."""

    code = "objection_already_open"
    example = "record 5b0c… already has open objection 7f3e… (filed 2026-03-02)"


class OwnDeclaration(Conflict):
    """A self-declared record is corrected by its enterprise, not objected to."""

    code = "objection_own_declaration"
    example = "record 5b0c… is the enterprise's own declaration: submit a correction instead"


class ObjectionAlreadyForwarded(Conflict):
    """An objection is forwarded to the provider once (上海市社会信用条例 Art. 36)."""

    code = "objection_already_forwarded"
    example = "objection 7f3e… was forwarded to the provider on 2026-03-03"


class AlreadyDecided(Conflict):
    """An objection or application is decided once; a decided one is closed."""

    code = "already_decided"
    example = "objection 7f3e… is already corrected"


class RecordSuperseded(Conflict):
    """A decision applies to the record version it was filed against; a newer version needs a new look."""

    code = "record_superseded"
    example = "record 5b0c… is at version 2 now; objection 7f3e… was filed against version 1"


class RecordInvalid(InvalidInput):
    """A record this workflow submits does not pass the catalogue; `problems` lists each error."""

    code = "record_invalid"
    example = "the record is invalid: fields.amount: type"

    def __init__(self, message: str, problems: list[FieldError]) -> None:
        summary = "; ".join(f"{p.field}: {p.rule} ({p.message})" for p in problems)
        super().__init__(f"{message}: {summary}" if summary else message)
        self.problems = problems


class CorrectionInvalid(RecordInvalid):
    """The corrected record a decision submits does not pass the catalogue."""

    code = "correction_invalid"
    example = "the correction is invalid: fields.amount: type (expected a finite number)"


class DeclarationInvalid(RecordInvalid):
    """A self-declared record must fit the catalogue's `self_declared` category."""

    code = "declaration_invalid"
    example = "the declaration is invalid: fields.declaration_type: enum ('award' is not one of [...])"


class NotDishonesty(InvalidInput):
    """Credit repair (信用修复, NDRC Order 36) applies to dishonesty information only."""

    code = "repair_not_dishonesty"
    example = "record 5b0c… (tax) is not dishonesty information: credit repair does not apply"


class MinimumPeriodNotPassed(Conflict):
    """Repair is allowed once the minimum publicity period has passed (minor: at once)."""

    code = "minimum_period_not_passed"
    example = (
        "the minimum publicity period of this general administrative_penalty record runs until "
        "2026-06-01 (国办发〔2025〕22号; NDRC Order 36): apply from then on"
    )


class PublicationEnded(Conflict):
    """A record past its maximum publicity period is no longer published: nothing to repair."""

    code = "publication_ended"
    example = "record 5b0c… left publication on 2025-12-31 (maximum period): nothing to repair"


class AlreadyRepaired(Conflict):
    code = "already_repaired"
    example = "record 5b0c… is repaired already (application 1c2d…)"


class RepairAlreadyPending(Conflict):
    code = "repair_already_pending"
    example = "record 5b0c… has pending repair application 1c2d…"


class CommitmentUnknown(NotFound):
    code = "commitment_unknown"
    example = "no commitment 42 on chain"


class CommitmentNotYours(NotAuthorized):
    code = "commitment_not_yours"
    example = "commitment 42 was made by 0x7099…, not by 0x14dC…"


class CommitmentWrongKind(InvalidInput):
    code = "commitment_wrong_kind"
    example = "commitment 42 is an institution_usage commitment; this needs enterprise_truthfulness"


class CommitmentBreached(Conflict):
    code = "commitment_breached"
    example = "commitment 42 was marked breached by an operator"


#: the refusals each workflow may answer with, for the OpenAPI document
RULE_ERRORS: tuple[type[LedgerError], ...] = (
    NotTheSubject,
    NotTheDecider,
    UnknownRecord,
    UnknownObjection,
    UnknownApplication,
    ObjectionAlreadyOpen,
    OwnDeclaration,
    ObjectionAlreadyForwarded,
    AlreadyDecided,
    RecordSuperseded,
    CorrectionInvalid,
    DeclarationInvalid,
    NotDishonesty,
    MinimumPeriodNotPassed,
    PublicationEnded,
    AlreadyRepaired,
    RepairAlreadyPending,
    CommitmentUnknown,
    CommitmentNotYours,
    CommitmentWrongKind,
    CommitmentBreached,
)
