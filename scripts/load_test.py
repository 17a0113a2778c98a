"""Load generator: many clients at once against the real app, through Gradio's queue API.

    python scripts/load_test.py                          # starts demo.py on 127.0.0.1, 5,000 requests
    python scripts/load_test.py --input photo            # uploads instead of drawings
    python scripts/load_test.py --requests 700 --clients 16 --out load.json
    python scripts/load_test.py --url http://127.0.0.1:7860/ --pid 1234

Each request is what gradio_client does, in raw HTTP: ``POST /gradio_api/call/<endpoint>``, then
``GET`` the event's server-sent events until ``complete`` or ``error``. With ``--input drawing``
(the default, what a visitor drawing on the pad sends) the request carries the pad's strokes of a
7 to ``/predict_sketch``; with ``--input photo``, a file uploaded once beforehand
(assets/examples/canvas_7.png) to ``/predict_image``. Each client keeps one session for all its
requests, as a browser tab or a gradio_client ``Client`` does (``--sessions client``); with
``--sessions request`` every request is a new session, as separate curl calls are (Gradio then
builds a ~55 KB copy of the page's config for each: a few ms more per request). The clients run in several processes, each an
asyncio loop of httpx requests, so the generator is not the bottleneck (one Python process tops
out at a few hundred requests per second; the server here at far fewer).

Per step (1, 2, 4, ... 64 concurrent clients, each sending its next request when the last is
answered) it prints throughput, p50/p95/p99 latency and errors by kind ("queue full" is
Gradio's answer once more than the queue's max_size events wait; anything else is a failure),
and, for the whole run, the server's RSS before and after and the size of its upload/cache
folder. The targets from issue 6 are printed as met or missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo

STEPS = (1, 2, 4, 8, 16, 32, 64)
EXAMPLE = REPO_DIR / "assets" / "examples" / "canvas_7.png"
TARGET_RATE = 50.0  # predictions/s
TARGET_P95 = 1.0  # s, at 32 clients
TARGET_GROWTH_MB = 50.0  # over 5,000 requests


# --- one client process ------------------------------------------------------------------------


async def one_request(client, url: str, endpoint: str, payload: dict) -> tuple[float, str | None]:
    """(latency in s, None or the kind of error) for one prediction through the queue."""
    started = time.perf_counter()
    try:
        response = await client.post(f"{url}gradio_api/call/{endpoint}", json=payload)
        if response.status_code != 200:
            return time.perf_counter() - started, kind_of(response.text, response.status_code)
        event_id = response.json()["event_id"]
        event = None
        async with client.stream("GET", f"{url}gradio_api/call/{endpoint}/{event_id}") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = line.split(":", 1)[1].strip()
                    if event == "complete":
                        return time.perf_counter() - started, None
                    return time.perf_counter() - started, kind_of(data, 200)
        return time.perf_counter() - started, "no result"
    except Exception as error:  # noqa: BLE001 - counted by kind, the run goes on
        return time.perf_counter() - started, type(error).__name__


def kind_of(text: str, status: int) -> str:
    if "queue" in text.lower() and "full" in text.lower():
        return "queue full"
    return f"HTTP {status}: {text[:80]}" if status != 200 else f"error: {text[:80]}"


async def run_clients(
    url: str, endpoint: str, payload: dict, clients: int, count: int, sessions: str
) -> list:
    import httpx

    results: list[tuple[float, str | None]] = []
    remaining = count
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def loop():
            nonlocal remaining
            # like a browser tab or a gradio_client Client: one session for all of its requests
            mine = (
                payload | {"session_hash": uuid.uuid4().hex[:11]}
                if sessions == "client"
                else payload
            )
            while remaining > 0:
                remaining -= 1
                results.append(await one_request(client, url, endpoint, mine))

        await asyncio.gather(*(loop() for _ in range(clients)))
    return results


def worker(args) -> list:
    return asyncio.run(run_clients(*args))


# --- the run -----------------------------------------------------------------------------------


def upload(url: str, path: Path) -> dict:
    """Upload ``path`` once; the FileData payload every request then refers to."""
    import httpx

    response = httpx.post(
        f"{url}gradio_api/upload", files={"files": (path.name, path.read_bytes())}, timeout=30
    )
    response.raise_for_status()
    server_path = response.json()[0]
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def folder_mb(folder: Path | None) -> float | None:
    if folder is None or not folder.exists():
        return None
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def run_step(
    pool,
    url: str,
    endpoint: str,
    payload: dict,
    sessions: str,
    clients: int,
    count: int,
    processes: int,
) -> dict:
    n = min(processes, clients)
    shares = [(clients // n + (i < clients % n), count // n + (i < count % n)) for i in range(n)]
    started = time.perf_counter()
    parts = pool.map(
        worker, [(url, endpoint, payload, c, k, sessions) for c, k in shares if c and k]
    )
    wall = time.perf_counter() - started
    results = [r for part in parts for r in part]
    ok = [latency for latency, error in results if error is None]
    errors: dict[str, int] = {}
    for _, error in results:
        if error is not None:
            errors[error] = errors.get(error, 0) + 1
    return {
        "clients": clients,
        "requests": len(results),
        "ok": len(ok),
        "seconds": round(wall, 2),
        "rate": round(len(ok) / wall, 1),
        "p50": percentile(ok, 50),
        "p95": percentile(ok, 95),
        "p99": percentile(ok, 99),
        "errors": errors,
    }


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start demo.py on a free port)")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for its memory")
    parser.add_argument(
        "--requests", type=int, default=5000, help="total over all steps (default: %(default)s)"
    )
    parser.add_argument(
        "--clients",
        type=int,
        nargs="+",
        default=list(STEPS),
        help="concurrent clients per step (default: %(default)s)",
    )
    parser.add_argument(
        "--processes", type=int, default=4, help="client processes (default: %(default)s)"
    )
    parser.add_argument(
        "--input",
        choices=["drawing", "photo"],
        default="drawing",
        help="drawing: the pad's strokes to /predict_sketch; photo: --image, "
        "uploaded once, to /predict_image (default: %(default)s)",
    )
    parser.add_argument(
        "--sessions",
        choices=["client", "request"],
        default="client",
        help="client: each client keeps one session, as a browser tab or "
        "gradio_client does; request: a new one per request, as curl "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--image",
        type=Path,
        default=EXAMPLE,
        help="the photo for --input photo (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    server = cache = None
    url, pid = args.url, args.pid
    if url is None:
        from harness import start_server

        cache = Path(tempfile.mkdtemp(prefix="digitpad-load-"))
        server = start_server(env={"GRADIO_TEMP_DIR": str(cache)})
        url, pid = server.url, server.process.pid
    url = url if url.endswith("/") else url + "/"
    try:
        if args.input == "drawing":
            from harness import pad_value

            endpoint, payload = "predict_sketch", {"data": [pad_value(7)]}
        else:
            endpoint, payload = "predict_image", {"data": [upload(url, args.image)]}
        per_step = max(1, args.requests // len(args.clients))
        mp_context = mp.get_context("spawn")  # no inherited threads or sockets
        with mp_context.Pool(args.processes) as pool:
            run_step(pool, url, endpoint, payload, args.sessions, 2, 20, args.processes)  # warm up
            rss_before, cache_before = rss_mb(pid), folder_mb(cache)
            print(
                f"server {url} pid {pid}: RSS {fmt(rss_before)} MB, cache {fmt(cache_before)} MB; "
                f"/{endpoint}, sessions per {args.sessions}, {per_step} requests per step, "
                f"{args.processes} client processes",
                flush=True,
            )
            print(
                f"{'clients':>7} {'ok':>6} {'pred/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
                f"{'p99 ms':>7}  errors",
                flush=True,
            )
            steps = []
            for clients in args.clients:
                step = run_step(
                    pool, url, endpoint, payload, args.sessions, clients, per_step, args.processes
                )
                step["rss_mb"] = rss_mb(pid)
                steps.append(step)
                print(
                    f"{clients:>7} {step['ok']:>6} {step['rate']:>7.1f} {step['p50'] * 1e3:>7.0f} "
                    f"{step['p95'] * 1e3:>7.0f} {step['p99'] * 1e3:>7.0f}  "
                    f"{step['errors'] or '-'}  (RSS {fmt(step['rss_mb'])} MB)",
                    flush=True,
                )
        rss_after, cache_after = rss_mb(pid), folder_mb(cache)
        total = sum(s["requests"] for s in steps)
        print(
            f"after {total} requests: server RSS {fmt(rss_before)} -> {fmt(rss_after)} MB, "
            f"cache folder {fmt(cache_before)} -> {fmt(cache_after)} MB",
            flush=True,
        )
        report = {
            "url": url,
            "input": args.input,
            "endpoint": endpoint,
            "sessions": args.sessions,
            "requests": total,
            "steps": steps,
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "cache_before_mb": cache_before,
            "cache_after_mb": cache_after,
            "targets": targets(steps, rss_before, rss_after),
        }
        for line in report["targets"]:
            print(line)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2))
        if server is not None and server.process.poll() is not None:
            print(f"the server died: exit {server.process.returncode}")
            return 1
        return 0
    finally:
        if server is not None:
            server.stop()


def fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def targets(steps: list[dict], rss_before, rss_after) -> list[str]:
    from digitpad.guard import QUEUE_SIZE

    best = max((s["rate"] for s in steps), default=0.0)
    at32 = next((s for s in steps if s["clients"] == 32), None)
    bad = {
        k: n
        for s in steps
        if s["clients"] <= QUEUE_SIZE
        for k, n in s["errors"].items()
        if k != "queue full"
    }
    lines = [
        f"target >= {TARGET_RATE:.0f} predictions/s: best {best:.1f} "
        f"{'MET' if best >= TARGET_RATE else 'MISSED'}"
    ]
    if at32:
        lines.append(
            f"target p95 <= {TARGET_P95:.1f} s at 32 clients: {at32['p95']:.3f} s "
            f"{'MET' if at32['p95'] <= TARGET_P95 else 'MISSED'}"
        )
    lines.append(f"target no errors but queue full: {bad or 'none'} {'MISSED' if bad else 'MET'}")
    if rss_before is not None and rss_after is not None:
        growth = rss_after - rss_before
        total = sum(s["requests"] for s in steps)
        lines.append(
            f"target memory growth <= {TARGET_GROWTH_MB:.0f} MB over 5,000 requests: "
            f"{growth:+.1f} MB over {total} "
            f"{'MET' if growth <= TARGET_GROWTH_MB else 'MISSED'}"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
