"""The contracts depend on one another's interfaces, never on an implementation file.

A Solidity file the ledger's contracts import must declare no deployable contract: only
interfaces, abstract bases (`contracts/common/`) and libraries. A contract that imported
another's implementation would compile that implementation into its own build and tie
the two together; the interface files (`IMembership.sol`, `IAgreements.sol`, …) are the
only way in. Test harnesses (`contracts/test/`) are left out. Read from the sources, so no
compiler is needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.paths import CONTRACTS_DIR

_IMPORT = re.compile(r'^import\s+\{[^}]*\}\s+from\s+"([^"]+)";', re.MULTILINE)
_CONCRETE_CONTRACT = re.compile(r"^(?<!abstract )contract\s+(\w+)", re.MULTILINE)


def _sources() -> list[Path]:
    return sorted(p for p in CONTRACTS_DIR.rglob("*.sol") if "test" not in p.relative_to(CONTRACTS_DIR).parts)


def concrete_contracts(source: str) -> list[str]:
    """Names of the deployable (neither abstract nor interface nor library) contracts in `source`."""
    return _CONCRETE_CONTRACT.findall(source)


def local_imports(path: Path) -> list[Path]:
    """The project's own files that `path` imports (packages such as OpenZeppelin left out)."""
    return [
        (path.parent / target).resolve()
        for target in _IMPORT.findall(path.read_text(encoding="utf-8"))
        if target.startswith(".")
    ]


def test_the_scanner_tells_contracts_from_bases_and_interfaces() -> None:
    source = (
        "interface IThing {}\nabstract contract Base {}\nlibrary Lib {}\ncontract Thing is IThing, Base {}\n"
    )
    assert concrete_contracts(source) == ["Thing"]


def test_the_scanner_sees_every_contract_and_its_imports() -> None:
    consents = CONTRACTS_DIR / "consents" / "Consents.sol"
    assert concrete_contracts(consents.read_text(encoding="utf-8")) == ["Consents"]
    assert CONTRACTS_DIR / "agreements" / "IAgreements.sol" in local_imports(consents)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(CONTRACTS_DIR).as_posix())
def test_imports_are_interfaces_bases_or_libraries(path: Path) -> None:
    for imported in local_imports(path):
        assert imported.is_file(), f"{path.name} imports a missing file {imported}"
        deployable = concrete_contracts(imported.read_text(encoding="utf-8"))
        assert deployable == [], f"{path.name} imports the implementation of {deployable} ({imported.name})"


@pytest.mark.parametrize(
    "name", ["IMembership", "IAgreements", "IConsents", "ICatalogueRegistry", "ICheckpoints"]
)
def test_each_interface_has_its_own_file(name: str) -> None:
    (found,) = CONTRACTS_DIR.rglob(f"{name}.sol")
    source = found.read_text(encoding="utf-8")
    assert re.search(rf"^interface {name}\b", source, re.MULTILINE)
    assert concrete_contracts(source) == []
