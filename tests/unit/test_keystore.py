"""Member keys in encrypted keystore files, through the CLI as a member would create them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.errors import InvalidInput
from ledger.keystore import create_keystore, load_keystore

PASSWORD = "correct horse battery"


def test_keys_create_writes_an_encrypted_private_file(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    result = CliRunner().invoke(app, ["keys", "create", str(path)], env={"LEDGER_KEY_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    address = result.output.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["crypto"]["kdf"] == "scrypt" and address[2:].lower() == stored["address"].lower()
    assert load_keystore(path, PASSWORD).address == address


def test_wrong_password_short_password_and_overwrite_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    create_keystore(path, PASSWORD)
    with pytest.raises(InvalidInput, match="wrong password"):
        load_keystore(path, "not the password")
    with pytest.raises(InvalidInput, match="refusing to overwrite"):
        create_keystore(path, PASSWORD)
    with pytest.raises(InvalidInput, match="at least 8"):
        create_keystore(tmp_path / "other.json", "short")
    result = CliRunner().invoke(app, ["keys", "create", str(path)], env={"LEDGER_KEY_PASSWORD": PASSWORD})
    assert result.exit_code == 1 and "refusing to overwrite" in result.output


@pytest.mark.parametrize("content", ["{}", '{"version": 3}', "[]", '{"version": 3, "crypto": {}}', "no"])
def test_a_file_that_is_not_a_keystore_is_named_so(tmp_path: Path, content: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=r"is not a keystore file|cannot read keystore"):
        load_keystore(path, PASSWORD)
