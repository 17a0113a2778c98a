"""How fast the app answers in a real browser: end of stroke to updated label, and start-up time.

    python scripts/benchmark_browser.py                      # 20 strokes, the shipped model
    python scripts/benchmark_browser.py --strokes 40 --out bench_out/browser.json

Starts ``demo.py`` on 127.0.0.1 on a free port and times it from process start to its first
answer (a photo through the API). Then opens the app in headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright) and, for each of N strokes: clears the drawing pad with
its Clear button, draws a one-stroke digit with the mouse, and measures inside the page from the
``pointerup`` that ends the stroke to the moment the verdict line changes (the label and the
28x28 image are updated in the same render). Prints a table (p50/p95) and writes JSON.

The browser draws in software on a machine without a GPU and shares the CPUs with the server,
so the numbers depend on how busy the CPUs are: the load average is recorded.
The page-driving helpers (``open_chromium``, ``AppPage``) are in tests/harness.py, shared with
the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the shared helpers
from digitpad import DEFAULT_MODEL_PATH
from harness import (  # noqa: E402
    CHROMIUM,
    ONE_STROKE_DIGITS,
    REPO_DIR,
    AppPage,
    Server,
    example_photo,
    open_chromium,
    start_server,
)

TARGET_P50_MS = 400


def stroke_latency(app: AppPage, digit: int) -> tuple[float, str]:
    """Clear, draw a one-stroke digit: ms from its pointerup to the verdict change, and the
    verdict."""
    from digitpad.reading import NO_SKETCH

    app.clear()
    app.page.evaluate("() => { window.__digitpad.up = []; window.__digitpad.verdicts = []; }")
    app.draw_digit(digit)
    app.wait_for_verdict(f"text !== {json.dumps(NO_SKETCH)}")
    timings = app.timings()
    up = timings["up"][-1]
    changed, verdict = next((t, text) for t, text in timings["verdicts"] if t >= up)
    return changed - up, verdict


# --- the benchmark -------------------------------------------------------------------------------


def time_first_answer(server: Server, photo: Path) -> float:
    """Seconds from the process start to its first answer through the API."""
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False)
    client.predict(handle_file(str(photo)), api_name="/predict_image")
    return time.perf_counter() - server.started


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--strokes", type=int, default=20, help="strokes timed (default: %(default)s)"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL_PATH,
        help="the .keras model (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_DIR / "bench_out" / "browser.json",
        help="JSON results (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed strokes first (default: %(default)s)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not CHROMIUM.is_file():
        print(
            f"error: no {CHROMIUM}; install Debian's chromium (apt-get install chromium)",
            file=sys.stderr,
        )
        return 1
    from playwright.sync_api import sync_playwright

    from digitpad import strokes
    from digitpad.app import page as digitpad_app

    load_before = os.getloadavg()
    server = start_server(args.model)
    try:
        serving_s = time.perf_counter() - server.started
        first_answer_s = time_first_answer(server, example_photo())
        samples: list[dict] = []
        with sync_playwright() as playwright:
            browser = open_chromium(playwright)
            app = AppPage(browser, server.url)
            for i in range(args.warmup + args.strokes):
                digit = ONE_STROKE_DIGITS[i % len(ONE_STROKE_DIGITS)]
                ms, verdict = stroke_latency(app, digit)
                if i >= args.warmup:
                    samples.append({"digit": digit, "ms": round(ms, 1), "verdict": verdict})
            chromium_version = browser.version
            app.close()
            browser.close()
    finally:
        server.stop()
    load_after = os.getloadavg()

    latencies = [s["ms"] for s in samples]
    right = sum(s["verdict"].startswith(f"{s['digit']},") for s in samples)
    summary = {
        "strokes": len(samples),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "min_ms": min(latencies),
        "max_ms": max(latencies),
        "target_p50_ms": TARGET_P50_MS,
        "read_right_and_sure": right,
        "startup_serving_s": round(serving_s, 2),
        "startup_first_answer_s": round(first_answer_s, 2),
    }
    record = {
        "summary": summary,
        "samples": samples,
        "app": {
            "pad": "digitpad.strokes (strokes)",
            "pad_width_px": digitpad_app.PAD_WIDTH,
            "pen_radius": strokes.PEN_RADIUS,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "platform": platform.platform(),
            "chromium": chromium_version,
            "python": platform.python_version(),
        },
        "model": str(args.model),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")

    print(
        f"\nstroke end -> updated label, headless Chromium {chromium_version}, "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(
        f"drawing pad {digitpad_app.PAD_WIDTH} px wide, "
        f"{len(samples)} strokes after {args.warmup} untimed\n"
    )
    print(f"  {'p50':>8} {'p95':>8} {'mean':>8} {'min':>8} {'max':>8}   target p50")
    print(
        f"  {summary['p50_ms']:>6.0f}ms {summary['p95_ms']:>6.0f}ms {summary['mean_ms']:>6.0f}ms "
        f"{summary['min_ms']:>6.0f}ms {summary['max_ms']:>6.0f}ms   <= {TARGET_P50_MS} ms "
        f"({'met' if summary['p50_ms'] <= TARGET_P50_MS else 'NOT met'})"
    )
    print(f"\nread right and sure: {right}/{len(samples)} strokes")
    print(
        f"start-up: serving after {serving_s:.1f} s, first answer after {first_answer_s:.1f} s "
        f"(process start -> photo answered through the API)"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
