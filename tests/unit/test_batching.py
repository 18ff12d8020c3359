"""The coalescing worker under the release path: batches follow the load, nothing is left unsettled."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from ledger.batching import BatchWorker


class Recorder:
    """Handles batches of futures, optionally blocking on the first one until released."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_on = fail_on
        self.failed: list[tuple[list[int], BaseException]] = []

    def handle(self, batch: list[tuple[int, Future[int]]]) -> None:
        self.entered.set()
        self.gate.wait(5)
        values = [value for value, _ in batch]
        self.batches.append(values)
        if self.fail_on in values:
            raise RuntimeError(f"defect on {self.fail_on}")
        for value, future in batch:
            future.set_result(value * 10)

    def fail(self, batch: list[tuple[int, Future[int]]], exc: BaseException) -> None:
        self.failed.append(([value for value, _ in batch], exc))
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)


def submit(worker: BatchWorker[tuple[int, Future[int]]], value: int) -> Future[int]:
    future: Future[int] = Future()
    worker.put((value, future))
    return future


def test_items_queued_while_a_batch_runs_form_the_next_batch() -> None:
    recorder = Recorder()
    worker = BatchWorker("test", recorder.handle, recorder.fail, max_batch=4)
    recorder.gate.clear()
    first = submit(worker, 0)
    assert recorder.entered.wait(5)  # the worker is busy with [0]
    waiting = [submit(worker, v) for v in range(1, 7)]
    recorder.gate.set()
    assert first.result(5) == 0 and [f.result(5) for f in waiting] == [10, 20, 30, 40, 50, 60]
    worker.close()
    assert recorder.batches == [[0], [1, 2, 3, 4], [5, 6]]  # coalesced, capped at max_batch


def test_a_batch_that_raises_is_settled_by_fail_and_the_worker_goes_on() -> None:
    recorder = Recorder(fail_on=2)
    worker = BatchWorker("test", recorder.handle, recorder.fail, max_batch=1)
    futures = [submit(worker, v) for v in range(4)]
    assert futures[0].result(5) == 0 and futures[1].result(5) == 10
    with pytest.raises(RuntimeError, match="defect on 2"):
        futures[2].result(5)
    assert futures[3].result(5) == 30
    worker.close()
    assert [values for values, _ in recorder.failed] == [[2]]


def test_close_handles_what_is_queued_and_a_later_put_restarts_the_thread() -> None:
    recorder = Recorder()
    worker = BatchWorker("test", recorder.handle, recorder.fail, max_batch=8)
    futures = [submit(worker, v) for v in range(5)]
    worker.close()
    assert all(f.done() for f in futures)
    assert submit(worker, 9).result(5) == 90
    worker.close()
