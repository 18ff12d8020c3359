"""Log names and leaf types are defined once on the writing side and once by the auditor.

The writing side names its logs in `ledger.domain.log_names`; the auditor states them
again from the documented format (`ledger.audit.leaves`), by design, so that it does
not share the writing side's code. The two statements, and the two ways of turning a
name into the id the Checkpoints contract keys it by, must agree, or the auditor
would look for logs the platform never wrote.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from ledger.audit import chain as audit_chain
from ledger.audit import leaves as audit_leaves
from ledger.audit import verifier
from ledger.chain.checkpoints import log_id
from ledger.domain import log_names
from ledger.logs.leaves import check_log_name
from ledger.settings import Settings


def test_the_auditor_names_the_logs_and_leaf_types_as_the_writing_side_does() -> None:
    assert audit_leaves.CREDIT_RECORDS_LOG == log_names.CREDIT_RECORDS_LOG == "credit-records"
    assert audit_leaves.ACCESS_TRAIL_LOG == log_names.ACCESS_TRAIL_LOG == "access-trail"
    assert audit_leaves.RECORD_LEAF_TYPE == log_names.RECORD_LEAF_TYPE == "credit-record"
    assert audit_leaves.ACCESS_LEAF_TYPE == log_names.ACCESS_LEAF_TYPE == "access"
    assert verifier.STANDARD_LOGS == log_names.STANDARD_LOGS
    assert audit_leaves.LEAF_TYPES == {
        log_names.CREDIT_RECORDS_LOG: log_names.RECORD_LEAF_TYPE,
        log_names.ACCESS_TRAIL_LOG: log_names.ACCESS_LEAF_TYPE,
    }


def test_a_log_has_one_on_chain_id_for_both_sides() -> None:
    for name in log_names.STANDARD_LOGS:
        assert check_log_name(name) == name
        assert log_id(name) == audit_chain.log_id(name) == keccak(text=name)
    assert log_id(log_names.CREDIT_RECORDS_LOG) != log_id(log_names.ACCESS_TRAIL_LOG)


def test_the_anchoring_worker_anchors_the_standard_logs_by_default() -> None:
    assert Settings(environment="development").anchor_logs == list(log_names.STANDARD_LOGS)
