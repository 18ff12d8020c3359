"""The words pages show for the ledger's codes (statuses, institution kinds, masking rules,
notice kinds), marked for translation; every page gets them (`render`)."""

from __future__ import annotations

from api.portal.i18n import N_

STATUS_WORDS = {
    "live": N_("in force"),
    "revoked": N_("revoked"),
    "expired": N_("expired"),
    "none": N_("none"),
    "pending": N_("pending"),
    "repaired": N_("repaired"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "open": N_("with the platform"),
    "forwarded": N_("with the provider"),
    "corrected": N_("corrected"),
    "upheld": N_("upheld"),
    "withdrawn": N_("withdrawn"),
}
KIND_WORDS = {
    "bank": N_("Bank"),
    "guarantor": N_("Guarantor"),
    "insurer": N_("Insurer"),
    "credit_service_agency": N_("Credit service agency"),
    "none": N_("Member"),
}
MASKING_WORDS = {
    "person_name": N_("surname only"),
    "resident_id": N_("ID number partly hidden"),
    "mobile": N_("middle digits hidden"),
    "bank_card": N_("last digits only"),
    "address": N_("district only"),
    "landline": N_("partly hidden"),
    "email": N_("partly hidden"),
    "amount_band": N_("as a range"),
    "grade": N_("as a grade"),
}
NOTICE_WORDS = {
    "dishonesty_record": N_("Dishonesty information recorded"),
    "dishonesty_record_corrected": N_("Dishonesty information corrected"),
    "objection_filed": N_("Objection filed"),
    "objection_forwarded": N_("Objection forwarded to the provider"),
    "objection_escalated": N_("Objection overdue: escalated"),
    "objection_corrected": N_("Objection: record corrected"),
    "objection_upheld": N_("Objection: record upheld"),
    "objection_withdrawn": N_("Objection withdrawn"),
    "repair_filed": N_("Repair applied for"),
    "repair_escalated": N_("Repair overdue: escalated"),
    "repair_approved": N_("Repair approved"),
    "repair_rejected": N_("Repair rejected"),
}
