"""Progress reporting: nothing at all by default; with rich, bars on stderr that end at their total."""

from __future__ import annotations

import pytest

from ledger.audit.progress import NO_PROGRESS, RichProgress


def test_no_progress_reports_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with NO_PROGRESS.task("anything", 3) as task:
        task.advance()
        task.advance(2)
    assert capsys.readouterr() == ("", "")


def test_rich_progress_draws_on_stderr_and_completes_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    progress = RichProgress()
    with progress.task("checking logs", 4) as task:
        task.advance()
        task.advance(2)
    out, err = capsys.readouterr()
    assert out == ""
    assert "checking logs" in err and "4/4" in err  # set to its total when the task ends


def test_rich_progress_advances_by_the_amount_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rich.progress

    seen: list[tuple[str, object]] = []
    real_advance = rich.progress.Progress.advance
    real_update = rich.progress.Progress.update

    def advance(self: rich.progress.Progress, task_id: rich.progress.TaskID, advance: float = 1) -> None:
        seen.append(("advance", advance))
        real_advance(self, task_id, advance)

    def update(self: rich.progress.Progress, task_id: rich.progress.TaskID, **kw: object) -> None:
        seen.append(("update", (kw.get("completed"), kw.get("total"))))
        real_update(self, task_id, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(rich.progress.Progress, "advance", advance)
    monkeypatch.setattr(rich.progress.Progress, "update", update)
    with RichProgress().task("a", 10) as task:
        task.advance()
        task.advance(3)
    with RichProgress().task("b", None) as task:
        task.advance(5)
    assert seen == [
        ("advance", 1),
        ("advance", 3),
        ("update", (10, 10)),
        ("advance", 5),
        ("update", (1, 1)),  # no known total: shown as one step done
    ]
    assert "b" in capsys.readouterr().err
