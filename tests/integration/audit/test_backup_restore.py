"""Backup and restore: a restored database exports the same trail and the audit is clean.

The in-process tests back up a built trail (SQLite and PostgreSQL) and restore it into a
new database against the same chain, as a production restore does (validators keep the
chain). The CLI test walks the devnet procedure: back up while it runs, restore into a
new data directory, and the platform starts against the restored chain and contracts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.backup import BackupError, create_backup, restore_backup, verify_backup_files
from ledger.platform import Platform
from ledger.settings import Settings
from ledger.storage.database import Database
from tests.conftest import free_port
from tests.integration.audit.conftest import export_of, export_text, verifier_for
from tests.integration.audit.trail import Trail
from tests.integration.conftest import new_database
from tests.integration.test_platform_up import CLI


@pytest.fixture
def empty_database_url(platform: Platform, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the platform's kind (a restore never merges into a live one)."""
    with new_database("sqlite" if platform.db.url.startswith("sqlite") else "postgresql", tmp_path) as url:
        yield url


def _undated(export: str) -> str:
    """The export without the moment it was written (its header's only field that differs)."""
    return re.sub(r'"exported_at":"[^"]*"', "", export)


def test_a_restored_database_exports_the_same_trail_and_audits_clean(
    trail: Trail, empty_database_url: str, tmp_path: Path
) -> None:
    platform = trail.platform
    before = export_text(platform, openings=True)
    manifest = create_backup(platform.chain, platform.deployment, platform.db.url, tmp_path / "backup")
    assert manifest.chain_id == platform.chain.chain_id()
    assert set(manifest.files) == {
        "deployment.json",
        "database.dump" if "postgresql" in platform.db.url else "ledger.db",
    }

    restore_backup(tmp_path / "backup", platform.chain, empty_database_url)
    settings = Settings(**{**platform.settings.model_dump(), "database_url": empty_database_url})
    restored = Platform(settings, Database(empty_database_url), platform.chain, platform.deployment)
    assert _undated(export_text(restored, openings=True)) == _undated(before)
    report = verifier_for(restored).verify(export_of(restored, openings=True))
    assert [str(f) for f in report.findings] == []
    assert report.to_json()["verdict"] == "clean"
    _refusals(platform, tmp_path / "backup")


def _refusals(platform: Platform, backup: Path) -> None:
    """A second backup into the same place, a restore over a live database, another chain, damage."""
    with pytest.raises(BackupError, match="not empty"):
        create_backup(platform.chain, platform.deployment, platform.db.url, backup)

    # A restore never merges into the live database: refused, and the live one is untouched.
    before = export_text(platform)
    with pytest.raises(BackupError, match="restore"):
        restore_backup(backup, platform.chain, platform.db.url)
    assert _undated(export_text(platform)) == _undated(before)

    manifest_path = backup / "backup.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["head"]["hash"] = "0x" + "ab" * 32  # a chain that does not hold the backup's block
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="does not hold the backup's head block"):
        restore_backup(backup, platform.chain, platform.db.url)
    assert _undated(export_text(platform)) == _undated(before)

    dump = next(p for p in backup.iterdir() if p.name in ("database.dump", "ledger.db"))
    dump.write_bytes(dump.read_bytes()[:-1] + bytes([dump.read_bytes()[-1] ^ 1]))
    with pytest.raises(BackupError, match="does not match the backup's manifest"):
        verify_backup_files(backup)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_the_devnet_procedure_backs_up_and_restores_chain_and_database(tmp_path: Path) -> None:
    port = str(free_port())
    first = {**os.environ, "LEDGER_DATA_DIR": str(tmp_path / "a"), "LEDGER_DEVNET_PORT": port}
    second = {**first, "LEDGER_DATA_DIR": str(tmp_path / "b")}
    try:
        assert _cli(first, "up", "--no-serve").returncode == 0
        made = _cli(first, "backup", "create", str(tmp_path / "backup"))
        assert made.returncode == 0, made.stderr
        assert "devnet state copied" in made.stderr
    finally:
        _cli(first, "devnet", "down")

    restored = _cli(second, "backup", "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    try:
        assert _cli(second, "devnet", "up").returncode == 0
        again = _cli(second, "deploy")  # the manifest must match the restored chain's code
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already deployed, manifest matches" in again.stdout
    finally:
        _cli(second, "devnet", "down")
    refused = _cli(second, "backup", "restore", str(tmp_path / "backup"))
    assert refused.returncode == 1 and "restore into a new database file" in refused.stderr
