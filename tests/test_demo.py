"""demo.py: flags and their defaults (Gradio's and Hugging Face Spaces' environment), and a model
that is missing or corrupt stopping it with a message that says what to do."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR
from digitpad.app import launch
from harness import run_python

pytestmark = pytest.mark.e2e


@pytest.fixture()
def demo(monkeypatch):
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "SPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("demo", REPO_DIR / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults(demo):
    args = demo.parse_args([])
    assert (args.host, args.port, args.model, args.share, args.no_verify_model) == (
        "127.0.0.1",
        7860,
        DEFAULT_MODEL_PATH,
        False,
        False,
    )
    assert args.collect is None  # saving people's drawings is off unless asked for


def test_gradio_environment_sets_the_defaults(demo, monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8080")
    args = demo.parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 8080)
    assert demo.parse_args(["--port", "9000"]).port == 9000  # the flag wins


def test_a_space_listens_on_all_interfaces(demo, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/digitpad")
    assert demo.parse_args([]).host == "0.0.0.0"


def test_missing_model_names_the_command_that_makes_one(demo, tmp_path, capsys):
    assert demo.main(["--model", str(tmp_path / "nothing.keras")]) == 1
    error = capsys.readouterr().err
    assert "nothing.keras" in error and "python train_model.py" in error


@pytest.mark.parametrize("verify", [True, False], ids=["verified", "no-verify-model"])
def test_corrupt_model_says_corrupt(demo, tmp_path, capsys, verify):
    model = tmp_path / "digitpad.keras"
    model.write_bytes(b"PK\x03\x04 not really a zip")
    flags = ["--model", str(model)] + ([] if verify else ["--no-verify-model"])
    assert demo.main(flags) == 1
    assert "corrupt" in capsys.readouterr().err


def test_collect_folder_that_cannot_be_written_is_refused(demo, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert demo.main(["--collect", str(blocker / "digits")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"--collect {blocker / 'digits'}" in error
    assert f"{blocker} is a file; pass a folder." in error
    assert blocker.read_text() == "not a folder"


def test_collect_folder_is_made_only_when_the_app_is_about_to_serve(tmp_path):
    folder = tmp_path / "new" / "digits"
    assert launch.writable_folder(folder) == folder.resolve()
    assert not (tmp_path / "new").exists(), "checked, not created"
    launch.make_folder(folder)
    assert folder.is_dir()


@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536"])
def test_a_port_out_of_range_gets_one_line(demo, capsys, port):
    assert demo.main(["--port", port]) == 2
    error = capsys.readouterr().err
    assert error == f"error: --port {port}: pass a port from 1 to 65535 (default 7860).\n"


def test_an_image_passed_as_the_model_gets_one_line(demo, capsys):
    photo = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
    assert demo.main(["--model", str(photo), "--workers", "0"]) == 1
    error = capsys.readouterr().err
    assert error == (
        f"error: {photo} is not a .keras model; pass the digitpad.keras a `train_model.py` "
        "run saved.\n"
    )


def test_a_model_that_is_no_full_measured_run_is_flagged():
    model = Path("runs/x/digitpad.keras")
    assert launch.model_caveat(model, {"n_test": 10_000, "config": {}}) is None
    assert "never measured" in launch.model_caveat(model, None)
    assert "dry run" in launch.model_caveat(model, {"n_test": 300, "config": {"dry_run": True}})
    assert "on 300 MNIST test images" in launch.model_caveat(model, {"n_test": 300, "config": {}})


def test_importing_demo_loads_and_starts_nothing():
    code = (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('demo', {str(REPO_DIR / 'demo.py')!r});"
        " "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        "print('gradio' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = run_python(code, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_a_busy_port_is_said_at_once_with_what_to_do(demo, capsys, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert demo.main(["--port", str(port), "--collect", str(tmp_path / "digits")]) == 2
    assert not (tmp_path / "digits").exists(), "no empty --collect folder left behind"
    error = capsys.readouterr().err.strip()
    assert error == (
        f"error: --port {port}: another program is listening there; stop it, or "
        f"pass another port (--port {port + 1})."
    )


def test_a_host_that_is_not_this_machine_is_said_at_once(demo, capsys):
    assert launch.port_problem("10.255.255.1", 7860).startswith(
        "--host 10.255.255.1: not an address"
    )
    assert launch.port_problem("127.0.0.1", 0) is None


def test_read_together_takes_one_or_more(demo, capsys):
    assert demo.main(["--read-together", "0"]) == 2
    assert "--read-together 0: pass 1 or more." in capsys.readouterr().err


def test_reading_processes_one_per_spare_core_at_most_two(demo, monkeypatch, capsys):
    for cores, workers in ((1, 1), (2, 1), (3, 2), (16, 2)):
        monkeypatch.setattr(demo.os, "cpu_count", lambda cores=cores: cores)
        assert demo.default_workers() == workers
    assert demo.main(["--workers", "-1"]) == 2
    assert "--workers -1: pass 0 or more" in capsys.readouterr().err


def test_stopped_it_stops_its_reading_processes():
    """`kill` (SIGTERM), as the tests, a terminal or `docker stop` stop it: no process is left."""
    from harness import start_server

    server = start_server(extra=["--workers", "2"])
    deadline = time.monotonic() + 30  # the page is served a moment before the last lines print
    while "* ready in" not in "".join(server.output) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "2 reading processes" in "".join(server.output)
    readers = _children(server.process.pid)
    assert len(readers) >= 2, "the reading processes (and multiprocessing's tracker)"
    server.stop()
    assert server.process.returncode == 0, "".join(server.output)
    deadline = time.monotonic() + 10  # multiprocessing's tracker exits just after the server
    while [pid for pid in readers if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in readers if _running(pid)]


def _children(pid: int) -> list[int]:
    from pathlib import Path

    return [
        int(c)
        for t in Path(f"/proc/{pid}/task").iterdir()
        for c in (t / "children").read_text().split()
    ]


def _running(pid: int) -> bool:
    from pathlib import Path

    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
