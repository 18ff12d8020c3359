"""What a reader of the HTML report sees: the verdict, every finding with its step, place, expected
and got, the logs' checkpoints, how the releases were checked, the records and the refusals.

The page is read back with the standard library's HTML parser into headings, paragraphs and
tables of cells, so the tests assert what is shown (text, and the yes/NO and number marks),
not how the markup is laid out.
"""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

from ledger.audit.findings import Finding, Step
from ledger.audit.html import render_html
from ledger.audit.onchain import OnChainCheck
from ledger.audit.report import build_report
from ledger.audit.verifier import verify_offline
from tests.unit.audit import world

Cell = tuple[str | None, str]  # (class, text)


class Page(HTMLParser):
    """Blocks in order: ("h1"|"h2"|"h3", text), ("p", class, text), ("table", headers, rows)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[Any, ...]] = []
        self.title = ""
        self.verdict: tuple[str, str] | None = None
        self.codes: list[str] = []
        self._text: list[str] | None = None
        self._tag = ""
        self._class: str | None = None
        self._headers: list[str] = []
        self._rows: list[list[Cell]] = []
        self._in_code = False
        self._in_style = False
        self.stray: list[str] = []  # text outside any heading, paragraph, cell or title
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class")
        if tag in ("h1", "h2", "h3", "p", "th", "td", "title", "span"):
            self._text, self._tag, self._class = [], tag, cls
        elif tag == "table":
            self._headers, self._rows = [], []
        elif tag == "tr":
            self._rows.append([])
        elif tag == "code":
            self._in_code = True
        elif tag == "style":
            self._in_style = True

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)
        elif not self._in_style and data.strip():
            self.stray.append(data)
        if self._in_code:
            self.codes.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
            return
        if tag == "code":
            self._in_code = False
            return
        if tag == "table":
            self._rows = [r for r in self._rows if r]
            self.blocks.append(("table", tuple(self._headers), [tuple(r) for r in self._rows]))
            return
        if self._text is None or tag != self._tag:
            return
        text = "".join(self._text)
        if tag == "th":
            self._headers.append(text)
            self._rows.pop() if self._rows and not self._rows[-1] else None
            self._text = None
            return
        if tag == "td":
            self._rows[-1].append((self._class, text))
            self._text = None
            return
        if tag == "title":
            self.title = text
        elif tag == "span":
            assert self._class is not None
            self.verdict = (self._class, text)
            self._text, self._tag = [], "p"  # the verdict sits in a paragraph
            return
        elif tag == "p":
            self.blocks.append(("p", self._class, text))
        else:
            self.blocks.append((tag, text))
        self._text = None

    def section(self, heading: str, *, nested: bool = False) -> list[tuple[Any, ...]]:
        """The blocks after the h2 or h3 `heading`, up to the next heading (`nested`: next h2)."""
        start = next(i for i, b in enumerate(self.blocks) if b[0] in ("h2", "h3") and b[1] == heading)
        out = []
        for block in self.blocks[start + 1 :]:
            if block[0] == "h2" or (block[0] == "h3" and not nested):
                break
            out.append(block)
        return out

    def tables(self, heading: str, *, nested: bool = False) -> list[tuple[Any, ...]]:
        return [b for b in self.section(heading, nested=nested) if b[0] == "table"]


def report(**changes: Any) -> dict[str, Any]:
    export = world.export()
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    checks = [OnChainCheck(0, world.B, True, "ALLOWED"), OnChainCheck(1, world.B, None, "pruned")]
    data = copy.deepcopy(
        build_report(export, result, world.DEPLOYMENT, checks, generated_at="2025-06-01").to_json()
    )
    data.update(changes)
    return data


def num(value: str) -> Cell:
    return ("num", value)


def text(value: str) -> Cell:
    return (None, value)


YES, NO, NONE = ("ok", "yes"), ("bad", "NO"), ("muted", "—")


def test_a_clean_report_shows_the_verdict_and_the_summary() -> None:
    page = Page(render_html(report()))
    assert page.title == "credit-ledger audit report"
    assert page.blocks[0] == ("h1", "credit-ledger audit report")
    assert page.verdict == ("verdict clean", "CLEAN — no finding")
    assert [b[1] for b in page.blocks if b[0] == "h2"] == [
        "Summary",
        "Findings",
        "Logs and on-chain checkpoints",
        "Releases (access trail)",
        "Credit records",
        "Credit evaluations (recomputed)",
        "Refusals (platform audit records)",
    ]
    summary, contracts = page.tables("Summary", nested=True)
    assert summary[2] == [
        (text("chain id"), text("31337")),
        (text("chain head audited (block)"), text(str(world.HEAD))),
        (text("deployment block"), text("1")),
        (text("export taken at"), text("2025-01-01T00:00:00+00:00")),
        (text("report generated at"), text("2025-06-01")),
        (text("findings"), num("0")),
    ]
    assert ("h3", "Contracts (from the auditor's deployment manifest)") in page.blocks
    assert contracts[1] == ("contract", "address")
    assert contracts[2] == [(text(n), text(a)) for n, a in sorted(world.ADDRESSES.items())]
    assert world.ADDRESSES["Consents"] in page.codes  # long hex values are set as code
    assert page.section("Findings") == [("p", "ok", "No finding: every check passed.")]


def test_findings_are_shown_with_step_place_expected_and_got_and_escaped() -> None:
    findings = [
        Finding(
            Step.AUTHORIZATION,
            "access-trail",
            7,
            "release <b>not</b> authorized",
            "ALLOWED",
            "NO_COVERING_GRANT",
        ),
        Finding(Step.DEPLOYMENT, None, None, "no code", "contract code", None),
    ]
    data = report(
        verdict="findings",
        findings=[f.to_json() for f in findings],
        findings_by_step={"1 deployment": 1, "4.6 authorization replay": 1},
    )
    html = render_html(data)
    assert "<b>not</b>" not in html and "&lt;b&gt;not&lt;/b&gt;" in html
    page = Page(html)
    assert page.verdict == ("verdict findings", "2 FINDING(S)")
    by_step, items = page.tables("Findings")
    assert by_step[1:] == (
        ("step", "findings"),
        [(text("1 deployment"), num("1")), (text("4.6 authorization replay"), num("1"))],
    )
    assert items[1] == ("step", "check", "log", "entry", "what", "expected", "got")
    assert items[2] == [
        (text("4.6"), text("authorization replay"), text("access-trail"), num("7"),
         text("release <b>not</b> authorized"), text("ALLOWED"), text("NO_COVERING_GRANT")),
        (text("1"), text("deployment"), NONE, NONE, text("no code"), text("contract code"), NONE),
    ]  # fmt: skip


def test_each_log_shows_its_sizes_and_every_checkpoint() -> None:
    data = report()
    data["logs"][1]["checkpoints"][0].update(rebuilt=False, consistent=None, block=1234)
    page = Page(render_html(data))
    note = page.section("Logs and on-chain checkpoints")
    assert note[0][0:2] == ("p", "muted") and note[0][2].startswith("Entries after the latest checkpoint")
    sizes, checkpoints = page.tables("access-trail")
    assert sizes[1:] == (
        ("entries served", "anchored size", "entries not yet anchored"),
        [(num("3"), num("2"), num("1"))],
    )
    assert checkpoints[1] == (
        "from size",
        "to size",
        "root",
        "block",
        "transaction",
        "entries rebuild root",
        "consistent",
    )
    root = data["logs"][0]["checkpoints"][0]["root"]
    assert checkpoints[2][0] == (num("0"), num("1"), text(root), text("30"), text("0x" + "00" * 32), YES, YES)
    records = page.tables("credit-records")[1]
    assert records[2][0][3:] == (
        text("1234"),
        text("0x" + "00" * 32),
        NO,
        NONE,
    )  # a block number: no thousands mark


def test_no_note_on_unanchored_entries_when_every_entry_is_anchored_and_no_checkpoint_said_so() -> None:
    data = report()
    for log in data["logs"]:
        log["unanchored"] = 0
    data["logs"][0]["checkpoints"] = []
    page = Page(render_html(data))
    assert page.section("Logs and on-chain checkpoints") == []
    assert page.section("access-trail")[1] == ("p", "muted", "no checkpoint anchored")


def test_the_releases_section_shows_counts_per_institution_and_how_they_were_checked() -> None:
    data = report()
    data["access"]["per_institution_purpose"][0]["releases"] = 12345
    page = Page(render_html(data))
    counts, replay, reasons = page.tables("Releases (access trail)")
    assert counts[1:] == (
        ("institution", "purpose", "purpose (mask)", "releases"),
        [(text(world.BANK.address), text("credit_assessment"), text("1"), num("12,345"))],
    )
    assert replay[2] == [
        (text("entries in the access trail"), num("3")),
        (text("well-formed releases"), num("3")),
        (text("releases replayed locally from contract events"), num("3")),
        (text("… and confirmed by the contract at their block (both ways)"), num("1")),
        (text("… on which the contract disagrees"), num("0")),
        (text("… not checked on chain (state no longer kept by the node)"), num("1")),
        (text("… checked locally only (not in the sample)"), num("1")),
        (text("releases NOT authorized as recorded"), num("0")),
        (text("sensitivity levels recomputed from the catalogue in force"), num("3")),
        (text("… not recomputed (catalogue document not in the export)"), num("0")),
    ]
    assert ("p", "muted", "Entries checked both ways: 0") in page.section("Releases (access trail)")
    assert reasons[1:] == (("why not checked on chain", "entries"), [(text("pruned"), num("1"))])


def test_the_entries_checked_both_ways_are_listed_up_to_two_hundred() -> None:
    data = report()
    data["replay"]["checked_both_ways_entries"] = list(range(300))
    data["replay"]["checked_both_ways"] = 300
    listed = [b for b in Page(render_html(data)).section("Releases (access trail)") if b[0] == "p"]
    assert listed == [("p", "muted", "Entries checked both ways: " + ", ".join(map(str, range(200))) + " …")]
    data["replay"]["checked_both_ways"] = 201
    listed = [b for b in Page(render_html(data)).section("Releases (access trail)") if b[0] == "p"]
    assert listed[0][2].endswith(", 199 …")
    data["replay"]["checked_both_ways"] = 200
    listed = [b for b in Page(render_html(data)).section("Releases (access trail)") if b[0] == "p"]
    assert listed[0][2].endswith(", 199")


def test_without_releases_the_section_says_so() -> None:
    data = report()
    data["access"]["per_institution_purpose"] = []
    data["replay"].update(checked_both_ways_entries=[], not_checked_on_chain_reasons={})
    blocks = Page(render_html(data)).section("Releases (access trail)")
    assert blocks[0] == ("p", "muted", "no release in the trail")
    assert [b for b in blocks if b[0] == "p"] == [
        ("p", "muted", "no release in the trail"),
        ("p", "muted", ""),
    ]


def test_records_and_refusals_are_shown() -> None:
    data = report()
    data["refusals"]["items"][0]["detail"] = "<script>alert(1)</script>"
    html = render_html(data)
    assert "<script>" not in html
    page = Page(html)
    (records,) = page.tables("Credit records")
    assert records[2] == [
        (text("record leaves in the log"), num("2")),
        (text("stored record versions in the export"), num("2")),
        (text("openings recomputed (salt and record)"), num("2")),
        (text("completeness checked"), YES),
    ]
    by_event, items = page.tables("Refusals (platform audit records)")
    assert by_event[1:] == (("event", "refusals"), [(text("release"), num("1"))])
    assert items[1] == ("at", "actor", "event", "outcome", "detail")
    assert items[2] == [
        (text("2025-01-01T00:00:00+00:00"), text(world.BANK.address), text("release"), text("refused"),
         text("<script>alert(1)</script>")),
    ]  # fmt: skip
    data["refusals"].update(by_event={}, items=[])
    assert Page(render_html(data)).section("Refusals (platform audit records)") == [
        ("p", "muted", "no refusal in the export"),
        ("p", "muted", ""),
    ]


def test_an_export_without_header_shows_no_export_time() -> None:
    page = Page(render_html(report(export=None)))
    assert page.tables("Summary")[0][2][3] == (text("export taken at"), NONE)


def test_a_long_finding_list_is_cut_at_five_thousand_rows() -> None:
    finding = Finding(Step.NONCE, "access-trail", 1, "again").to_json()
    data = report(
        verdict="findings", findings=[finding] * 5_001, findings_by_step={"4.4 request nonce": 5_001}
    )
    page = Page(render_html(data))
    assert page.verdict == ("verdict findings", "5001 FINDING(S)")
    assert len(page.tables("Findings")[1][2]) == 5_000


def test_the_page_is_one_self_contained_document() -> None:
    html = render_html(report())
    assert html.startswith('<!doctype html><html lang="en"><head><meta charset="utf-8">')
    assert html.endswith("</body></html>\n")
    assert "<style>" in html and "src=" not in html and "href=" not in html
    intro = next(b for b in Page(html).blocks if b[0] == "p" and b[1] == "muted")
    assert (
        intro[2].startswith("Verified independently from the chain")
        and "No credit data was needed." in intro[2]
    )


def test_nothing_is_shown_outside_the_headings_paragraphs_and_tables() -> None:
    finding = Finding(Step.NONCE, "access-trail", 1, "again").to_json()
    empty = report()
    empty["access"]["per_institution_purpose"] = []
    empty["replay"].update(checked_both_ways_entries=[], not_checked_on_chain_reasons={})
    empty["refusals"].update(by_event={}, items=[])
    empty["logs"][0]["checkpoints"] = []
    for data in (
        report(),
        report(verdict="findings", findings=[finding], findings_by_step={"4.4 request nonce": 1}),
        empty,
    ):
        page = Page(render_html(data))
        assert page.stray == []
        assert all(code.startswith("0x") for code in page.codes)  # only long hex values are code


def test_key_value_tables_have_no_header_text() -> None:
    page = Page(render_html(report()))
    summary = page.tables("Summary", nested=True)[0]
    replay = page.tables("Releases (access trail)")[1]
    (records,) = page.tables("Credit records")
    assert summary[1] == replay[1] == records[1] == ("", "")


def test_hex_values_longer_than_twenty_characters_are_set_as_code() -> None:
    data = report()
    data["refusals"]["items"][0]["actor"] = "0x" + "a" * 18  # 20 characters: as text
    data["refusals"]["items"][0]["detail"] = "0x" + "b" * 19  # 21 characters: as code
    page = Page(render_html(data))
    assert "0x" + "a" * 18 not in page.codes and "0x" + "b" * 19 in page.codes


def test_the_intro_says_what_was_verified_and_that_no_credit_data_was_needed() -> None:
    intro = next(b for b in Page(render_html(report())).blocks if b[0] == "p" and b[1] == "muted")
    assert intro[2] == (
        "Verified independently from the chain and the logs' entries: checkpoints, completeness and "
        "order of both logs, each release's signed request and its authorization at its block, and the "
        "stored record versions against their log leaves. No credit data was needed."
    )


def test_a_manifest_without_contracts_says_none() -> None:
    data = report()
    data["chain"]["contracts"] = {}
    contracts = Page(render_html(data)).section("Contracts (from the auditor's deployment manifest)")
    assert contracts == [("p", "muted", "none")]


def test_the_evaluations_section_shows_step_6_counts_or_says_it_was_not_run() -> None:
    """Step 6 run: a key-value table without header text, the evaluations checked and those
    recomputed; not run, or a report from before step 6 (no `evaluations` in its JSON):
    one line saying so, and no counts that were never taken."""
    heading = "Credit evaluations (recomputed)"
    page = Page(render_html(report(evaluations={"run": True, "checked": 7, "recomputed": 5})))
    (table,) = page.tables(heading)
    assert table[1:] == (
        ("", ""),
        [
            (text("evaluations checked (step 6)"), num("7")),
            (text("recomputed from their inputs, complete, with no finding"), num("5")),
        ],
    )
    not_run = [("p", "muted", "Not recomputed in this run (step 6 needs the chain).")]
    assert (
        Page(render_html(report(evaluations={"run": False, "checked": 0, "recomputed": 0}))).section(heading)
        == not_run
    )
    older = report()
    del older["evaluations"]
    assert Page(render_html(older)).section(heading) == not_run
