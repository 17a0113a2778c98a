"""Reading many digits from a script: 1,000 drawings in one call against the running app.

    python scripts/benchmark_bulk.py                       # starts demo.py on 127.0.0.1
    python scripts/benchmark_bulk.py --url http://127.0.0.1:7860/ --count 1000

It makes ``--count`` drawings (tests/harness.py's digits, each leaning, turned and squeezed
at random, as people draw them) and reads them three ways, timing each from the script's side:

- in one call to ``/predict_sketches`` through gradio_client (``Client.predict``);
- in one call as plain HTTP, as the curl commands in docs/api.md make it (POST the list, then
  GET the result's event stream);
- one at a time through ``/predict_sketch``, one gradio_client call after another.

Then it checks that the answers are the same, drawing for drawing (digit, "sure", verdict and
the 28x28 image; probabilities to 1e-5), and prints the target (issue 17: 1,000 drawings in at
most 10 s) as met or missed. With ``--images N`` it also reads N image files (the examples in
assets/examples/, in turn) through ``/predict_images``, uploads included in the time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo
sys.path.insert(0, str(REPO_DIR / "tests"))  # and the shared test and benchmark helpers (harness)

TARGET_SECONDS = 10.0  # for 1,000 drawings (issue 17)
SAME_KEYS = ("digit", "sure", "verdict", "image28")


def read_over_http(url: str, endpoint: str, data: list) -> list:
    """One call as curl makes it: POST the inputs, then read the result's event stream."""
    import httpx

    with httpx.Client(base_url=url, timeout=120) as http:
        event = http.post(f"gradio_api/call/{endpoint}", json={"data": data})
        event.raise_for_status()
        stream = http.get(f"gradio_api/call/{endpoint}/{event.json()['event_id']}").text
    kind, payload = None, None
    for line in stream.splitlines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind in ("complete", "error"):
            payload = line.split(":", 1)[1].strip()
    if kind != "complete":
        raise RuntimeError(f"/{endpoint} answered {kind}: {payload}")
    return json.loads(payload)[0]


def timed(what: str, count: int, read) -> tuple[list, float]:
    started = time.perf_counter()
    readings = read()
    seconds = time.perf_counter() - started
    print(f"{what:<44} {seconds:7.2f} s  {seconds / count * 1e3:6.2f} ms each", flush=True)
    return readings, seconds


def differences(these: list[dict], those: list[dict]) -> int:
    """How many readings differ: a different answer, or probabilities beyond 1e-5."""
    different = 0
    for a, b in zip(these, those, strict=True):
        probabilities = a["probabilities"] or [], b["probabilities"] or []
        close = len(probabilities[0]) == len(probabilities[1]) and all(
            abs(x - y) < 1e-5 for x, y in zip(*probabilities)
        )
        different += not (close and all(a[k] == b[k] for k in SAME_KEYS))
    return different


def read_images(client, count: int) -> None:
    """``count`` example files through /predict_images, uploads included; one at a time too."""
    from gradio_client import handle_file

    from harness import EXAMPLES

    files = [handle_file(str(EXAMPLES[i % len(EXAMPLES)])) for i in range(count)]
    bulk, _ = timed(
        f"{count} images, /predict_images",
        count,
        lambda: client.predict(files, api_name="/predict_images"),
    )
    singles, _ = timed(
        f"{count} images, /predict_image one at a time",
        count,
        lambda: [client.predict(f, api_name="/predict_image") for f in files],
    )
    print(f"images: {differences(bulk, singles)} of {count} answered differently")


def run(url: str, count: int, images: int) -> bool:
    from gradio_client import Client

    from harness import varied_drawings

    drawings = [value for _, value in varied_drawings(count)]
    size = sum(map(len, drawings))
    print(f"{count} drawings, {size / 2**20:.2f} MB of strokes as JSON; app at {url}")
    client = Client(url, verbose=False)
    client.predict(drawings[:10], api_name="/predict_sketches")  # warm up
    bulk, seconds = timed(
        "one call, gradio_client (/predict_sketches)",
        count,
        lambda: client.predict(drawings, api_name="/predict_sketches"),
    )
    raw, _ = timed(
        "one call, plain HTTP as curl",
        count,
        lambda: read_over_http(url, "predict_sketches", [drawings]),
    )
    singles, one_by_one = timed(
        "one at a time, gradio_client (/predict_sketch)",
        count,
        lambda: [client.predict(d, api_name="/predict_sketch") for d in drawings],
    )
    print(f"one call is {one_by_one / seconds:.1f}x as fast as one at a time")
    changed = differences(bulk, singles) + differences(raw, singles)
    print(f"answers: {changed} of {2 * count} bulk readings differ from one at a time")
    if images:
        read_images(client, images)
    allowed = TARGET_SECONDS * count / 1000
    met = seconds <= allowed and changed == 0
    print(
        f"target: {count} drawings in at most {allowed:.1f} s, the same answers: "
        f"{seconds:.2f} s, {changed} different {'MET' if met else 'MISSED'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start demo.py on a free port)")
    parser.add_argument("--count", type=int, default=1000, help="drawings (default: %(default)s)")
    parser.add_argument(
        "--images", type=int, default=100, help="image files, 0 for none (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    server = None
    if args.url is None:
        from harness import start_server

        server = start_server()
    try:
        return 0 if run(args.url or server.url, args.count, args.images) else 1
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
