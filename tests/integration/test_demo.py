"""`credit-ledger demo` against a real `credit-ledger up` (the README's first command), twice."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.demo import DEMO_KEYSTORE_PASSWORD
from ledger.keystore import load_keystore
from tests.conftest import free_port
from tests.integration.test_platform_up import CLI, Up


def running_up(data_dir: Path, **env: str) -> Iterator[Up]:
    """`credit-ledger up` with `env` on top, stopped (and its devnet with it) afterwards."""
    up = Up(data_dir)
    up.env["LEDGER_ANCHOR_MAX_DELAY_SECONDS"] = "2"  # the worker anchors sooner; the story is the same
    up.env.update(env)
    up.start()
    yield up
    if up.process is not None and up.process.poll() is None:
        up.stop()
    subprocess.run([CLI, "devnet", "down"], env=up.env, check=False, capture_output=True)


@pytest.fixture
def platform_up(tmp_path: Path) -> Iterator[Up]:
    yield from running_up(tmp_path / "data")


def demo(up: Up) -> str:
    result = subprocess.run(
        [CLI, "demo", "--url", up.url], env=up.env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def section(out: str, title: str) -> str:
    """The lines of the step whose title contains `title`."""
    match = re.search(
        rf"^\[\d+\] [^\n]*{re.escape(title)}[^\n]*\n(.*?)(?=^\[\d+\]|^done in)", out, re.M | re.S
    )
    assert match, f"no step {title!r} in:\n{out}"
    return match.group(1)


def test_demo_walks_the_whole_story_and_runs_again(platform_up: Up) -> None:
    out = demo(platform_up)

    assert "operator 1 published v1" in section(out, "catalogue")
    governance = section(out, "governance")
    assert governance.count("2/2, admitted") == 6 and "郑州银行" in governance and "(auditor," in governance
    assert "(district_operator, key" in governance  # who publishes the white list
    assert section(out, "registers three enterprises").count("tx 0x") == 3
    ingest = section(out, "providers submit records")
    assert "行政处罚" in ingest and "社保" in ingest and "纳税" in ingest and "注册登记" in ingest

    masked = section(out, "masked release")
    assert "released MASKED (2 records)" in masked
    assert re.search(r"手机号码=1\d\d\*{4}\d{4}", masked) and "=10万-50万" in masked  # mobile, amount band
    assert re.search(r"receipt: access-trail #0, authorized at block B=\d+", masked)
    raw = section(out, "raw data")
    assert "released RAW (1 record)" in raw and "年度纳税总额（元）=1860000" in raw
    assert re.search(r"手机号码=1\d{10}\b", raw)
    public = section(out, "no grant")
    assert "released public categories (2 records" in public and "行政处罚 administrative_penalty" in public
    assert "身份证号码=410***********" in public  # personal IDs masked even in public categories
    guarantor = section(out, "the guarantor")
    assert "REFUSED (403): release refused at block" in guarantor and "no_covering_grant" in guarantor
    revoked = section(out, "revokes")
    assert revoked.count("revokes grant #") == 2
    assert "REFUSED (403)" in revoked and "no_covering_grant" in revoked
    evaluation = section(out, "scorecard (SYNTHETIC)")
    assert "operator 2 approves: quorum reached" in evaluation
    assert re.search(r"receipt: access-trail #\d+, authorized at block B=\d+", evaluation)
    assert "sees its own evaluation, free" in evaluation
    financing = section(out, "融资服务")
    assert "(district operator) publishes white list 金水区-科技型中小企业-" in financing
    assert "sees itself on the list since" in financing
    assert "eligible" in financing and "✓ 已列入白名单" in financing and "✗" not in financing
    assert re.search(r"applies: one signed grant to 郑州银行 .* → grant #\d+", financing)
    assert "郑州银行 sees 1 application(s)" in financing
    loans = section(out, "贷款报送")
    assert re.search(r"→ version 1, agreement checked active at block \d+", loans)
    assert "(replayed=True)" in loans and "refused 409" in loans
    assert "1 loan(s) approved, 800,000.00 yuan" in loans and "first-time borrowers 1" in loans
    assert "郑州银行 sees the loan volume as: suppressed" in loans  # one enterprise's loan
    assert re.search(r"publishes the \d{4}-\d\d snapshot v1 .*hash 0x", loans)
    anchored = section(out, "(the first release)")
    assert "checked here (RFC 9162)" in anchored
    by_index = r"by its receipt's log index alone: credit-record log #0 is record [0-9a-f-]{36} v1"
    assert re.search(by_index, anchored)
    acting_as_members(out, platform_up)
    assert "done in" in out

    again = demo(platform_up)  # a second run against the same platform: new names, same story
    assert "already published: v1 in force" in again
    assert "released RAW" in again and again.count("REFUSED (403)") == 2
    assert re.search(r"publishes the \d{4}-\d\d snapshot v2 ", section(again, "贷款报送"))
    run_ids = {re.search(r"run ([0-9A-F]{6})", text).group(1) for text in (out, again)}  # type: ignore[union-attr]
    assert len(run_ids) == 2


def acting_as_members(out: str, up: Up) -> None:
    """The demo's keystores are saved under the data directory and the printed CLI line works."""
    shown = section(out, "keystores (DEVELOPMENT ONLY)")
    folder = Path(re.search(r"saved in (\S+) ", shown).group(1))  # type: ignore[union-attr]
    assert folder.parent == Path(up.env["LEDGER_DATA_DIR"]).resolve() / "demo-keys"
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("DEVELOPMENT ONLY") and DEMO_KEYSTORE_PASSWORD in readme
    assert f"open {up.url}/portal, choose the keystore file, password {DEMO_KEYSTORE_PASSWORD}" in shown
    files = sorted(p.name for p in folder.glob("*.json"))
    assert len(files) == 12
    assert {
        "bank.json",
        "auditor.json",
        "district-operator.json",
        "enterprise-3.json",
        "operator-2.json",
    } <= set(files)
    bank = re.search(r"bank\.json\s+(0x[0-9a-fA-F]{40})", shown).group(1)  # type: ignore[union-attr]
    assert load_keystore(folder / "bank.json", DEMO_KEYSTORE_PASSWORD).address == bank
    # the printed command, as printed: a record's proof by log index, signed with a saved keystore
    line = next(line for line in shown.splitlines() if "credit-ledger records proof --log-index" in line)
    password, command = line.split(maxsplit=1)
    arguments = shlex.split(command)
    assert arguments[0] == "credit-ledger"
    env = {**os.environ, password.split("=")[0]: password.split("=", 1)[1]}
    proved = subprocess.run([CLI, *arguments[1:]], env=env, capture_output=True, text=True, timeout=60)
    assert proved.returncode == 0, proved.stderr
    assert json.loads(proved.stdout)["record"]["version"] == 1


def test_an_unreachable_platform_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run([CLI, "demo", "--url", url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"the platform at {url} is not reachable" in result.stderr
    assert "credit-ledger up" in result.stderr
