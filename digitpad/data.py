"""Load, validate and split MNIST.

Three sources, one result (:class:`Mnist`, uint8 images with 0 = background, 255 = ink):

- ``load_mnist(None)``: ``keras.datasets.mnist.load_data()`` (downloads once, Keras caches it);
- ``load_mnist("mnist.npz")``: a Keras-layout ``.npz`` with ``x_train y_train x_test y_test``;
- ``load_mnist("folder/")``: the four original IDX files, gzipped or not.

Everything loaded is validated; anything wrong raises :class:`DataError` with a message that
says what is wrong and what to pass instead.

People's own digits, saved by the app (``demo.py --collect DIR``, digitpad.collect) or exported
as a ``.npz``, are read here too: :func:`load_digits` is what ``train_model.py --extra-data``
and the fine-tune read.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.files import write_atomic

log = logging.getLogger(__name__)

NUM_CLASSES = 10
NOT_A_DIGIT = -1  # the training label of a drawing that is no digit (digitpad.outliers)
DIGITS = tuple(str(d) for d in range(NUM_CLASSES))  # the labels as people type them
IMAGE_SIZE = 28
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
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


class DataError(ValueError):
    """The data could not be loaded or is not MNIST-shaped; the message says what to do."""


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


def stratified_split(
    labels: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) holding out ``val_fraction`` of each class, reproducibly."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for digit in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_val = int(round(len(idx) * val_fraction))
        if len(idx) > 1:
            n_val = min(max(n_val, 1), len(idx) - 1)  # at least one of each on both sides
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    return np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))


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


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a Keras-layout .npz (compressed), atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{key: arrays[key] for key in NPZ_KEYS})
    write_atomic(path, buffer.getvalue())


# --- people's saved digits: a collection folder (digitpad.collect writes it) -----------------

RECORD_FORMAT = "digitpad-digit/1"
ORIGINAL_STEM = ".original"  # then .png, .jpg, ...
IMAGE28_SUFFIX = ".28x28.png"
RECORD_SUFFIX = ".json"


@dataclass(frozen=True)
class DigitRecord:
    """One saved digit, as read back from its JSON record."""

    id: str
    label: int
    predicted: int | None  # the model's digit when the person labelled it; None if unknown
    confidence: float | None
    saved: str  # ISO 8601, UTC
    image28: Path
    original: Path

    @property
    def correct(self) -> bool:
        return self.predicted == self.label


def check_label(label: object) -> int:
    """An int 0-9 (ints, integral floats, numpy integers and "7"-style strings are accepted)."""
    if isinstance(label, str) and label.strip() in DIGITS:
        label = int(label)
    try:
        value = int(label)
        ok = value == label and not isinstance(label, (bool, np.bool_, str))
    except (TypeError, ValueError):
        ok = False
    if not ok or not 0 <= value < NUM_CLASSES:
        raise ValueError(f"label must be a digit 0-9, got {label!r}")
    return value


def load_records(folder: str | Path) -> list[DigitRecord]:
    """Every complete record in ``folder``, oldest first; broken ones are logged and skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            f"{folder} is not a folder of saved digits (start the app with --collect {folder})."
        )
    records = []
    for path in folder.glob("*" + RECORD_SUFFIX):
        if path.name.startswith("."):
            continue
        try:
            records.append(_parse_record(path))
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("skipping %s: %s", path.name, error)
    return sorted(records, key=lambda r: (r.saved, r.id))


def _parse_record(path: Path) -> DigitRecord:
    record = json.loads(path.read_text())
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise ValueError(f"not a {RECORD_FORMAT} record")
    label = check_label(record["label"])
    predicted = record.get("predicted")
    predicted = None if predicted is None else check_label(predicted)
    confidence = record.get("confidence")
    files = record["files"]
    image28, original = (
        path.parent / Path(files["image28"]).name,
        path.parent / Path(files["original"]).name,
    )
    for file in (image28, original):
        if not file.is_file():
            raise ValueError(f"its image {file.name} is missing")
    return DigitRecord(
        id=str(record["id"]),
        label=label,
        predicted=predicted,
        confidence=None if confidence is None else float(confidence),
        saved=str(record["saved"]),
        image28=image28,
        original=original,
    )


def load_collection(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The saved digits as MNIST arrays: x uint8 (N, 28, 28) with 255 = ink, y uint8 (N,).

    Records whose JSON or 28x28 PNG is broken are logged and skipped, never fatal.
    """
    images, labels = [], []
    for record in load_records(folder):
        try:
            images.append(read_image28(record.image28))
            labels.append(record.label)
        except (OSError, ValueError) as error:
            log.warning("skipping digit %s: %s", record.id, error)
    if not images:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.zeros((0,), np.uint8)
    return np.stack(images), np.asarray(labels, np.uint8)


def read_image28(path: Path) -> np.ndarray:
    """A saved 28x28 PNG -> uint8 (28, 28); ValueError if it is not one."""
    from PIL import Image

    with Image.open(path) as image:
        array = np.asarray(image.convert("L"))
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"{path.name} is {array.shape[1]}x{array.shape[0]}, not 28x28")
    return array


def load_digits(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A collection folder or an exported ``.npz`` -> (x uint8 (N, 28, 28), y uint8 (N,)).

    For an ``.npz`` with MNIST's keys, the train and test parts are joined: the trainer makes its
    own split. Raises :class:`digitpad.data.DataError` with what to pass instead.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(
            f"{path} does not exist; pass a folder of saved digits (`demo.py --collect DIR`) "
            f"or a .npz exported with `python -m digitpad.collect export DIR --out FILE.npz`."
        )
    if path.is_dir():
        return load_collection(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            parts = (
                [("x_train", "y_train"), ("x_test", "y_test")]
                if "x_train" in npz.files
                else [("x", "y")]
            )
            xs = [npz[x] for x, _ in parts]
            ys = [npz[y] for _, y in parts]
    except Exception as error:  # missing keys, not a zip, pickled objects, ...
        raise DataError(
            f"{path} is not a digits .npz with keys {list(NPZ_KEYS)} ({error})."
        ) from error
    x, y = np.concatenate(xs), np.concatenate(ys)
    if (
        x.ndim != 3
        or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE)
        or x.dtype != np.uint8
        or len(x) != len(y)
    ):
        raise DataError(
            f"{path}: expected uint8 images (N, 28, 28) and N labels, "
            f"got {x.shape} {x.dtype} and {y.shape}."
        )
    if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise DataError(f"{path}: labels run from {y.min()} to {y.max()}; digits are 0-9.")
    return x, y.astype(np.uint8)
