"""Progress reporting for long audits, behind a small protocol.

The verification steps only call `task(...)` and `advance(n)`; the CLI passes a
`RichProgress` (bars on stderr, so a JSON report on stdout stays clean) and tests
and the API pass nothing (`NO_PROGRESS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

__all__ = ["NO_PROGRESS", "NoProgress", "Progress", "ProgressTask", "RichProgress"]


class ProgressTask(Protocol):
    def advance(self, n: int = 1) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None) -> AbstractContextManager[ProgressTask]: ...


class _NoTask:
    def advance(self, n: int = 1) -> None:
        return None


class NoProgress:
    """Reports nothing."""

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        yield _NoTask()


NO_PROGRESS: Progress = NoProgress()


class _RichTask:
    def __init__(self, progress: Any, task_id: Any) -> None:
        self._progress = progress
        self._task_id = task_id

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task_id, n)


class RichProgress:
    """Progress bars on stderr with `rich` (installed with typer)."""

    def __init__(self) -> None:
        self._progress: Any = None

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        ) as progress:
            task_id = progress.add_task(description, total=total)
            yield _RichTask(progress, task_id)
            progress.update(task_id, completed=total if total is not None else 1, total=total or 1)
