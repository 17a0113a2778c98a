"""Keep people's labelled digits: save them safely, tally them, export them.

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

The app calls :func:`save_digit` and :func:`update_tally`; reading a collection back is
digitpad.data's job (:func:`digitpad.data.load_digits`, what the trainer reads).
From the command line:

    python -m digitpad.collect summary DIR                    # counts, model right, mistakes
    python -m digitpad.collect export DIR --out digits.npz    # Keras-layout .npz (MNIST's keys)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from digitpad.data import (
    IMAGE28_SUFFIX,
    IMAGE_SIZE,
    NUM_CLASSES,
    ORIGINAL_STEM,
    RECORD_FORMAT,
    RECORD_SUFFIX,
    DataError,
    DigitRecord,
    check_label,
    load_collection,
    load_records,
    save_npz,
    stratified_split,
)
from digitpad.files import fsync_dir, write_atomic
from digitpad.images import original_bytes, png_bytes, to_uint8
from digitpad.pad import Drawing

log = logging.getLogger(__name__)

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
        "saved": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
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
    record.update(
        label=label, relabelled=datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    )
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


def new_tally() -> dict:
    """An empty tally: {"labelled": 0, "right": 0, "mistakes": [0] * 10}, mistakes by true
    digit."""
    return {"labelled": 0, "right": 0, "mistakes": [0] * NUM_CLASSES}


def update_tally(tally: dict | None, label: int, predicted: int | None, times: int = 1) -> dict:
    """A new tally with one more labelled digit (pure: ``tally`` is not changed); ``times=-1``
    takes one back (an answer the person changed).

    ``label`` is the true digit; ``predicted`` the model's (None when it had no answer, which
    counts as a mistake).
    """
    label = check_label(label)
    old = tally or new_tally()
    right = predicted is not None and int(predicted) == label
    mistakes = list(old["mistakes"])
    if not right:
        mistakes[label] += times
    return {
        "labelled": old["labelled"] + times,
        "right": old["right"] + times * int(right),
        "mistakes": mistakes,
    }


def tally_records(records: list[DigitRecord]) -> dict:
    """The tally of a whole collection (e.g. ``tally_records(load_records(DIR))``)."""
    tally = new_tally()
    for record in records:
        tally = update_tally(tally, record.label, record.predicted)
    return tally


def format_tally(tally: dict | None) -> str:
    """The tally in a line: "3 digits labelled; the model got 2 right (67%). Mistakes per
    digit: 7: 1."."""
    tally = tally or new_tally()
    n, right = tally["labelled"], tally["right"]
    if n == 0:
        return "No digits labelled yet."
    digits = f"digit{'s' if n != 1 else ''}"
    text = f"{n} {digits} labelled; the model got {right} right ({right / n:.0%})."
    wrong = [(d, k) for d, k in enumerate(tally["mistakes"]) if k]
    if wrong:
        text += " Mistakes per digit: " + ", ".join(f"{d}: {k}" for d, k in wrong) + "."
    return text


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
        lines.append("  " + format_tally(tally_records(judged)))
    if len(judged) < len(records):
        lines.append(f"  {len(records) - len(judged)} saved without the model's answer")
    if pending:
        lines.append(
            f"  {pending} unfinished temporary file(s) ignored (a save in progress or interrupted)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m digitpad.collect",
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
            f"note: no examples of digit(s) {missing}; digitpad.data.load_mnist wants all ten in "
            f"x_train, `train_model.py --extra-data` does not."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
