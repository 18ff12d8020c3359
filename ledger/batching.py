"""One worker thread that takes whatever has queued up and handles it as one batch.

The release path does its round trips (chain check, record read, trail commit) once per
batch of concurrent releases instead of once per release: while a batch is handled,
the next one queues, so the batch size follows the load by itself (one item when idle,
dozens under load) and no request waits for a timer. The standard library offers
thread pools, which run items one by one, but no such coalescing queue.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BatchWorker"]

T = TypeVar("T")
_log = logging.getLogger(__name__)


class BatchWorker(Generic[T]):
    """Hands queued items, at most `max_batch` at a time, to `handle` on one daemon thread.

    `handle` must settle every item of its batch (typically a future inside it). Should it
    raise anyway, `fail(batch, exc)` settles them, so no caller waits for an answer that
    never comes. The thread starts with the first item and again after `close`.
    """

    def __init__(
        self,
        name: str,
        handle: Callable[[list[T]], None],
        fail: Callable[[list[T], BaseException], None],
        *,
        max_batch: int,
    ) -> None:
        self.name = name
        self._handle = handle
        self._fail = fail
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[T | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, item: T) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._queue.put(item)

    def close(self, timeout: float = 10.0) -> None:
        """Handle what is queued, then stop the thread."""
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=timeout)
                self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._handle(batch)
            except BaseException as exc:  # settle the batch whatever went wrong, keep serving
                _log.exception("%s: batch of %d failed", self.name, len(batch))
                self._fail(batch, exc)
            if stop:
                return
