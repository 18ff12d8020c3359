"""The API's refusals in words: each error code (or contract error) an act of the portal may
meet, marked for translation, and one sentence per HTTP status for any other code.

A page with signed forms includes them (`roles/refusals.html`, hidden); when the API
refuses an act, `static/roles.js` shows the sentence for the answer's `contract_error` or
`error` (else its status) in the reader's language, followed by the API's own detail,
which names the field or value at fault.
"""

from __future__ import annotations

from typing import Any

from api.portal.i18n import N_

#: error codes and contract errors, in words
REFUSAL_WORDS = {
    # governance (Membership contract)
    "AlreadyMember": N_("This account is already a member."),
    "InvalidAccount": N_("The account is not valid."),
    "InvalidRole": N_("That role cannot be admitted by a proposal."),
    "InvalidInstitutionKind": N_("Only an institution has a kind, and an institution needs one."),
    "InvalidStatusTransition": N_("The member's present status does not allow this change."),
    "InvalidQuorum": N_("The quorum must be at least 1 and at most the number of operators."),
    "ProposalExpired": N_("The proposal has expired."),
    "ProposalAlreadyExecuted": N_("The proposal was already executed."),
    "DuplicateApproval": N_("You have already approved this proposal."),
    "UnknownProposal": N_("There is no such proposal."),
    "NotActiveMember": N_("The signer is not an active member with the role this act needs."),
    "InvalidSigner": N_("The signature is not the signer's."),
    "InvalidAccountNonce": N_("Another act of yours went first; sign again."),
    "SignatureExpired": N_("The signature expired before it reached the chain; sign again."),
    "NotDocumentOwner": N_("Another institution published this product key; choose another key."),
    # enterprises (Membership contract)
    "UnknownUscc": N_("No enterprise is registered with this USCC."),
    "UsccAlreadyRegistered": N_("An enterprise is already registered with this USCC."),
    "invalid_identifier": N_("The USCC is not valid."),
    # catalogue versions (CatalogueRegistry contract)
    "NonIncreasingCatalogueVersion": N_("That catalogue version is not above the version in force."),
    "invalid_catalogue": N_("The catalogue is invalid, or does not keep what earlier versions published."),
    # model versions (ModelRegistry contract)
    "NonexistentModelVersion": N_("There is no such model version."),
    "ModelNotActive": N_("That model version is not active."),
    "DuplicateModel": N_("This model was already proposed as a version."),
    "NonexistentModelProposal": N_("There is no such model proposal."),
    "ModelProposalAlreadyExecuted": N_("The proposal was already executed."),
    "ModelProposalExpired": N_("The proposal has expired."),
    "DuplicateModelApproval": N_("You have already approved this proposal."),
    # loan products
    "eligibility_invalid": N_(
        "An eligibility rule is refused: its field is not one the platform holds, or its operator or "
        "value does not fit that field."
    ),
    "product_invalid": N_("The loan product is incomplete or invalid."),
    "document_mismatch": N_("The signed publication does not match the document."),
    "version_conflict": N_("That version was published with other content: publish the next version."),
    # loan reports
    "invalid_loan_report": N_("The loan report is invalid."),
    "idempotency_key_reused": N_(
        "This idempotency key was already used for another report: a new report needs a new key."
    ),
    "loan_subject_changed": N_("A correction may not move the loan to another enterprise."),
    "loan_not_approved": N_("A repayment status needs an approved decision on the loan first."),
    "agreement_not_active": N_("The agreement is not active, or not yours."),
    "no_application": N_("The enterprise has not applied to you: there is no application to decide."),
    # any act
    "invalid_input": N_("The values are invalid."),
    "unauthenticated": N_("The request's signature was refused: sign in again."),
    "not_authorized": N_("You may not do this."),
    "too_many_refusals": N_("Too many refusals in a short time: wait a moment."),
}

#: any other code, by the answer's HTTP status
STATUS_WORDS = {
    "400": N_("The request was malformed."),
    "401": N_("The request's signature was refused: sign in again."),
    "403": N_("You may not do this."),
    "404": N_("Not found."),
    "409": N_("This conflicts with what the ledger already holds."),
    "413": N_("Too large."),
    "422": N_("The values are invalid."),
    "429": N_("Too many refusals in a short time: wait a moment."),
    "503": N_("The platform cannot reach the chain or the database now; nothing was changed. Try again."),
}


def refusal_context() -> dict[str, Any]:
    """The template values `roles/acts.html`'s `refusals()` shows."""
    return {"refusal_words": REFUSAL_WORDS, "refusal_status_words": STATUS_WORDS}
