"""Conduct facts: what the platform itself knows about an enterprise's credit conduct.

The catalogue holds what providers report. Credit conduct - commitments kept or
breached, objections and how they ended, repair applications - is known to the
platform (the commitments on chain, the objections and repairs in self-service), not
reported by anyone, so it has no catalogue category. The evaluation reads it as
records of the three kinds below, built by the caller from those sources; their
fields are declared here so the indicator file is checked against them exactly as
against the catalogue.

A fact about a record follows that record (`RECORD_LINK`): an objection or a repair
application whose record is not released (repaired, or past its publicity) is not
read either, so a repaired record cannot come back through the facts about it.
"""

from __future__ import annotations

from types import MappingProxyType

from ledger.evaluation.indicators import FieldSpec

__all__ = ["COMMITMENT", "FACTS", "OBJECTION", "RECORD_LINK", "REPAIR"]

COMMITMENT = "credit_commitment"
OBJECTION = "objection"
REPAIR = "repair_application"

#: the field of a fact naming the record it is about
RECORD_LINK = "record_id"

#: fact kind -> field -> spec; event date: when the commitment was made, the objection or
#: the repair application filed
FACTS = MappingProxyType({
    COMMITMENT: MappingProxyType({
        "kind": FieldSpec("enum", ("enterprise_truthfulness", "repair_applicant")),
        "breached": FieldSpec("boolean"),
    }),
    OBJECTION: MappingProxyType({
        "status": FieldSpec("enum", ("open", "forwarded", "corrected", "upheld", "withdrawn")),
        RECORD_LINK: FieldSpec("string"),
    }),
    REPAIR: MappingProxyType({
        "status": FieldSpec("enum", ("pending", "approved", "rejected")),
        RECORD_LINK: FieldSpec("string"),
        "category": FieldSpec("string"),
    }),
})  # fmt: skip
