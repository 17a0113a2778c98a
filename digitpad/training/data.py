"""Load, validate and split MNIST.

Three sources, one result (:class:`Mnist`, uint8 images with 0 = background, 255 = ink):

- ``load_mnist(None)``: ``keras.datasets.mnist.load_data()`` (downloads once, Keras caches it);
- ``load_mnist("mnist.npz")``: a Keras-layout ``.npz`` with ``x_train y_train x_test y_test``;
- ``load_mnist("folder/")``: the four original IDX files, gzipped or not.

Everything loaded is validated; anything wrong raises :class:`DataError` with a message that
says what is wrong and what to pass instead.

People's own digits, saved by the app, are read by digitpad.collection (:func:`load_digits`).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.conversion import IMAGE_SIZE
from digitpad.files import NPZ_KEYS, DataError
from digitpad.verdict import NUM_CLASSES

log = logging.getLogger(__name__)

NOT_A_DIGIT = -1  # the training label of a drawing that is no digit (digitpad.training.outliers)
# Original file names; mirrors also use "train-images.idx3-ubyte", hence the globs.
IDX_PATTERNS = {
    "x_train": "train-images*idx3-ubyte*",
    "y_train": "train-labels*idx1-ubyte*",
    "x_test": "t10k-images*idx3-ubyte*",
    "y_test": "t10k-labels*idx1-ubyte*",
}
# IDX type codes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
HOW_TO_PASS = (
    "pass --data PATH with a Keras-layout .npz (keys x_train y_train x_test y_test) or a folder "
    "holding the four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz or not)"
)


@dataclass(frozen=True)
class Mnist:
    """MNIST as uint8 arrays: images (N, 28, 28), labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def checksum(self) -> str:
        """SHA-256 over the four arrays' bytes, in NPZ_KEYS order: names the exact data used."""
        digest = hashlib.sha256()
        for key in NPZ_KEYS:
            digest.update(np.ascontiguousarray(getattr(self, key)).tobytes())
        return digest.hexdigest()


def load_mnist(path: str | Path | None = None) -> Mnist:
    """Load MNIST from ``path`` (``.npz`` file or IDX folder), or from Keras when ``None``."""
    if path is None:
        arrays = _load_from_keras()
        source = "keras.datasets.mnist"
    else:
        path = Path(path).expanduser()
        if not path.exists():
            raise DataError(f"{path} does not exist; {HOW_TO_PASS}.")
        arrays = _load_idx_folder(path) if path.is_dir() else _load_npz(path)
        source = str(path)
    return validate(arrays, source)


