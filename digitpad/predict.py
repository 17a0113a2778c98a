"""Command line: read the digit in image files.

    python -m digitpad.predict IMAGE [IMAGE ...] [--model PATH] [--adapt-from DIR] [--json]

Prints one line per file, worded as the app's verdict: ``digit.png: 7, 100% sure``,
``digit.png: not sure: 4 or 9?`` or ``blank.png: draw a digit``. With ``--json``, one JSON
object per line instead, the API's reading (digitpad.reading.ReadingJSON) with the file's name:
``{"file": ..., "digit": 7, "sure": true, "verdict": "7, 100% sure", "probabilities": [...],
"image28": "data:image/png;base64,...", "adapted": false}``. A file that cannot be read gets a
message on stderr, the others are still read, and the exit status is 1. Exit status 2: the
model, or the ``--adapt-from`` folder, could not be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from digitpad import DEFAULT_MODEL_PATH


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
    from digitpad.files import DataError, ModelError
    from digitpad.labelling import load_labels
    from digitpad.predictor import Predictor
    from digitpad.reading import CANT_READ, read

    try:
        predictor = Predictor.load(args.model, verify=not args.no_verify_model)
        memory = load_labels(predictor, args.adapt_from) if args.adapt_from else ()
    except (ModelError, DataError) as error:
        print(f"digitpad: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        answer = read(predictor, path, memory)
        if answer.problem:
            problem = answer.message.removeprefix(CANT_READ)
            print(f"digitpad: {path}: {problem}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            print(json.dumps({"file": str(path), **answer.as_json()}), flush=True)
        else:
            print(f"{path}: {answer.message}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
