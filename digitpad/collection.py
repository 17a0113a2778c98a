"""People's labelled digits on disk: the saved-digit format, saving safely, reading back, export.

A collection is a plain folder. Each saved digit is three files sharing one random id:

    <id>.original.png   what the person gave: the drawing, an array or an image file; PNG,
                        JPEG, WebP and GIF files are kept byte for byte
    <id>.28x28.png      the 28x28 image the model saw (white ink on black, 255 = ink)
    <id>.json           the record: label, the model's guess and confidence, time, file names
                        (and, for a drawing from the app's pad, its strokes)

Every file is written to a hidden temporary file in the same folder, flushed to disk (fsync)
and renamed into place (``os.replace``, atomic on one file system). The record is written last,
so a digit counts only once both images are complete: a crash mid-save leaves at most a stray
PNG or a ``.*.tmp`` file, which the loader ignores. Ids are uuid4, so two people (threads or
processes) saving at once never write the same file, and there is no shared index to contend
for. Files are created readable by their owner only (``mkstemp``): they are strangers' drawings.

The app calls :func:`save_digit` (and :func:`relabel` for a changed answer); :func:`load_digits`
reads a collection, or its export, back as MNIST arrays (what the trainer's ``--extra-data`` and
``fine-tune`` read, and ``--adapt-from`` adapts to).
From the command line:

    python -m digitpad.collection summary DIR                    # counts, model right, mistakes
    python -m digitpad.collection export DIR --out digits.npz    # Keras-layout .npz (MNIST's keys)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from digitpad.conversion import IMAGE_SIZE
from digitpad.files import NPZ_KEYS, DataError, fsync_dir, save_npz, write_atomic
from digitpad.images import original_bytes, png_bytes, to_uint8
from digitpad.strokes import Drawing
from digitpad.tally import Tally
from digitpad.verdict import DIGITS, NUM_CLASSES

log = logging.getLogger(__name__)

# --- the saved-digit format -------------------------------------------------------------------

RECORD_FORMAT = "digitpad-digit/1"
ORIGINAL_STEM = ".original"  # then .png, .jpg, ...
IMAGE28_SUFFIX = ".28x28.png"
RECORD_SUFFIX = ".json"


@dataclass(frozen=True)
class SavedDigit:
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


def load_records(folder: str | Path) -> list[SavedDigit]:
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


def _parse_record(path: Path) -> SavedDigit:
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
    return SavedDigit(
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
    own split. Raises :class:`digitpad.files.DataError` with what to pass instead.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(
            f"{path} does not exist; pass a folder of saved digits (`demo.py --collect DIR`) "
            f"or a .npz exported with `python -m digitpad.collection export DIR --out FILE.npz`."
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


# --- saving -----------------------------------------------------------------------------------


def save_digit(
    folder: str | Path,
    original: object,
    image28: object,
    label: int | str,
    prediction: object = None,
) -> Path:
    """Save one labelled digit into ``folder`` (created if needed); return its JSON record's path.

    ``original``: whatever the person gave, anything digitpad.images reads: a drawing from the pad
    (its strokes are kept in the record too, so it can be drawn again at any size or with another
    pen), a PIL image, an array, image bytes, or a path to an image file. Files and bytes in a web
    format (PNG, JPEG, WebP, GIF) are kept as they are, so a phone photo keeps its quality and
    EXIF and is not re-encoded as a PNG five times its size; everything else is stored as PNG.
    ``image28``: the model's input, (28, 28) float in [0, 1] (``Recognition.image``) or uint8.
    ``label``: the true digit, 0-9, as the person says.
    ``prediction``: the model's answer, a :class:`digitpad.verdict.Prediction` or
    ``Recognition`` (digit, confidence and probabilities are kept), a plain int, or None.

    Raises ValueError (:class:`digitpad.images.ImageError` for an image) for a label outside 0-9
    or an image that cannot be read, before anything is written.
    """
    label = check_label(label)
    original_data, original_suffix = original_bytes(original)
    image28_data = _image28_png(image28)
    predicted, confidence, probabilities = _read_prediction(prediction)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digit_id = uuid.uuid4().hex
    files = {
        "original": digit_id + ORIGINAL_STEM + original_suffix,
        "image28": digit_id + IMAGE28_SUFFIX,
    }
    write_atomic(folder / files["original"], original_data, private=True)
    write_atomic(folder / files["image28"], image28_data, private=True)
    record = {
        "format": RECORD_FORMAT,
        "id": digit_id,
        "label": label,
        "predicted": predicted,
        "confidence": confidence,
        "probabilities": probabilities,
        "saved": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "files": files,
    }
    if isinstance(original, Drawing):
        record["strokes"] = original.as_lists()
    record_path = folder / (digit_id + RECORD_SUFFIX)
    record_data = (json.dumps(record, indent=1) + "\n").encode()
    write_atomic(record_path, record_data, private=True)  # last: it commits the digit
    fsync_dir(folder)
    log.info("saved digit %s (label %d, predicted %s) in %s", digit_id, label, predicted, folder)
    return record_path


def _image28_png(image28: object) -> bytes:
    """The model's 28x28 input (float in [0, 1], or uint8, or a PIL image) as a grey PNG."""
    array = np.asarray(image28.convert("L") if isinstance(image28, Image.Image) else image28)
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"image28 must have shape (28, 28), got {array.shape}")
    return png_bytes(Image.fromarray(to_uint8(array)))  # floats in [0, 1] are scaled to 0..255


