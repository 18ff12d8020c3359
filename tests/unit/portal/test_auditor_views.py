"""The auditor's views: background runs with recorded progress, the report named and linked."""

from __future__ import annotations

import threading

import pytest

from ledger.audit.findings import Finding, Step
from ledger.audit.progress import Progress
from ledger.audit.report import AuditReport
from ledger.domain.catalogue import newest_catalogue
from ledger.errors import LedgerError, NotFound
from ledger.portal.auditor import AuditRun, AuditRuns, RecordingProgress, report_view

CATALOGUE = newest_catalogue()
AUDITOR = "0x" + "a1" * 20


def test_recorded_progress_tells_each_step_how_far_it_is() -> None:
    progress = RecordingProgress()
    with progress.task("reading the trail from the API", 4) as task:
        task.advance(1)
        (step,) = progress.steps()
        assert (step.done, step.finished, step.percent) == (1, False, 25)
        with progress.task("reading the chain (events, checkpoints)", None):
            assert progress.steps()[1].percent == 0
    assert [(s.finished, s.percent) for s in progress.steps()] == [(True, 100), (True, 100)]


def _wait(run: AuditRun) -> None:
    for _ in range(500):
        if run.state != "running":
            return
        threading.Event().wait(0.01)
    raise AssertionError("the run did not finish")


def test_a_run_reports_progress_while_running_then_its_report() -> None:
    go = threading.Event()

    def job(progress: Progress) -> AuditReport:
        with progress.task("checking logs and anchored roots", 2) as task:
            task.advance()
            go.wait(5)
        return AuditReport([], {"verdict": "clean"})

    runs = AuditRuns(job)
    run = runs.start(AUDITOR)
    assert runs.start(AUDITOR) is run  # one run at a time per auditor
    for _ in range(500):
        if run.progress.steps():
            break
        threading.Event().wait(0.01)
    assert run.state == "running" and run.progress.steps()[0].done == 1
    go.set()
    _wait(run)
    assert (run.state, run.report) == ("done", {"verdict": "clean"})
    assert runs.latest(AUDITOR) is run
    assert runs.start(AUDITOR) is not run  # a finished run does not hold the next one back


def test_a_run_is_its_auditors_alone() -> None:
    runs = AuditRuns(lambda progress: AuditReport([], {}))
    run = runs.start(AUDITOR)
    assert runs.get(run.id, AUDITOR) is run
    with pytest.raises(NotFound):
        runs.get(run.id, "0x" + "b2" * 20)
    with pytest.raises(NotFound):
        runs.get("nope", AUDITOR)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (LedgerError("API unavailable: refused"), "API unavailable: refused"),
        (RuntimeError("boom"), "RuntimeError: boom"),
    ],
)
def test_a_failed_run_says_why(error: Exception, message: str) -> None:
    def job(progress: Progress) -> AuditReport:
        raise error

    run = AuditRuns(job).start(AUDITOR)
    _wait(run)
    assert (run.state, run.error, run.report) == ("failed", message, None)


def test_the_report_names_purposes_and_links_findings_to_their_entries() -> None:
    purpose = CATALOGUE.purposes[1]
    findings = [
        Finding(Step.RECORD_VERSION, "credit_records", 5, "commitment differs", "0x01", "0x02").to_json(),
        Finding(Step.DEPLOYMENT, None, None, "another chain").to_json(),
    ]
    report = {
        "verdict": "findings",
        "access": {
            "per_institution_purpose": [
                {"institution": AUDITOR, "purpose": str(1 << purpose.bit), "releases": 2}
            ]
        },
        "findings": findings,
    }
    view = report_view(report, catalogue=CATALOGUE, locale="zh-CN")
    assert view["access"]["per_institution_purpose"][0]["purpose_labels"] == [purpose.name_zh]
    assert [f["entry"] for f in view["findings"]] == [("credit_records", 5), None]
    assert view["steps"]["5.1"] == "record_version"
