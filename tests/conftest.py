"""Shared fixtures, each defined once: the MNIST copy to test against, the shipped model loaded
once, and the real app served in this process.

``DIGITPAD_MNIST`` may point at a full Keras-layout MNIST ``.npz`` (CI sets it to
``../shared/data/mnist.npz``); without it the tests use the small real sample committed in
``tests/data/mnist_sample.npz``. Nothing is ever downloaded. Helpers shared with the benchmarks
(a server in a subprocess, the browser, digits as strokes) are in tests/harness.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digitpad import DEFAULT_MODEL_PATH
from digitpad.app import launch
from digitpad.training.data import Mnist, load_mnist
from harness import free_port

TESTS_DIR = Path(__file__).resolve().parent
SAMPLE_MNIST = TESTS_DIR / "data" / "mnist_sample.npz"
ARTIFACTS_DIR = TESTS_DIR / "_artifacts"


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The full copy when DIGITPAD_MNIST is set, else the committed sample."""
    value = os.environ.get("DIGITPAD_MNIST")
    return Path(value) if value else SAMPLE_MNIST


@pytest.fixture(scope="session")
def sample_mnist_path() -> Path:
    """The committed 1,100-image sample of MNIST (600 train, 500 test)."""
    return SAMPLE_MNIST


@pytest.fixture(scope="session")
def sample() -> Mnist:
    """The committed sample, loaded."""
    return load_mnist(SAMPLE_MNIST)


@pytest.fixture(scope="session")
def predictor():
    """The shipped model, loaded (and SHA-checked) once for the whole session."""
    from digitpad.predictor import Predictor

    return Predictor.load(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave screenshots for a person to look at (git-ignored)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def served(predictor):
    """The real app with the shipped model, served in this process on a free port:
    (the gr.Blocks, its URL without the trailing slash). Closed at the end of the session."""
    from digitpad.files import read_json

    demo = launch.build_app(
        predictor, metrics=read_json(DEFAULT_MODEL_PATH.parent / "metrics.json")
    )
    url = launch.launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True)
    yield demo, url.rstrip("/")
    demo.close()


@pytest.fixture(scope="session")
def client(served):
    """A gradio_client Client of the served app: one session."""
    from gradio_client import Client

    return Client(served[1], verbose=False)
