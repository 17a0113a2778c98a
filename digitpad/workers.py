"""Worker processes, each holding one object, whose methods the server calls.

A Python process runs Python on one core at a time (the GIL). The server's event loop answers
HTTP, runs Gradio's queue and streams results on it; a reading (the conversion and the model, a
few milliseconds of Python and NumPy per input) held it as long again, and while it did, no
request moved. In worker processes the readings run beside the server, on the other cores; the
server only hands them the inputs and takes back the results (`python scripts/load_test.py`
measures both ways: docs/measurements.md, "Under load").

``Workers(factory, args, count)`` starts ``count`` processes (``spawn``: nothing is inherited
from the server's threads); each builds ``factory(*args)`` once. ``call(method, arguments)``
runs that method of one worker's object; ``map`` spreads a list of calls over all of them. A
worker that dies (killed, out of memory) breaks the pool: the call that was running gets
:class:`WorkerStopped` and a fresh pool takes its place for the next calls.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

_held: Any = None  # in a worker process: its object
PARENT_CHECK_SECONDS = 1.0  # how often a worker checks that the server is still there


class WorkerStopped(RuntimeError):
    """A worker process stopped while it held this call (the pool has been replaced)."""


def _start(factory: Callable[..., Any], args: tuple) -> None:
    """In a new worker: build its object, and end with the server. Ctrl+C in a terminal reaches
    the whole process group; the server shuts its workers down itself, so they ignore it."""
    global _held
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    _held = factory(*args)


def _exit_with(parent: int) -> None:
    """Exit once ``parent`` is gone. A server killed outright (SIGKILL, out of memory) cannot stop
    its workers, and they would wait for calls forever: each holds its own end of the queue."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _run(method: str, arguments: tuple) -> Any:
    return getattr(_held, method)(*arguments)


def _ready() -> bool:
    return _held is not None


class Workers:
    """``count`` processes, each holding ``factory(*args)``; thread-safe."""

    def __init__(self, factory: Callable[..., Any], args: tuple, count: int) -> None:
        if count < 1:
            raise ValueError(f"at least one worker process, not {count}")
        self.factory, self.args, self.count = factory, args, count
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self.warm_up()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.count,
            mp_context=get_context("spawn"),
            initializer=_start,
            initargs=(self.factory, self.args),
        )

    def warm_up(self) -> None:
        """Start every process and build its object now, not on the first request."""
        pool = self._pool
        started = [pool.submit(_ready) for _ in range(self.count * 2)]  # one new process each
        for future in started:
            future.result()

    def call(self, method: str, arguments: tuple = ()) -> Any:
        """``method(*arguments)`` of one worker's object. Raises what it raises, or
        :class:`WorkerStopped`."""
        return self._wait(self._submit(method, arguments))

    def map(self, method: str, calls: Sequence[tuple]) -> list[Any]:
        """``method(*arguments)`` for each tuple of ``calls``, spread over the workers, in order."""
        futures = [self._submit(method, arguments) for arguments in calls]
        return [self._wait(future) for future in futures]

    def close(self) -> None:
        """Stop the processes (after the calls they hold)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, method: str, arguments: tuple) -> Future:
        with self._lock:
            try:
                return self._pool.submit(_run, method, arguments)
            except BrokenProcessPool:  # broken by an earlier call: replace it now
                self._pool = self._new_pool()
                return self._pool.submit(_run, method, arguments)

    def _wait(self, future: Future) -> Any:
        try:
            return future.result()
        except BrokenProcessPool as error:
            # The broken pool refuses the next submit, and _submit replaces it then.
            raise WorkerStopped(str(error) or "a worker process stopped") from error
