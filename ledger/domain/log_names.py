"""The platform's Merkle logs by name, and the type tags of their leaves.

A name is what the database, the exports, the proofs and the API call a log; its
on-chain id is keccak256 of the name (`ledger.chain.checkpoints.log_id`). The auditor
states the same names from the documented format (`ledger.audit.leaves`), and a test
holds the two statements equal.
"""

from __future__ import annotations

__all__ = ["ACCESS_LEAF_TYPE", "ACCESS_TRAIL_LOG", "CREDIT_RECORDS_LOG", "RECORD_LEAF_TYPE", "STANDARD_LOGS"]

#: the credit-record log: one leaf per record version, and the self-service state changes
CREDIT_RECORDS_LOG = "credit-records"
#: the access trail: one leaf per release
ACCESS_TRAIL_LOG = "access-trail"
#: every deployment has these logs
STANDARD_LOGS = (CREDIT_RECORDS_LOG, ACCESS_TRAIL_LOG)

RECORD_LEAF_TYPE = "credit-record"
ACCESS_LEAF_TYPE = "access"
