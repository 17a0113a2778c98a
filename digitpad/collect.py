"""Keep people's labelled digits: save them safely, load them back, tally them, export them.

A collection is a plain folder. Each saved digit is three files sharing one random id:

    <id>.original.png   what the person gave: the drawing, an array, a sketchpad's composite or
                        an image file; PNG, JPEG, WebP and GIF files are kept byte for byte
    <id>.28x28.png      the 28x28 image the model saw (white ink on black, 255 = ink)
    <id>.json           the record: label, the model's guess and confidence, time, file names
                        (and, for a drawing from the app's pad, its strokes)

Every file is written to a hidden temporary file in the same folder, flushed to disk (fsync)
and renamed into place (``os.replace``, atomic on one file system). The record is written last,
so a digit counts only once both images are complete: a crash mid-save leaves at most a stray
PNG or a ``.*.tmp`` file, which the loader ignores. Ids are uuid4, so two people (threads or
processes) saving at once never write the same file, and there is no shared index to contend
for. Files are created readable by their owner only (``mkstemp``): they are strangers' drawings.

The app calls :func:`save_digit` and :func:`update_tally`; the trainer calls :func:`load_digits`.
From the command line:

    python -m digitpad.collect summary DIR                    # counts, model right, mistakes
    python -m digitpad.collect export DIR --out digits.npz    # Keras-layout .npz (MNIST's keys)
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from digitpad.data import IMAGE_SIZE, NPZ_KEYS, NUM_CLASSES, DataError, save_npz, stratified_split

log = logging.getLogger(__name__)

RECORD_FORMAT = "digitpad-digit/1"
ORIGINAL_STEM = ".original"  # then .png, .jpg, ...
IMAGE28_SUFFIX = ".28x28.png"
RECORD_SUFFIX = ".json"
DIGITS = tuple(str(d) for d in range(NUM_CLASSES))


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


# --- saving -----------------------------------------------------------------------------------


def save_digit(folder: str | Path, original, image28, label: int, prediction=None, *,
               strokes=None) -> Path:
    """Save one labelled digit into ``folder`` (created if needed); return its JSON record's path.

    ``original``: whatever the person gave: a Gradio ImageEditor value (a dict; its
    ``"composite"`` is saved), a PIL image, an array (H, W), (H, W, 3) or (H, W, 4), uint8 or
    float in [0, 1], image bytes, or a path to an image file. Files and bytes in a web format
    (PNG, JPEG, WebP, GIF) are kept as they are, so a phone photo keeps its quality and EXIF and
    is not re-encoded as a PNG five times its size; everything else is stored as PNG.
    ``image28``: the model's input, (28, 28) float in [0, 1] (``Recognition.image``) or uint8.
    ``label``: the true digit, 0-9, as the person says.
    ``prediction``: the model's answer, a :class:`digitpad.predictor.Prediction` or
    ``Recognition`` (digit, confidence and probabilities are kept), a plain int, or None.
    ``strokes``: for a drawing from the app's pad, its strokes (digitpad.pad.read_strokes), kept in
    the record so the drawing can be drawn again at any size or with another pen.

    Raises ValueError for a label outside 0-9 or an image that cannot be read, before anything
    is written.
    """
    label = _check_label(label)
    original_bytes, original_suffix = _original_file(original)
    image28_png = _png_bytes(_image28_to_pil(image28))
    predicted, confidence, probabilities = _read_prediction(prediction)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digit_id = uuid.uuid4().hex
    files = {"original": digit_id + ORIGINAL_STEM + original_suffix, "image28": digit_id + IMAGE28_SUFFIX}
    _write_atomic(folder / files["original"], original_bytes)
    _write_atomic(folder / files["image28"], image28_png)
    record = {
        "format": RECORD_FORMAT,
        "id": digit_id,
        "label": label,
        "predicted": predicted,
        "confidence": confidence,
        "probabilities": probabilities,
        "saved": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "files": files,
    }
    if strokes is not None:
        record["strokes"] = [np.round(np.asarray(s, dtype=float), 4).tolist() for s in strokes]
    record_path = folder / (digit_id + RECORD_SUFFIX)
    _write_atomic(record_path, (json.dumps(record, indent=1) + "\n").encode())  # last: commits
    _fsync_dir(folder)
    log.info("saved digit %s (label %d, predicted %s) in %s", digit_id, label, predicted, folder)
    return record_path


def _check_label(label) -> int:
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


def _read_prediction(prediction) -> tuple[int | None, float | None, list[float] | None]:
    prediction = getattr(prediction, "prediction", prediction)  # a Recognition: its Prediction
    if prediction is None:
        return None, None, None
    probabilities = getattr(prediction, "probabilities", None)
    if probabilities is not None:  # a digitpad.predictor.Prediction
        probs = [round(float(p), 6) for p in np.asarray(probabilities).reshape(-1)]
        return int(prediction.digit), round(float(prediction.confidence), 6), probs
    return _check_label(prediction), None, None


# Image files kept byte for byte, by the format PIL reads in them: the suffix they are saved with.
KEPT_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}


def _original_file(original) -> tuple[bytes, str]:
    """What to write as the original: (file contents, suffix). ValueError if it is no image."""
    from PIL import Image

    data = None
    if isinstance(original, (bytes, bytearray)):
        data = bytes(original)
    elif isinstance(original, (str, os.PathLike)):
        try:
            data = Path(original).read_bytes()
        except OSError as error:
            raise ValueError(f"cannot read the image to save ({error})") from error
    if data is not None:
        try:
            with Image.open(io.BytesIO(data)) as opened:
                kept = KEPT_FORMATS.get(opened.format)
                if kept:
                    opened.load()  # the whole file decodes, not just its header
                    return data, kept
        except Exception as error:  # PIL raises many kinds for a broken file
            raise ValueError(f"cannot read the image to save ({error})") from error
        original = data  # another format (TIFF, BMP, ...): stored as PNG below
    return _png_bytes(_to_pil(original)), ".png"


def _to_pil(image):
    """Any image the app or a caller may hold -> a PIL image (not converted, not resized)."""
    from PIL import Image

    if isinstance(image, dict):  # gr.ImageEditor / gr.Sketchpad value: what the person saw
        layers = [layer for layer in image.get("layers") or [] if layer is not None]
        candidates = [image.get("composite"), image.get("background"), *layers[:1]]
        image = next((c for c in candidates if c is not None), None)
    if image is None:
        raise ValueError("no image to save (the sketchpad value is empty)")
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, (str, os.PathLike, bytes, bytearray)) or hasattr(image, "read"):
        if isinstance(image, (bytes, bytearray)):
            image = io.BytesIO(image)
        try:
            with Image.open(image) as opened:
                opened.load()
                return opened.copy()
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read the image to save ({error})") from error
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)) or array.size == 0:
        raise ValueError(f"cannot save an array of shape {array.shape} as an image")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return Image.fromarray(_as_uint8(array))


def _as_uint8(array: np.ndarray) -> np.ndarray:
    """bool, float in [0, 1] (or [0, 255]) or any integer array -> uint8."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    scale = np.issubdtype(array.dtype, np.floating) and np.nanmax(array, initial=0.0) <= 1.0
    array = array.astype(np.float64) * (255.0 if scale else 1.0)
    return np.clip(np.nan_to_num(np.rint(array)), 0, 255).astype(np.uint8)