def relabel(folder: str | Path, digit_id: str, label: int | str) -> Path:
    """Change the label of a saved digit (the person changed their answer): its record is
    rewritten, atomically, with the new label and when it changed; the images stay."""
    label = check_label(label)
    path = Path(folder) / f"{Path(digit_id).name}{RECORD_SUFFIX}"
    record = json.loads(path.read_text())
    record.update(label=label, relabelled=datetime.now(UTC).isoformat(timespec="milliseconds"))
    write_atomic(path, (json.dumps(record, indent=1) + "\n").encode(), private=True)
    return path


def _read_prediction(prediction: object) -> tuple[int | None, float | None, list[float] | None]:
    prediction = getattr(prediction, "prediction", prediction)  # a Recognition: its Prediction
    if prediction is None:
        return None, None, None
    probabilities = getattr(prediction, "probabilities", None)
    if probabilities is not None:  # a digitpad.predictor.Prediction
        probs = [round(float(p), 6) for p in np.asarray(probabilities).reshape(-1)]
        return int(prediction.digit), round(float(prediction.confidence), 6), probs
    return check_label(prediction), None, None


# --- tally ------------------------------------------------------------------------------------


def tally_records(records: list[SavedDigit]) -> Tally:
    """The tally of a whole collection (e.g. ``tally_records(load_records(DIR))``): the saved
    prediction is both the app's answer and the model's."""
    tally = Tally()
    for record in records:
        tally = tally.count(record.label, record.predicted, record.predicted)
    return tally


# --- export -----------------------------------------------------------------------------------


def export_npz(
    folder: str | Path, path: str | Path, test_fraction: float = 0.2, seed: int = 0
) -> dict:
    """Write the collection as a Keras-layout ``.npz`` (MNIST's keys; uint8, 255 = ink).

    ``test_fraction`` of each digit goes to ``x_test``/``y_test`` (stratified and seeded; at
    least one of each digit on both sides when it has two or more; 0 puts everything in train).
    Returns counts. Raises ValueError when the collection is empty.
    """
    x, y = load_collection(folder)
    if len(x) == 0:
        raise ValueError(f"{folder} holds no saved digits to export")
    if test_fraction == 0:
        train_idx, test_idx = np.arange(len(y)), np.arange(0)
    else:
        train_idx, test_idx = stratified_split(y, test_fraction, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_npz(
        path,
        {
            "x_train": x[train_idx],
            "y_train": y[train_idx],
            "x_test": x[test_idx],
            "y_test": y[test_idx],
        },
    )
    return {
        "path": str(path),
        "n_train": int(len(train_idx)),
        "n_test": int(len(test_idx)),
        "per_digit": np.bincount(y, minlength=NUM_CLASSES).tolist(),
    }


# --- command line -----------------------------------------------------------------------------


def summarise(folder: str | Path) -> str:
    """The text ``summary`` prints."""
    folder = Path(folder)
    records = load_records(folder)
    judged = [r for r in records if r.predicted is not None]  # saved with the model's answer
    counts = np.bincount([r.label for r in records], minlength=NUM_CLASSES)
    pending = len(
        [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    )
    lines = [
        f"{folder}: {len(records)} saved digits",
        "  per digit: " + " ".join(f"{d}:{n}" for d, n in enumerate(counts)),
    ]
    if judged:
        lines.append("  " + tally_records(judged).describe())
    if len(judged) < len(records):
        lines.append(f"  {len(records) - len(judged)} saved without the model's answer")
    if pending:
        lines.append(
            f"  {pending} unfinished temporary file(s) ignored (a save in progress or interrupted)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m digitpad.collection",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser(
        "summary", help="counts, how often the model was right, mistakes per digit"
    )
    summary.add_argument("folder", type=Path)
    export = commands.add_parser("export", help="write the digits as a Keras-layout .npz")
    export.add_argument("folder", type=Path)
    export.add_argument("--out", type=Path, required=True, help="the .npz to write")
    export.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="share of each digit in x_test (default: %(default)s)",
    )
    export.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        if args.command == "summary":
            print(summarise(args.folder))
            return 0
        if not 0 <= args.test_fraction < 1:
            raise ValueError(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
        done = export_npz(args.folder, args.out, args.test_fraction, args.seed)
    except (DataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"wrote {done['path']}: {done['n_train']} train, {done['n_test']} test digits "
        f"(per digit: {' '.join(f'{d}:{n}' for d, n in enumerate(done['per_digit']))})"
    )
    missing = [d for d, n in enumerate(done["per_digit"]) if n == 0]
    if missing:
        print(
            f"note: no examples of digit(s) {missing}; digitpad.training.data.load_mnist wants all ten in "
            f"x_train, `train_model.py --extra-data` does not."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
