"""Pure domain rules: identifiers, the credit information catalogue, desensitization,
the publicity periods of dishonesty records (`publicity`), the case states the release
path reads (`cases`) and the names of the platform's logs (`log_names`).

Nothing here touches the network, the database or a framework, so the same rules run
in the API, the workers, the CLI and the auditor's tools, and are tested without fakes.
"""

from ledger.domain.catalogue import (
    Catalogue,
    CatalogueError,
    Category,
    Field,
    FieldError,
    Purpose,
    RecordValidationError,
    default_catalogue,
    load_catalogue,
)
from ledger.domain.identifiers import (
    InvalidIdentifierError,
    ResidentIdCheck,
    UsccCheck,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)
from ledger.domain.masking import MaskingError, mask_record, mask_value

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Category",
    "Field",
    "FieldError",
    "InvalidIdentifierError",
    "MaskingError",
    "Purpose",
    "RecordValidationError",
    "ResidentIdCheck",
    "UsccCheck",
    "default_catalogue",
    "load_catalogue",
    "mask_record",
    "mask_value",
    "uscc_check_char",
    "validate_resident_id",
    "validate_uscc",
]
