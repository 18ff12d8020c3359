"""A compilation is announced on stderr while it runs; a cache hit says nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ledger.chain import compile as compiling


def _slow_solc(seconds: float) -> Any:
    def compile_standard(input_json: dict[str, Any], **_: Any) -> dict[str, Any]:
        time.sleep(seconds)
        return {"contracts": {name: {} for name in input_json["sources"]}}

    return compile_standard


def test_a_compilation_says_it_started_that_it_is_running_and_that_it_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "A.sol").write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\n")
    monkeypatch.setattr(compiling.solcx, "compile_standard", _slow_solc(0.35))
    # the compiler is a fake here: the npm toolchain need not be installed beside the code
    # (mutmut runs this test from a copy of the tree without it)
    monkeypatch.setattr(compiling, "_require_toolchain", lambda: None)
    monkeypatch.setattr(compiling, "PROGRESS_EVERY_SECONDS", 0.1)
    cache = tmp_path / "build" / "contracts.json"

    assert compiling.compile_contracts(tmp_path, cache) == {}
    out, err = capsys.readouterr()
    assert out == ""  # progress never mixes with a command's output
    lines = err.splitlines()
    assert lines[0].startswith("· compiling 1 Solidity files with solc ") and "about 20 s" in lines[0]
    assert str(cache) in lines[0]
    assert any(line.startswith("· still compiling the contracts (") for line in lines[1:-1]), lines
    assert lines[-1].startswith("· compiled 0 contracts in ")

    compiling.compile_contracts(tmp_path, cache)  # the cache now answers: nothing to say
    assert capsys.readouterr().err == ""
