"""digitpad/workers.py: processes that each hold an object; and the model reading in them
(Predictor.start_workers), with the same answers as in the server's own process."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from digitpad import DEFAULT_MODEL_PATH, strokes
from digitpad.predictor import Predictor
from digitpad.workers import PARENT_CHECK_SECONDS, Workers, WorkerStopped
from harness import varied_drawings


class Napper:
    """What a worker holds in these tests (spawned workers import it from this module)."""

    def pid(self) -> int:
        return os.getpid()

    def nap(self, seconds: float) -> int:
        time.sleep(seconds)
        return os.getpid()

    def fail(self) -> None:
        raise ValueError("as asked")


@pytest.fixture
def nappers():
    workers = Workers(Napper, (), 2)
    yield workers
    workers.close()


def test_calls_run_in_other_processes_and_spread_over_them(nappers):
    pids = set(nappers.map("nap", [(0.3,)] * 4))
    assert len(pids) == 2 and os.getpid() not in pids
    with pytest.raises(ValueError, match="as asked"):
        nappers.call("fail")


def test_a_worker_killed_mid_call_fails_that_call_and_is_replaced(nappers):
    outcome: list[object] = []
    caller = threading.Thread(target=lambda: outcome.append(_catching(nappers, "nap", (30,))))
    caller.start()
    time.sleep(1.0)  # the nap has started in one of the two
    for pid in set(nappers.map("pid", [()] * 8)):
        os.kill(pid, signal.SIGKILL)
    caller.join(timeout=20)
    assert not caller.is_alive() and isinstance(outcome[0], WorkerStopped), outcome
    assert nappers.call("pid") > 0, "a new pool serves the next call"


def test_ctrl_c_in_the_terminal_does_not_stop_the_workers(nappers):
    pid = nappers.call("pid")
    os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    assert len(set(nappers.map("nap", [(0.3,)] * 4))) == 2


def test_workers_end_with_their_server(tmp_path):
    """A server killed outright cannot stop its workers: they notice and exit by themselves."""
    import subprocess
    import sys

    script = (
        "import time\n"
        "from test_workers import Napper\nfrom digitpad.workers import Workers\n"
        "w = Workers(Napper, (), 1)\nprint(w.call('pid'), flush=True)\ntime.sleep(60)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    worker = int(server.stdout.readline())
    server.kill()
    server.wait()
    deadline = time.monotonic() + 10 * PARENT_CHECK_SECONDS
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)


def test_the_model_reads_the_same_in_workers(predictor, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    sources = [strokes.read_drawing(value) for _, value in varied_drawings(40)]
    sources += [str(notes), str(DEFAULT_MODEL_PATH.parent / "examples" / "photo_5.jpg")]
    here = predictor.recognise_many(sources)
    outcome = Predictor.load(DEFAULT_MODEL_PATH)
    outcome.start_workers(2)
    try:
        there = outcome.recognise_many(sources)
        single = outcome.recognise(sources[0])
        with pytest.raises(ValueError, match="notes.png: not a readable image"):
            outcome.recognise(str(notes))
    finally:
        outcome.close()
    for a, b in zip(here, there, strict=True):
        assert a.message == b.message and (a.error is None) == (b.error is None)
        if a.prediction is not None:
            assert np.array_equal(a.image, b.image) and np.array_equal(a.features, b.features)
            assert np.allclose(a.prediction.probabilities, b.prediction.probabilities, atol=1e-6)
    assert single.message == here[0].message


def _catching(workers: Workers, method: str, arguments: tuple) -> object:
    try:
        return workers.call(method, arguments)
    except Exception as error:  # noqa: BLE001 - the test looks at it
        return error


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = open(f"/proc/{pid}/status").read()
    return "\nState:\tZ" not in status
