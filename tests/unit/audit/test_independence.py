"""The verifier shares no code path with the writing side (issue 7, "done means").

Only the pure RFC 9162 functions, the chain bindings' value types and readers, the API
request signing of a client, and the error base may be imported by `ledger.audit`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ledger.audit

PACKAGE = Path(ledger.audit.__file__).parent
FORBIDDEN = (
    "ledger.logs",
    "ledger.records",
    "ledger.release",
    "ledger.services",
    "ledger.sdk",
    "ledger.domain",
    "api",
)
ALLOWED = (
    "ledger.audit",
    "ledger.merkle",
    "ledger.chain",
    "ledger.errors",
    "ledger.request_auth",  # the client side of request signing, for --api
    # the published, pure interpreter of the indicator file and the scorecard (step 6); the
    # auditor applies the model's score and grade with its own code (`ledger.audit.evaluations`)
    "ledger.evaluation",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_of_the_verifier_imports_the_writing_side() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imports(path):
            if name == "ledger" or name.startswith(("ledger.", "api")):
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
                assert name.startswith(ALLOWED), f"{path.name} imports {name}, not on the allowed list"


def test_importing_the_verifier_loads_nothing_of_the_writing_side() -> None:
    code = (
        "import sys, ledger.audit, ledger.audit.api_source, ledger.audit.html;"
        f"print([m for m in sys.modules if m.startswith({FORBIDDEN!r})])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
