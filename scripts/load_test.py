"""Load generator: many clients at once against the real app, through Gradio's queue API.

    python scripts/load_test.py                          # starts demo.py on 127.0.0.1, 5,000 requests
    python scripts/load_test.py --input photo            # uploads instead of drawings
    python scripts/load_test.py --requests 700 --clients 16 --out load.json
    python scripts/load_test.py --url http://127.0.0.1:7860/ --pid 1234
    python scripts/load_test.py --replicas 2              # two demo.py behind nginx (deploy/)

Each request is what gradio_client does, in raw HTTP: ``POST /gradio_api/call/<endpoint>``, then
``GET`` the event's server-sent events until ``complete`` or ``error``. With ``--input drawing``
(the default, what a visitor drawing on the pad sends) the request carries the pad's strokes of a
7 to ``/predict_sketch``; with ``--input photo``, a file uploaded once beforehand
(assets/examples/canvas_7.png) to ``/predict_image``. Each client keeps one session for all its
requests, as a browser tab or a gradio_client ``Client`` does (``--sessions client``); with
``--sessions request`` every request is a new session, as separate curl calls are (Gradio then
builds a ~55 KB copy of the page's config for each: a few ms more per request). The clients run
in several processes, each an asyncio loop of httpx requests, so the generator is not the
bottleneck (one Python process tops out at a few hundred requests per second; the server here at
far fewer).

First it measures the in-process floor: the same input read by the same function the endpoint
calls (digitpad.reading, the reading turned into the API's JSON), in this process, one at a
time, without HTTP or Gradio. Per step (1, 2, 4, ... 64 concurrent clients, each sending its
next request when the last is answered) it prints throughput and its ratio to that floor (the
number to compare between runs: absolute rates vary with the machine and what else it runs),
p50/p95/p99 latency and errors by kind ("queue full" is Gradio's answer once more than the
queue's max_size events wait; anything else is a failure), and, for the whole run, the
server's RSS (its reading processes included) before and after and the size of its
upload/cache folder. The targets of issues 6 and 17 are printed as met or missed. Pass
``--workers N`` through to demo.py with ``--server-args "--workers 0"``.

With ``--replicas N`` (N >= 2) it starts N copies of demo.py and Debian's nginx in front of
them with deploy/digitpad.conf.template, as compose runs them; each client keeps its own
cookies, so it stays on one replica, and the RSS is the replicas' sum. The clients run on the
same machine as the server(s): on a 2-core machine they take a good share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shlex
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo
sys.path.insert(0, str(REPO_DIR / "tests"))  # and the shared test and benchmark helpers (harness)

STEPS = (1, 2, 4, 8, 16, 32, 64)
EXAMPLE = REPO_DIR / "assets" / "examples" / "canvas_7.png"
TARGET_RATE = 120.0  # predictions/s at 32 clients (issue 17)
TARGET_P95 = 0.4  # s, at 32 clients
TARGET_GROWTH_MB = 50.0  # over 5,000 requests
FLOOR_SECONDS = 5.0  # how long the in-process floor is measured


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
    """``clients`` concurrent clients sending ``count`` requests in all. Each has its own
    connection pool and cookie jar, as a browser tab or a gradio_client Client has (behind
    nginx, the cookie keeps it on one replica)."""
    import httpx

    results: list[tuple[float, str | None]] = []
    remaining = count

    async def loop():
        nonlocal remaining
        # like a browser tab or a gradio_client Client: one session for all of its requests
        mine = (
            payload | {"session_hash": uuid.uuid4().hex[:11]} if sessions == "client" else payload
        )
        async with httpx.AsyncClient(timeout=120) as client:
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
    """The resident memory of process ``pid`` and all its children (the reading processes)."""
    if pid is None:
        return None
    try:
        total = 0.0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        for child in children(pid):
            total += rss_mb(child) or 0.0
        return total
    except OSError:
        return None


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


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
        "--replicas",
        type=int,
        default=1,
        help="without --url: this many demo.py behind nginx when 2 or more (default: %(default)s)",
    )
    parser.add_argument(
        "--server-args",
        default="",
        help='more arguments for each demo.py started, e.g. "--workers 0" (default: none)',
    )
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


@dataclass
class Target:
    """What the clients call: one demo.py, or N of them behind nginx; or a running app."""

    url: str
    pids: list[int]
    cache: Path | None = None
    processes: list = field(default_factory=list)  # what to stop afterwards (harness's)

    def rss_mb(self) -> float | None:
        values = [rss_mb(pid) for pid in self.pids]
        return None if not values or None in values else sum(values)

    def alive(self) -> bool:
        return all(p.process.poll() is None for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def start_target(replicas: int, server_args: list[str] = ()) -> Target:
    """``replicas`` demo.py on free loopback ports (sharing one upload/cache folder), behind
    nginx when more than one."""
    from harness import start_nginx, start_server

    cache = Path(tempfile.mkdtemp(prefix="digitpad-load-"))
    servers = []
    try:
        for _ in range(replicas):
            servers.append(start_server(extra=server_args, env={"GRADIO_TEMP_DIR": str(cache)}))
        pids = [s.process.pid for s in servers]
        if replicas == 1:
            return Target(servers[0].url, pids, cache, servers)
        nginx = start_nginx([s.url for s in servers], cache / "nginx")
        return Target(nginx.url, pids, cache, [*servers, nginx])
    except BaseException:
        for server in servers:
            server.stop()
        raise


def in_process_floor(kind: str, image: Path, seconds: float = FLOOR_SECONDS) -> float:
    """Readings per second in this process, one at a time, through the function the endpoint
    calls (its JSON included): what the server would do with no HTTP, queue or Gradio."""
    from digitpad import DEFAULT_MODEL_PATH, reading
    from digitpad.predictor import Predictor
    from harness import pad_value

    predictor = Predictor.load(DEFAULT_MODEL_PATH)
    if kind == "drawing":
        value = pad_value(7)
        read = lambda: reading.read_sketch(predictor, value).as_json()  # noqa: E731
    else:
        read = lambda: reading.read_image(predictor, str(image)).as_json()  # noqa: E731
    for _ in range(10):
        read()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        read()
        count += 1
    return count / (time.perf_counter() - started)


def main(argv=None) -> int:
    args = parse_args(argv)
    floor = in_process_floor(args.input, args.image)
    print(f"in-process floor: {floor:.1f} readings/s, one at a time ({1e3 / floor:.2f} ms each)")
    target = Target(args.url, [args.pid] if args.pid else []) if args.url else None
    target = target or start_target(args.replicas, shlex.split(args.server_args))
    target.url = target.url if target.url.endswith("/") else target.url + "/"
    try:
        if args.input == "drawing":
            from harness import pad_value

            endpoint, payload = "predict_sketch", {"data": [pad_value(7)]}
        else:
            endpoint, payload = "predict_image", {"data": [upload(target.url, args.image)]}
        report = run_steps(args, target, endpoint, payload, floor)
        for line in report["targets"]:
            print(line)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2))
        if not target.alive():
            print("a server died")
            return 1
        return 0
    finally:
        target.stop()


def run_steps(args, target: Target, endpoint: str, payload: dict, floor: float) -> dict:
    """Each step of clients in turn, printed as it ends; the run's report."""
    per_step = max(1, args.requests // len(args.clients))
    mp_context = mp.get_context("spawn")  # no inherited threads or sockets
    with mp_context.Pool(args.processes) as pool:
        run_step(pool, target.url, endpoint, payload, args.sessions, 2, 20, args.processes)
        rss_before, cache_before = target.rss_mb(), folder_mb(target.cache)
        print(
            f"server {target.url} pids {target.pids}: RSS {fmt(rss_before)} MB, cache "
            f"{fmt(cache_before)} MB; /{endpoint}, sessions per {args.sessions}, {per_step} "
            f"requests per step, {args.processes} client processes\n"
            f"{'clients':>7} {'ok':>6} {'pred/s':>7} {'floor':>6} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7}  errors",
            flush=True,
        )
        steps = []
        for clients in args.clients:
            step = run_step(
                pool,
                target.url,
                endpoint,
                payload,
                args.sessions,
                clients,
                per_step,
                args.processes,
            )
            step["rss_mb"], step["of_floor"] = target.rss_mb(), step["rate"] / floor
            steps.append(step)
            print(
                f"{clients:>7} {step['ok']:>6} {step['rate']:>7.1f} {step['of_floor']:>6.0%} "
                f"{step['p50'] * 1e3:>7.0f} {step['p95'] * 1e3:>7.0f} {step['p99'] * 1e3:>7.0f}"
                f"  {step['errors'] or '-'}  (RSS {fmt(step['rss_mb'])} MB)",
                flush=True,
            )
    rss_after, cache_after = target.rss_mb(), folder_mb(target.cache)
    total = sum(s["requests"] for s in steps)
    print(
        f"after {total} requests: server RSS {fmt(rss_before)} -> {fmt(rss_after)} MB, "
        f"cache folder {fmt(cache_before)} -> {fmt(cache_after)} MB",
        flush=True,
    )
    return {
        "url": target.url,
        "replicas": len(target.pids),
        "input": args.input,
        "endpoint": endpoint,
        "sessions": args.sessions,
        "requests": total,
        "floor_per_second": floor,
        "steps": steps,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "cache_before_mb": cache_before,
        "cache_after_mb": cache_after,
        "targets": targets(steps, rss_before, rss_after),
    }


def fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def targets(steps: list[dict], rss_before, rss_after) -> list[str]:
    from digitpad.app.launch import QUEUE_SIZE

    best = max((s["rate"] for s in steps), default=0.0)
    at32 = next((s for s in steps if s["clients"] == 32), None)
    bad = {
        k: n
        for s in steps
        if s["clients"] <= QUEUE_SIZE
        for k, n in s["errors"].items()
        if k != "queue full"
    }
    lines = [f"best: {best:.1f} predictions/s"]
    if at32:
        lines.append(
            f"target >= {TARGET_RATE:.0f} predictions/s at 32 clients: {at32['rate']:.1f} "
            f"{'MET' if at32['rate'] >= TARGET_RATE else 'MISSED'}"
        )
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