def _load_from_keras() -> dict[str, np.ndarray]:
    import keras  # deferred: importing TensorFlow takes seconds

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # URLError, HTTPError, "URL fetch failure", SSL errors...
        raise DataError(
            f"Could not download MNIST through keras.datasets.mnist.load_data() ({error}). "
            f"Without network access, {HOW_TO_PASS}."
        ) from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in NPZ_KEYS if key not in npz.files]
            if missing:
                raise DataError(
                    f"{path} has keys {sorted(npz.files)} but lacks {missing}; {HOW_TO_PASS}."
                )
            return {key: npz[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except Exception as error:  # not a zip, truncated, pickled objects, ...
        raise DataError(f"{path} is not a readable .npz file ({error}); {HOW_TO_PASS}.") from error


def _load_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, pattern in IDX_PATTERNS.items():
        matches = sorted(folder.glob(pattern))
        if not matches:
            raise DataError(f"{folder} has no file matching {pattern!r}; {HOW_TO_PASS}.")
        # Prefer the uncompressed file when both are there (it is what gunzip left behind).
        matches.sort(key=lambda p: p.suffix == ".gz")
        arrays[key] = read_idx(matches[0])
    return arrays


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzipped or raw) into a numpy array of its declared shape."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise DataError(f"{path} could not be read or un-gzipped ({error}).") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise DataError(
            f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'}); "
            f"{HOW_TO_PASS}."
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its header.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path} declares shape {shape} ({expected} bytes of data) but holds "
            f"{len(raw) - header} bytes: the file is truncated or corrupt; download it again."
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def validate(arrays: dict[str, np.ndarray], source: str) -> Mnist:
    """Check shapes, dtypes, label range and counts; return :class:`Mnist` or raise DataError."""
    for split in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        where = f"{source}: x_{split}"
        if x.ndim != 3 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise DataError(
                f"{where} has shape {x.shape}; MNIST images are (N, 28, 28). {HOW_TO_PASS}."
            )
        if x.dtype != np.uint8:
            raise DataError(
                f"{where} has dtype {x.dtype}; MNIST images are uint8 with 0 = background and "
                f"255 = ink (convert with np.uint8, scaling floats in [0, 1] by 255)."
            )
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataError(
                f"{source}: y_{split} has shape {y.shape} and dtype {y.dtype}; "
                "labels are (N,) integers."
            )
        if len(x) != len(y):
            raise DataError(
                f"{source}: {len(x)} images in x_{split} but {len(y)} labels in y_{split}."
            )
        if len(x) == 0:
            raise DataError(f"{source}: the {split} split is empty.")
        if y.min() < 0 or y.max() >= NUM_CLASSES:
            raise DataError(
                f"{source}: y_{split} has labels from {y.min()} to {y.max()}; digits are 0-9."
            )
    missing = sorted(set(range(NUM_CLASSES)) - set(np.unique(arrays["y_train"]).tolist()))
    if missing:
        raise DataError(f"{source}: the training split has no example of digit(s) {missing}.")
    return Mnist(
        x_train=np.asarray(arrays["x_train"]),
        y_train=np.asarray(arrays["y_train"]).astype(np.uint8),
        x_test=np.asarray(arrays["x_test"]),
        y_test=np.asarray(arrays["y_test"]).astype(np.uint8),
        source=source,
    )


def describe(mnist: Mnist) -> str:
    """A short look at the data, as the tutorials print it."""
    counts = np.bincount(mnist.y_train, minlength=NUM_CLASSES)
    test_counts = np.bincount(mnist.y_test, minlength=NUM_CLASSES)
    return "\n".join(
        [
            f"data: {mnist.source} (sha256 {mnist.checksum[:16]})",
            f"  x_train {mnist.x_train.shape} {mnist.x_train.dtype}, y_train {mnist.y_train.shape}",
            f"  x_test  {mnist.x_test.shape} {mnist.x_test.dtype}, y_test  {mnist.y_test.shape}",
            f"  pixel range {mnist.x_train.min()}..{mnist.x_train.max()}, "
            f"first label y_train[0] = {mnist.y_train[0]}",
            "  train counts per digit: " + " ".join(f"{d}:{n}" for d, n in enumerate(counts)),
            "  test counts per digit:  " + " ".join(f"{d}:{n}" for d, n in enumerate(test_counts)),
        ]
    )


def subsample(mnist: Mnist, n_train: int, n_test: int, seed: int) -> Mnist:
    """A small stratified slice of the data (``n // 10`` of each digit, at least one), for a
    dry run."""
    rng = np.random.default_rng(seed)

    def pick(labels: np.ndarray, n: int) -> np.ndarray:
        per_class = max(1, n // NUM_CLASSES)
        idx = [rng.permutation(np.flatnonzero(labels == d))[:per_class] for d in range(NUM_CLASSES)]
        return np.sort(np.concatenate(idx))

    tr, te = pick(mnist.y_train, n_train), pick(mnist.y_test, n_test)
    return dataclasses.replace(
        mnist,
        x_train=mnist.x_train[tr],
        y_train=mnist.y_train[tr],
        x_test=mnist.x_test[te],
        y_test=mnist.y_test[te],
        source=f"{mnist.source} (dry-run subset)",
    )
