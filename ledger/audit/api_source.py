"""Reading the export through the auditors' API instead of from a file.

An auditor member pages through `GET /audit/...` (see `api/routers/audit.py`), each
request signed with its own key under the API's EIP-712 domain. The domain is built
from the auditor's own deployment manifest, never taken from the server. The pages
hold exactly the export's lines, parsed by the same functions as a file.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from ledger.audit.errors import AuditError, ExportFormatError
from ledger.audit.export import (
    AuditExport,
    parse_catalogue,
    parse_entry,
    parse_evaluation_model,
    parse_header,
    parse_record,
    parse_refusal,
)
from ledger.audit.progress import NO_PROGRESS, Progress
from ledger.chain.deploy import Deployment
from ledger.request_auth import api_domain, sign_request

__all__ = ["ApiExportSource"]


class ApiExportSource:
    """The export as the API at `http`'s base URL serves it to `auditor`."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        auditor: LocalAccount,
        deployment: Deployment,
        page_size: int = 2_000,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self._http = http
        self._auditor = auditor
        self._domain = api_domain(deployment.chain_id, deployment.addresses.membership)
        self._page = page_size
        self._progress = progress

    def _get(self, path: str) -> Any:
        headers = sign_request(self._auditor.key, self._domain, "GET", path, b"")
        try:
            response = self._http.get(path, headers=headers)
        except httpx.HTTPError as exc:
            raise AuditError(f"API unavailable: {exc}") from exc
        if response.status_code != 200:
            raise AuditError(f"API refused GET {path}: HTTP {response.status_code} {response.text[:200]}")
        try:
            return response.json()
        except json.JSONDecodeError:
            raise ExportFormatError(f"GET {path}: not JSON") from None

    def read(self) -> AuditExport:
        """Every page: the header, each log's entries, record versions, catalogues, the
        evaluation models, refusals."""
        header = parse_header(self._get("/audit/header"), 0)
        export = AuditExport(header=header)
        with self._progress.task("reading the trail from the API", sum(header.logs.values())) as task:
            for log in sorted(header.logs):
                start: int | None = 0
                while start is not None:
                    page = self._get(f"/audit/logs/{log}/entries?start={start}&limit={self._page}")
                    for item in page["entries"]:
                        export.add_entry(parse_entry(item, 0))
                    task.advance(len(page["entries"]))
                    start = page["next"]
        after: int | None = 0
        while after is not None:
            page = self._get(f"/audit/records?after={after}&limit={self._page}")
            export.records.extend(parse_record(item, 0) for item in page["records"])
            after = page["next"]
        export.catalogues.extend(
            parse_catalogue(item, 0) for item in self._get("/audit/catalogues")["catalogues"]
        )
        export.evaluation_models.extend(
            parse_evaluation_model(item, 0) for item in self._get("/audit/models")["models"]
        )
        after = 0
        while after is not None:
            page = self._get(f"/audit/refusals?after={after}&limit={self._page}")
            export.refusals.extend(parse_refusal(item, 0) for item in page["refusals"])
            after = page["next"]
        return export
