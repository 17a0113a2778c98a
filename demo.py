"""Serve the digitpad app: draw a digit and watch the model read it.

    python demo.py                          # http://127.0.0.1:7860
    python demo.py --host 0.0.0.0 --port 8080 --model runs/default/digitpad.keras
    python demo.py --share                  # also a temporary public link (needs internet)
    python demo.py --collect my-digits      # keep the digits you label, to fine-tune on them
    python demo.py --adapt-from my-digits   # your private app, adapted to the digits you saved

Gradio's GRADIO_SERVER_NAME and GRADIO_SERVER_PORT set the defaults of --host and --port, which is
how a Hugging Face Space (README front matter ``app_file: demo.py``) serves it on 0.0.0.0:7860.
The app itself is in digitpad/app/ (digitpad/app/launch.py builds and serves it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

START = time.perf_counter()

from digitpad import DEFAULT_MODEL_PATH  # noqa: E402
from digitpad.app.serving import READ_TOGETHER  # noqa: E402

if TYPE_CHECKING:
    from digitpad.predictor import Predictor


def default_host() -> str:
    if "GRADIO_SERVER_NAME" in os.environ:
        return os.environ["GRADIO_SERVER_NAME"]
    return "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"  # a Space must listen on all


def default_workers() -> int:
    """One reading process per core the server's own leaves free, at most as many as readings
    run at once (digitpad.app.launch.CONCURRENCY); at least one."""
    from digitpad.app.launch import CONCURRENCY

    return max(1, min(CONCURRENCY, (os.cpu_count() or 1) - 1))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the digitpad sketchpad app.")
    parser.add_argument(
        "--host", default=default_host(), help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
        help="port to listen on (default: %(default)s)",
    )
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
        "--share", action="store_true", help="also ask Gradio for a temporary public link"
    )
    parser.add_argument(
        "--collect",
        metavar="DIR",
        type=Path,
        default=None,
        help="save each digit labelled with the app's answer buttons in DIR "
        "(default: off; on a public link it would keep strangers' drawings on "
        "this computer); fine-tune on them with train_model.py fine-tune DIR",
    )
    parser.add_argument(
        "--adapt-from",
        metavar="DIR",
        type=Path,
        default=None,
        help="start every session's answers adapted to the digits saved in DIR (a --collect "
        "folder): for your own, private app; the page says it is on, and from how many digits",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="processes that read the digits beside the server's own (0: read in the server's "
        "process); one per core beyond the first, at most two (default: %(default)s)",
    )
    parser.add_argument(
        "--read-together",
        type=int,
        default=READ_TOGETHER,
        metavar="N",
        help="drawings waiting in the queue (the page's pen lifts, /predict_sketch calls) read "
        "together, up to N at once (1: one at a time) (default: %(default)s)",
    )
    parser.add_argument(
        "--auth",
        metavar="USER:PASSWORD",
        default=os.environ.get("DIGITPAD_AUTH"),
        help="ask for this login before showing the app (default: $DIGITPAD_AUTH, else none)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digitpad.app import launch
    from digitpad.app.gradio_internals import GradioChanged, check

    try:
        check()  # Gradio's internals the app relies on are all there
        auth = launch.parse_auth(args.auth)
        collect_dir = launch.writable_folder(args.collect) if args.collect else None
        if not 0 < args.port < 65536:
            raise ValueError(f"--port {args.port}: pass a port from 1 to 65535 (default 7860).")
        if args.workers < 0:
            raise ValueError(f"--workers {args.workers}: pass 0 or more (0: no extra processes).")
        if args.read_together < 1:
            raise ValueError(f"--read-together {args.read_together}: pass 1 or more.")
        problem = launch.port_problem(args.host, args.port)
        if problem:
            raise ValueError(problem)
    except (ValueError, OSError, GradioChanged) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from digitpad.files import ModelError
    from digitpad.predictor import Predictor

    try:
        predictor = Predictor.load(args.model, verify=not args.no_verify_model)  # loaded and warm
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.workers > 0:
        predictor.start_workers(args.workers)
    # `kill`, `docker stop`: stop as Ctrl+C does, so that the reading processes are stopped too
    signal.signal(signal.SIGTERM, stop_serving)
    try:
        return serve(args, predictor, auth, collect_dir)
    except KeyboardInterrupt:  # Ctrl+C or SIGTERM while it was still starting
        return 0
    finally:
        predictor.close()


def stop_serving(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(
    args: argparse.Namespace,
    predictor: Predictor,
    auth: tuple[str, str] | None,
    collect_dir: Path | None,
) -> int:
    """Build the app around the loaded model and serve it until Ctrl+C."""
    from digitpad.app import launch
    from digitpad.files import DataError, read_json
    from digitpad.labelling import load_labels

    try:
        owner = load_labels(predictor, args.adapt_from) if args.adapt_from else ()
    except DataError as error:
        print(f"error: --adapt-from: {error}", file=sys.stderr)
        return 2
    metrics = read_json(args.model.parent / "metrics.json")
    if collect_dir:
        try:
            launch.make_folder(collect_dir)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    demo = launch.build_app(
        predictor,
        metrics=metrics,
        collect_dir=collect_dir,
        owner=owner,
        read_together=args.read_together,
    )
    launch.launch(
        demo, host=args.host, port=args.port, share=args.share, prevent_thread_lock=True, auth=auth
    )
    if collect_dir:
        print(f"* saving labelled digits in {collect_dir}", flush=True)
    if owner:
        print(
            f"* every session adapts to {len(owner)} digits saved in {args.adapt_from}", flush=True
        )
    caveat = launch.model_caveat(args.model, metrics)
    if caveat:
        print(f"* note: {caveat}", flush=True)
    plural = "es" if args.workers > 1 else ""
    workers = f", {args.workers} reading process{plural}" if args.workers > 0 else ""
    print(
        f"* ready in {time.perf_counter() - START:.1f} s (model {args.model}{workers}); "
        "Ctrl+C stops it",
        flush=True,
    )
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
