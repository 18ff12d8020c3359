"""A member command's key and API problems end in one clear line and exit 1, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from ledger.cli import app

ASK = ["release", "request", "91410100MA44TL7G2F", "--categories", "tax", "--purpose", "credit_assessment",
       "--agreement", "1"]  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_key_problems_are_named(tmp_path: Path) -> None:
    runner = CliRunner()
    not_a_key = runner.invoke(app, [*ASK, "--key-env", "NOT_A_KEY"], env={"NOT_A_KEY": "hello"})
    assert not_a_key.exit_code == 1 and "NOT_A_KEY holds no private key" in not_a_key.output
    unset = runner.invoke(app, [*ASK, "--key-env", "UNSET_KEY"], env={"UNSET_KEY": None})
    assert unset.exit_code == 1 and "UNSET_KEY is not set" in unset.output
    keystore = tmp_path / "key.json"
    keystore.write_text('{"version": 3}')
    broken = runner.invoke(app, [*ASK, "--keystore", str(keystore)], env={"LEDGER_KEY_PASSWORD": "password"})
    assert broken.exit_code == 1 and "is not a keystore file" in broken.output
    for result in (not_a_key, unset, broken):
        assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error


def test_an_api_that_does_not_answer_is_named() -> None:
    api = f"http://127.0.0.1:{_closed_port()}"
    key = {"MEMBER_KEY": "0x" + "11" * 32}
    by_index = ["records", "proof", "--log-index", "4"]
    for command in (ASK, ["release", "proof", "3"], ["records", "proof", "R-1"], by_index):
        result = CliRunner().invoke(app, [*command, "--api", api, "--key-env", "MEMBER_KEY"], env=key)
        assert result.exit_code == 1, result.output
        assert f"no answer from the API at {api}" in result.output
        assert isinstance(result.exception, SystemExit)


def test_a_record_proof_is_asked_by_id_or_by_log_index_not_both() -> None:
    key = {"MEMBER_KEY": "0x" + "11" * 32}
    for command in (["records", "proof"], ["records", "proof", "R-1", "--log-index", "4"]):
        result = CliRunner().invoke(app, [*command, "--key-env", "MEMBER_KEY"], env=key)
        assert result.exit_code == 1 and "by its id or by --log-index" in result.output, result.output
