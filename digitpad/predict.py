"""Command line: recognise the digit in image files.

    python -m digitpad.predict IMAGE [IMAGE ...] [--model PATH] [--json]

Prints one line per file: the digit and the model's confidence (or why there is no digit). With
``--json``, one JSON object per line instead:
``{"file": ..., "digit": 7, "confidence": 0.98, "probabilities": [...], "sure": true,
"message": "7, 98% sure"}``; ``digit``, ``confidence`` and ``probabilities`` are null when no
digit was found. A file that cannot be read gets a message on stderr, the others are still
processed, and the exit status is 1. Exit status 2: the model could not be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from digitpad import DEFAULT_MODEL_PATH

if TYPE_CHECKING:  # the predictor imports the conversion: loaded after the flags are parsed
    from digitpad.handlers import Reading


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m digitpad.predict",
        description="Recognise the handwritten digit in each image file (PNG, JPEG, ...).",
    )
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL_PATH,
        help="the .keras model (default: %(default)s)",
    )
    parser.add_argument(
        "--no-verify-model",
        action="store_true",
        help="skip the SHA-256 check against the metrics.json beside the model",
    )
    parser.add_argument(
        "--adapt-from",
        metavar="DIR",
        type=Path,
        default=None,
        help="adapt the answers to the digits saved in DIR (a demo.py --collect folder)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digitpad.data import DataError
    from digitpad.files import ModelError
    from digitpad.handlers import adapted, owner_memory
    from digitpad.images import ImageError
    from digitpad.predictor import Predictor

    try:
        predictor = Predictor.load(args.model, verify=not args.no_verify_model)
        memory = owner_memory(predictor, args.adapt_from) if args.adapt_from else ()
    except (ModelError, DataError) as error:
        print(f"digitpad: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        try:
            recognition = adapted(predictor.recognise(path), memory)
        except ImageError as error:
            where = "" if str(error).startswith(f"{path}: ") else f"{path}: "
            print(f"digitpad: {where}{error}", file=sys.stderr)
            failed += 1
            continue
        print(
            format_json(path, recognition) if args.json else format_line(path, recognition),
            flush=True,
        )
    return 1 if failed else 0


def format_line(path: Path, recognition: Reading) -> str:
    """``digit.png: 7 (98.2%)``, ``digit.png: 4 (51.0%), not sure: 4 or 9?`` or
    ``blank.png: no digit (draw a digit)``."""
    prediction = recognition.prediction
    if prediction is None:
        return f"{path}: no digit ({recognition.message})"
    line = f"{path}: {prediction.digit} ({prediction.confidence:.1%})"
    return line if prediction.sure else f"{line}, {recognition.message}"


def format_json(path: Path, recognition: Reading) -> str:
    """One JSON object per file: digit, confidence, probabilities, sure, message."""
    prediction = recognition.prediction
    return json.dumps(
        {
            "file": str(path),
            "digit": None if prediction is None else prediction.digit,
            "confidence": None if prediction is None else round(prediction.confidence, 6),
            "probabilities": None
            if prediction is None
            else [round(float(p), 6) for p in prediction.probabilities],
            "sure": None if prediction is None else prediction.sure,
            "message": recognition.message,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
