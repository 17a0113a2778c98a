"""Serve the digitpad app: draw a digit and watch the model read it.

    python demo.py                          # http://127.0.0.1:7860
    python demo.py --host 0.0.0.0 --port 8080 --model runs/default/digitpad.keras
    python demo.py --share                  # also a temporary public link (needs internet)

Gradio's GRADIO_SERVER_NAME and GRADIO_SERVER_PORT set the defaults of --host and --port, which is
how a Hugging Face Space (README front matter ``app_file: demo.py``) serves it on 0.0.0.0:7860.
The app itself is in digitpad/app.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

START = time.perf_counter()

from digitpad import DEFAULT_MODEL_PATH  # noqa: E402


def default_host() -> str:
    if "GRADIO_SERVER_NAME" in os.environ:
        return os.environ["GRADIO_SERVER_NAME"]
    return "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"  # a Space must listen on all


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the digitpad sketchpad app.")
    parser.add_argument("--host", default=default_host(),
                        help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port to listen on (default: %(default)s)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH,
                        help="the .keras model (default: %(default)s)")
    parser.add_argument("--no-verify-model", action="store_true",
                        help="skip the SHA-256 check against the metrics.json beside the model")
    parser.add_argument("--share", action="store_true",
                        help="also ask Gradio for a temporary public link")
    parser.add_argument("--auth", metavar="USER:PASSWORD", default=os.environ.get("DIGITPAD_AUTH"),
                        help="ask for this login before showing the app (default: $DIGITPAD_AUTH, "
                             "else none)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from digitpad import app, guard
    from digitpad.predictor import ModelError, Predictor, serve_on_one_thread

    try:
        auth = guard.parse_auth(args.auth)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        serve_on_one_thread()
        predictor = Predictor.load(args.model, verify=not args.no_verify_model)  # loaded and warm
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    metrics = app.read_metrics(args.model.parent / "metrics.json")
    demo = app.build_app(predictor, metrics=metrics)
    app.launch(demo, host=args.host, port=args.port, share=args.share, prevent_thread_lock=True,
               auth=auth)
    print(f"* ready in {time.perf_counter() - START:.1f} s (model {args.model}); Ctrl+C stops it",
          flush=True)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
