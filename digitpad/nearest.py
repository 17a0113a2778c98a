"""The neighbour index: training digits as the model sees them, to show which ones a digit is like.

The trainer builds it for each model it saves (digitpad.training.neighbours): some digits of each
kind from MNIST's training set and from the world's styles drawn on the pad, with their 28x28
images, labels and the features the model's classifier reads in them (unit length, as
digitpad.memory compares them). It lies beside the model as ``neighbours.npz``, holding the
SHA-256 of the model whose features it holds; ``metrics.json`` records both.

:func:`index_for` loads it once per model file (then from a cache) and checks it: an index built
for another model, or none, is a reason (a line of text) instead of an index, and whatever shows
explanations says so, while reading digits goes on as before. :meth:`NeighbourIndex.nearest` is
one matrix product: the ``k`` nearest by cosine distance.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.files import METRICS_FILENAME, read_json, sha256_file, write_atomic
from digitpad.memory import unit

log = logging.getLogger(__name__)

NEIGHBOURS_FILENAME = "neighbours.npz"  # beside the model it was built for
METRICS_KEY = "neighbours"  # metrics.json's record of it: file, sha256, bytes, model_sha256
DEFAULT_K = 5  # neighbours shown
MAX_K = 50  # the most neighbours anyone may ask for (bounds the answer)

# Why there are no neighbours to show; the reading itself is unaffected.
NO_MODEL_FILE = "no neighbour index: the model was not loaded from a file"
MISSING = "no neighbour index beside this model: build it with `python train_model.py neighbours`"
OUT_OF_DATE = (
    "the neighbour index is out of date (built for another model): rebuild it with "
    "`python train_model.py neighbours`"
)
UNREADABLE = (
    "the neighbour index cannot be read: rebuild it with `python train_model.py neighbours`"
)


@dataclass(frozen=True)
class Neighbour:
    """A training digit near the one explained."""

    digit: int
    image: np.ndarray  # (28, 28) uint8, white ink on black
    distance: float  # cosine distance of the features, 0..2
    source: str  # "mnist", or the style it was drawn in (digitpad.training.styles)


@dataclass(frozen=True, eq=False)
class NeighbourIndex:
    """The index in memory."""

    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int
    features: np.ndarray  # (N, F) float32, unit length
    sources: np.ndarray  # (N,) str
    model_sha256: str  # the model whose features these are

    def nearest(self, features: np.ndarray, k: int = DEFAULT_K) -> list[Neighbour]:
        """The ``k`` (at most MAX_K) digits nearest to ``features`` ((F,), any length: made unit
        here), nearest first."""
        k = max(0, min(int(k), MAX_K, len(self.labels)))
        if k == 0:
            return []
        distance = 1.0 - self.features @ unit(features)  # (N,)
        order = np.argpartition(distance, k - 1)[:k]
        order = order[np.argsort(distance[order], kind="stable")]
        return [
            Neighbour(int(self.labels[i]), self.images[i], float(distance[i]), str(self.sources[i]))
            for i in order
        ]


def write_index(path: str | Path, index: NeighbourIndex) -> None:
    """``index`` as a compressed ``.npz``, written atomically (features stored as float16)."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        images=index.images.astype(np.uint8),
        labels=index.labels.astype(np.int8),
        features=index.features.astype(np.float16),
        sources=np.asarray(index.sources, dtype=str),
        model_sha256=np.asarray(index.model_sha256),
    )
    write_atomic(path, buffer.getvalue())


def read_index(path: str | Path) -> NeighbourIndex:
    """The index at ``path``. Raises ValueError (or OSError) when it is not one."""
    with np.load(path, allow_pickle=False) as data:
        features = data["features"].astype(np.float32)
        features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-9)
        index = NeighbourIndex(
            images=data["images"],
            labels=data["labels"].astype(np.int64),
            features=features,
            sources=data["sources"],
            model_sha256=str(data["model_sha256"]),
        )
    n = len(index.labels)
    if index.images.shape != (n, 28, 28) or len(features) != n or len(index.sources) != n:
        raise ValueError(f"{path}: its arrays do not match")
    return index


def index_for(model_path: str | Path | None) -> NeighbourIndex | str:
    """The index beside the model file ``model_path``, checked: built for this very model (its
    SHA-256), and the file that the ``metrics.json`` beside it records, if it records one. Else
    why not, in a line (NO_MODEL_FILE, MISSING, OUT_OF_DATE, UNREADABLE). Loaded once per
    version of the two files."""
    if model_path is None:
        return NO_MODEL_FILE
    model_path = Path(model_path)
    path = model_path.with_name(NEIGHBOURS_FILENAME)
    if not path.is_file() or not model_path.is_file():
        return MISSING
    return _checked(str(model_path), _stamp(model_path), str(path), _stamp(path))


def _stamp(path: Path) -> tuple[int, int, int]:
    """A file's version: an atomic write (a rename) always gives it a new inode."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=4)
def _checked(model: str, _model_stamp: tuple, path: str, _stamp: tuple) -> NeighbourIndex | str:
    """:func:`index_for`'s work, cached by the files' paths, times and sizes."""
    try:
        index = read_index(path)
    except (OSError, ValueError, KeyError) as error:
        log.warning("cannot read the neighbour index %s: %s", path, error)
        return UNREADABLE
    if index.model_sha256 != sha256_file(model):
        return OUT_OF_DATE
    metrics = Path(model).with_name(METRICS_FILENAME)
    record = (read_json(metrics) or {}).get(METRICS_KEY) if metrics.is_file() else None
    if isinstance(record, dict) and record.get("sha256") != sha256_file(path):
        return OUT_OF_DATE
    return index


def index_record(path: str | Path, model_sha256: str) -> dict:
    """What metrics.json records of an index file (under METRICS_KEY)."""
    path = Path(path)
    return {
        "file": path.name,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "model_sha256": model_sha256,
    }
