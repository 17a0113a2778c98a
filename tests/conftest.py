"""Shared fixtures: the MNIST copy to test against, the shipped model, a loaded predictor.

``DIGITPAD_MNIST`` may point at a full Keras-layout MNIST ``.npz`` (CI sets it to
``../shared/data/mnist.npz``); without it the tests use the small real sample committed in
``tests/data/mnist_sample.npz``. Nothing is ever downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digitpad import ASSETS_DIR, DEFAULT_MODEL_PATH

TESTS_DIR = Path(__file__).resolve().parent
SAMPLE_MNIST = TESTS_DIR / "data" / "mnist_sample.npz"
ARTIFACTS_DIR = TESTS_DIR / "_artifacts"
# The committed example inputs, named after their digit: "photo_5.jpg" is a 5.
EXAMPLES = sorted((ASSETS_DIR / "examples").glob("*_[0-9].*"))


def expected_digit(path: Path) -> int:
    return int(path.stem.rsplit("_", 1)[1])  # "photo_5.jpg" -> 5


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now, for a test server."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def full_mnist_path() -> Path | None:
    value = os.environ.get("DIGITPAD_MNIST")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The full copy when DIGITPAD_MNIST is set, else the committed sample."""
    return full_mnist_path() or SAMPLE_MNIST


@pytest.fixture(scope="session")
def sample_mnist_path() -> Path:
    return SAMPLE_MNIST


@pytest.fixture(scope="session")
def model_path() -> Path:
    return DEFAULT_MODEL_PATH


@pytest.fixture(scope="session")
def predictor():
    """The shipped model, loaded (and SHA-checked) once for the whole session."""
    from digitpad.predictor import Predictor

    return Predictor.load(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