def _image28_to_pil(image28):
    from PIL import Image

    if isinstance(image28, Image.Image):
        image28 = np.asarray(image28.convert("L"))
    array = np.asarray(image28)
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"image28 must have shape (28, 28), got {array.shape}")
    return Image.fromarray(_as_uint8(array))  # floats in [0, 1] are scaled to 0..255


def _png_bytes(image) -> bytes:
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):  # e.g. F, CMYK
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file, or the whole new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    """Make the renames durable too (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- loading ----------------------------------------------------------------------------------


def load_records(folder: str | Path) -> list[DigitRecord]:
    """Every complete record in ``folder``, oldest first; broken ones are logged and skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of saved digits (start the app with --collect {folder}).")
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
    label = _check_label(record["label"])
    predicted = record.get("predicted")
    predicted = None if predicted is None else _check_label(predicted)
    confidence = record.get("confidence")
    files = record["files"]
    image28, original = path.parent / Path(files["image28"]).name, path.parent / Path(files["original"]).name
    for file in (image28, original):
        if not file.is_file():
            raise ValueError(f"its image {file.name} is missing")
    return DigitRecord(
        id=str(record["id"]), label=label, predicted=predicted,
        confidence=None if confidence is None else float(confidence), saved=str(record["saved"]),
        image28=image28, original=original,
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
        raise DataError(f"{path} does not exist; pass a folder of saved digits (written by digitpad.collect.save_digit) "
                        f"or a .npz exported with `python -m digitpad.collect export DIR --out FILE.npz`.")
    if path.is_dir():
        return load_collection(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            parts = [("x_train", "y_train"), ("x_test", "y_test")] if "x_train" in npz.files else [("x", "y")]
            xs = [npz[x] for x, _ in parts]
            ys = [npz[y] for _, y in parts]
    except Exception as error:  # missing keys, not a zip, pickled objects, ...
        raise DataError(f"{path} is not a digits .npz with keys {list(NPZ_KEYS)} ({error}).") from error
    x, y = np.concatenate(xs), np.concatenate(ys)
    if x.ndim != 3 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or x.dtype != np.uint8 or len(x) != len(y):
        raise DataError(f"{path}: expected uint8 images (N, 28, 28) and N labels, got {x.shape} {x.dtype} and {y.shape}.")
    if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise DataError(f"{path}: labels run from {y.min()} to {y.max()}; digits are 0-9.")
    return x, y.astype(np.uint8)


# --- tally ------------------------------------------------------------------------------------


def new_tally() -> dict:
    """An empty tally: {"labelled": 0, "right": 0, "mistakes": [0] * 10} (mistakes by true digit)."""
    return {"labelled": 0, "right": 0, "mistakes": [0] * NUM_CLASSES}


def update_tally(tally: dict | None, label: int, predicted: int | None) -> dict:
    """A new tally with one more labelled digit (pure: ``tally`` is not changed).

    ``label`` is the true digit; ``predicted`` the model's (None when it had no answer, which
    counts as a mistake).
    """
    label = _check_label(label)
    old = tally or new_tally()
    right = predicted is not None and int(predicted) == label
    mistakes = list(old["mistakes"])
    if not right:
        mistakes[label] += 1
    return {"labelled": old["labelled"] + 1, "right": old["right"] + int(right), "mistakes": mistakes}


def tally_records(records: list[DigitRecord]) -> dict:
    """The tally of a whole collection (e.g. ``tally_records(load_records(DIR))``)."""
    tally = new_tally()
    for record in records:
        tally = update_tally(tally, record.label, record.predicted)
    return tally


def format_tally(tally: dict | None) -> str:
    """One short Markdown paragraph for the app's tally panel."""
    tally = tally or new_tally()
    n, right = tally["labelled"], tally["right"]
    if n == 0:
        return "No digits labelled yet."
    text = f"**{n}** digit{'s' if n != 1 else ''} labelled; the model got **{right}** right ({right / n:.0%})."
    wrong = [(d, k) for d, k in enumerate(tally["mistakes"]) if k]
    if wrong:
        text += " Mistakes per digit: " + ", ".join(f"{d}: {k}" for d, k in wrong) + "."
    return text


# --- export -----------------------------------------------------------------------------------


def export_npz(folder: str | Path, path: str | Path, test_fraction: float = 0.2, seed: int = 0) -> dict:
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
    # numpy appends ".npz" to names without it, so the temporary name ends in ".npz".
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp.npz"
    try:
        save_npz(tmp, {"x_train": x[train_idx], "y_train": y[train_idx], "x_test": x[test_idx], "y_test": y[test_idx]})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
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
    pending = len([p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")])
    lines = [
        f"{folder}: {len(records)} saved digits",
        "  per digit: " + " ".join(f"{d}:{n}" for d, n in enumerate(counts)),
    ]
    if judged:
        lines.append("  " + format_tally(tally_records(judged)).replace("**", ""))
    if len(judged) < len(records):
        lines.append(f"  {len(records) - len(judged)} saved without the model's answer")
    if pending:
        lines.append(f"  {pending} unfinished temporary file(s) ignored (a save in progress or interrupted)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m digitpad.collect", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="counts, how often the model was right, mistakes per digit")
    summary.add_argument("folder", type=Path)
    export = commands.add_parser("export", help="write the digits as a Keras-layout .npz")
    export.add_argument("folder", type=Path)
    export.add_argument("--out", type=Path, required=True, help="the .npz to write")
    export.add_argument("--test-fraction", type=float, default=0.2, help="share of each digit in x_test (default: %(default)s)")
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
    print(f"wrote {done['path']}: {done['n_train']} train, {done['n_test']} test digits "
          f"(per digit: {' '.join(f'{d}:{n}' for d, n in enumerate(done['per_digit']))})")
    missing = [d for d, n in enumerate(done["per_digit"]) if n == 0]
    if missing:
        print(f"note: no examples of digit(s) {missing}; digitpad.data.load_mnist wants all ten in "
              f"x_train, `train_model.py --extra-data` does not.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
