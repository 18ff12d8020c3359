"""Fixtures for the audit drills: a built trail, its export, and a verifier for it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from ledger.audit.export import AuditExport, parse_lines
from ledger.audit.verifier import Verifier, VerifyOptions
from ledger.audit_export import write_export
from ledger.platform import Platform
from ledger.records.crypto import Keyring
from tests.integration.audit.trail import Trail, build_trail


def export_text(platform: Platform, *, openings: bool = False) -> str:
    out = io.StringIO()
    keyring = Keyring.from_settings(platform.settings) if openings else None
    write_export(platform.db, platform.deployment, out, keyring=keyring)
    return out.getvalue()


def export_of(platform: Platform, *, openings: bool = False) -> AuditExport:
    return parse_lines(export_text(platform, openings=openings).splitlines())


def verifier_for(
    platform: Platform, *, sample: int | None = None, max_block_age: int | None = None
) -> Verifier:
    """The auditor, holding decisions to the platform's bound on a block's age unless told another."""
    options = VerifyOptions(
        onchain_sample=sample,
        max_block_age_seconds=max_block_age or platform.settings.max_block_age_seconds,
    )
    return Verifier.production(platform.chain.rpc_url, platform.deployment, options=options)


@pytest.fixture
def trail(platform: Platform, operators: list[LocalAccount]) -> Trail:
    return build_trail(platform, operators)


@pytest.fixture
def export_file(trail: Trail, tmp_path: Path) -> Path:
    path = tmp_path / "export.ndjson"
    path.write_text(export_text(trail.platform), encoding="utf-8")
    return path
