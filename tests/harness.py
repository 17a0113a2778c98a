"""The shared harness of the tests and the benchmarks: the app as a process, and in a browser.

- :func:`start_server` runs ``demo.py`` on 127.0.0.1 on a free port (:class:`Server` stops it by
  its process id);
- :func:`open_chromium` and :class:`AppPage` drive the app in Debian's /usr/bin/chromium through
  Playwright: draw digits with the mouse, clear, upload, read the verdict;
- :data:`STROKES` and :func:`pad_value` are digits as mouse strokes, and the pad's value they
  make, so the tests without a browser send exactly what the page sends;
- :data:`EXAMPLES` are the committed example inputs, named after their digit.

Used by tests/ (pytest's ``pythonpath`` puts scripts/ on the path) and by the scripts beside it.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent

from digitpad import ASSETS_DIR, DEFAULT_MODEL_PATH  # noqa: E402

# The committed example inputs, named after their digit: "photo_5.jpg" is a 5.
EXAMPLES = sorted((ASSETS_DIR / "examples").glob("*_[0-9].*"))


def expected_digit(path: Path) -> int:
    """The digit an example is named after: "photo_5.jpg" -> 5."""
    return int(Path(path).stem.rsplit("_", 1)[1])


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1100, "height": 1000}
RESULT = "#result"  # the result panel (digitpad/app/view.py)
VERDICT = "#result .dp-verdict"  # its verdict line
PAD_READY = "#sketchpad canvas[data-ready]"  # the pad's script has run: strokes are drawn and sent

# Digits as mouse strokes, in a unit box (x right, y down): one list of points per stroke.
STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [
        [
            (0.5, 0.0),
            (0.2, 0.1),
            (0.05, 0.45),
            (0.15, 0.85),
            (0.5, 1.0),
            (0.85, 0.85),
            (0.95, 0.45),
            (0.8, 0.1),
            (0.5, 0.0),
        ]
    ],
    1: [[(0.55, 0.0), (0.5, 0.5), (0.45, 1.0)]],
    2: [
        [
            (0.1, 0.2),
            (0.4, 0.0),
            (0.8, 0.05),
            (0.9, 0.3),
            (0.6, 0.6),
            (0.1, 1.0),
            (0.5, 0.98),
            (0.95, 1.0),
        ]
    ],
    3: [
        [
            (0.1, 0.1),
            (0.5, 0.0),
            (0.85, 0.18),
            (0.72, 0.42),
            (0.4, 0.5),
            (0.78, 0.58),
            (0.92, 0.8),
            (0.6, 1.0),
            (0.1, 0.9),
        ]
    ],
    4: [[(0.6, 0.0), (0.05, 0.65), (0.95, 0.65)], [(0.75, 0.3), (0.72, 1.0)]],
    6: [
        [
            (0.75, 0.0),
            (0.35, 0.25),
            (0.1, 0.65),
            (0.3, 0.98),
            (0.7, 0.95),
            (0.85, 0.7),
            (0.6, 0.5),
            (0.25, 0.6),
        ]
    ],
    7: [[(0.05, 0.05), (0.5, 0.0), (0.95, 0.03), (0.6, 0.5), (0.4, 1.0)]],
}
ONE_STROKE_DIGITS = [d for d, strokes in STROKES.items() if len(strokes) == 1]
DIGIT_BOX = (0.62, 0.75)  # a digit's width and height, as fractions of the pad
POINT_SPACING = 24  # screen px between mouse moves: a brisk stroke (each move costs a frame)

# Installed in every page: timestamps of the pointerups, and every change of the verdict line.
TIMING_JS = """
window.__digitpad = {up: [], verdicts: []};
document.addEventListener("pointerup", () => window.__digitpad.up.push(performance.now()), true);
const watch = () => {  // the panel is re-rendered whole: watch it, read its verdict line
  const node = document.querySelector("#result");
  if (!node) return false;
  const read = () => ((node.querySelector(".dp-verdict") || {}).innerText || "").trim();
  let last = read();
  new MutationObserver(() => {
    const text = read();
    if (text !== last) { last = text; window.__digitpad.verdicts.push([performance.now(), text]); }
  }).observe(node, {childList: true, subtree: true, characterData: true});
  return true;
};
if (!watch()) {
  const wait = new MutationObserver(() => { if (watch()) wait.disconnect(); });
  document.addEventListener("DOMContentLoaded",
    () => wait.observe(document.body, {childList: true, subtree: true}));
}
"""


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``code`` run by a fresh Python in the repository (what a new process imports, prints and
    says on stderr), its output as text."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_DIR, capture_output=True, text=True, timeout=timeout
    )


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """``demo.py`` running in a subprocess."""

    process: subprocess.Popen
    url: str
    started: float  # time.perf_counter() just before the process was started
    output: list[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    model: Path = DEFAULT_MODEL_PATH,
    *,
    extra: list[str] = (),
    timeout: float = 180,
    env: dict | None = None,
    app_dir: Path = REPO_DIR,
) -> Server:
    """Start ``app_dir``'s ``demo.py`` on 127.0.0.1 on a free port, from that folder; return
    once it serves its page."""
    import threading
    import urllib.request

    port = free_port()
    command = [
        sys.executable,
        str(app_dir / "demo.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model",
        str(model),
        *extra,
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=app_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    server = Server(process, f"http://127.0.0.1:{port}/", started, output)
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"demo.py exited with {process.returncode}:\n{''.join(output)}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"demo.py did not serve within {timeout:.0f} s:\n{''.join(output)}")


NGINX = Path("/usr/sbin/nginx")
NGINX_SITE = REPO_DIR / "deploy" / "digitpad.conf.template"
NGINX_MAIN = """daemon off;
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    log_format replica '$request_method $uri $status $upstream_addr $cookie_digitpad_replica';
    access_log {prefix}/access.log replica;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {prefix}/digitpad.conf;
}}
"""


@dataclass
class Nginx:
    """nginx (Debian's) in front of replicas of the app, with deploy/'s site config."""

    process: subprocess.Popen
    url: str
    prefix: Path
    temp: Path  # request bodies being received (uploads): a folder nginx's workers can reach

    def routes(self) -> list[tuple[str, str, str]]:
        """(path, replica address, the request's replica cookie) of each request so far."""
        lines = (self.prefix / "access.log").read_text().splitlines()
        return [(f[1], f[3], f[4]) for f in (line.split() for line in lines) if len(f) >= 5]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        shutil.rmtree(self.temp, ignore_errors=True)


def start_nginx(replicas: list[str], prefix: Path) -> Nginx:
    """nginx on a free loopback port in front of ``replicas`` (URLs), its files in ``prefix``:
    the site config is deploy/digitpad.conf.template, filled in as compose fills it."""
    port = free_port()
    prefix.mkdir(parents=True, exist_ok=True)
    servers = " ".join(
        f"server {url.split('://')[1].rstrip('/')} max_fails=1 fail_timeout=10s;"
        for url in replicas
    )
    site = NGINX_SITE.read_text().replace("${DIGITPAD_REPLICAS}", servers)
    (prefix / "digitpad.conf").write_text(site.replace("${DIGITPAD_LISTEN}", f"127.0.0.1:{port}"))
    # Started by root, nginx's workers run as "nobody": their temporary files go in a folder of
    # their own under /tmp, not in ``prefix`` (a test's folders are private to their owner).
    temp = Path(tempfile.mkdtemp(prefix="digitpad-nginx-"))
    temp.chmod(0o755)
    (prefix / "nginx.conf").write_text(NGINX_MAIN.format(prefix=prefix, temp=temp))
    process = subprocess.Popen(
        [str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    nginx = Nginx(process, f"http://127.0.0.1:{port}/", prefix, temp)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"nginx exited: {process.stdout.read().decode()}"
                f"{(prefix / 'error.log').read_text()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return nginx
        except OSError:
            time.sleep(0.1)
    nginx.stop()
    raise TimeoutError("nginx did not listen within 20 s")


def example_photo() -> Path:
    """The shipped photo example (assets/examples/photo_<digit>.jpg)."""
    photos = sorted((ASSETS_DIR / "examples").glob("photo_*"))
    if not photos:
        raise FileNotFoundError(f"no photo_<digit> example in {ASSETS_DIR / 'examples'}")
    return photos[0]


# --- the browser ---------------------------------------------------------------------------------


def open_chromium(playwright: object) -> object:
    """Debian's Chromium, headless, with the flags this machine needs (no outbound calls)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_until_drawable(page: object, timeout: float = 30_000) -> None:
    """Wait until a stroke on the pad would be drawn and sent: the pad's script has run, and
    nothing covers the canvas. While the app loads, Gradio lays a translucent status overlay over
    the whole page, and a stroke that starts on it is lost (seen in CI on a busy machine)."""
    page.wait_for_function(
        f"() => {{ const c = document.querySelector('{PAD_READY}'); if (!c) return false;"
        " const b = c.getBoundingClientRect();"
        " return document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2) === c; }",
        timeout=timeout,
        polling=50,
    )


class AppPage:
    """The app open in a browser tab, with the helpers to draw, clear, upload and read."""

    def __init__(self, browser: object, url: str, **context_options: object) -> None:
        self.context = browser.new_context(**{"viewport": VIEWPORT, **context_options})
        self.page = self.context.new_page()
        self.page.add_init_script(TIMING_JS)
        self.external_requests: list[str] = []
        self.page.on("request", self._note_request)
        self.page.goto(url)
        wait_until_drawable(self.page)
        self.page.wait_for_selector(VERDICT)
        self.page.wait_for_function("() => window.__digitpad.verdicts !== undefined")

    def _note_request(self, request) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            self.external_requests.append(request.url)

    def close(self) -> None:
        self.context.close()

    # reading
    def verdict(self) -> str:
        return self.page.inner_text(VERDICT).strip()

    def top_label(self) -> str | None:
        """The digit the chart marks as the top one, or None when it marks none."""
        marked = self.page.locator(f"{RESULT} .dp-body:visible .dp-top")  # a number's: picked
        return marked.get_attribute("data-digit") if marked.count() else None

    def seen_image_shown(self) -> bool:
        return self.page.locator(f"{RESULT} .dp-body:visible .dp-seen img").count() > 0

    def wait_for_verdict(self, predicate: str, timeout: float = 20_000) -> str:
        """Wait until ``predicate`` (a JS expression of ``text``) holds for the verdict line."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                f"() => {{ const n = document.querySelector('{VERDICT}');"
                f" const text = n ? n.innerText.trim() : ''; return {predicate}; }}",
                timeout=timeout,
                polling=50,
            )
        except PlaywrightTimeout:
            raise AssertionError(
                f"after {timeout / 1000:.0f} s the verdict reads"
                f" {self.verdict()!r}, not ({predicate})"
            ) from None
        return self.verdict()

    def timings(self) -> dict:
        return self.page.evaluate("() => window.__digitpad")

    # the drawing pad
    def square(self) -> tuple[float, float, float]:
        """Centre x, centre y and side, in page px, of the drawing pad's canvas."""
        box = self.page.locator("#sketchpad canvas").first.bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"]

    def draw(self, strokes: list[list[tuple[float, float]]]) -> None:
        """Mouse strokes given in a unit box, drawn centred on the pad at DIGIT_BOX size."""
        cx, cy, side = self.square()
        width, height = DIGIT_BOX[0] * side, DIGIT_BOX[1] * side
        for stroke in strokes:
            points = [
                (cx + (x - 0.5) * width, cy + (y - 0.5) * height)
                for x, y in densify(stroke, POINT_SPACING / max(width, height))
            ]
            self.page.mouse.move(*points[0])
            self.page.mouse.down()
            for point in points[1:]:
                self.page.mouse.move(*point)
            self.page.mouse.up()

    def draw_digit(self, digit: int) -> None:
        self.draw(STROKES[digit])

    def draw_number(self, digits: str) -> None:
        """``digits`` written side by side across the pad with the mouse (:func:`number_strokes`)."""
        cx, cy, side = self.square()
        for stroke in number_strokes(digits):
            points = [(cx + (x - 0.5) * side, cy + (y - 0.5) * side) for x, y in stroke]
            self.page.mouse.move(*points[0])
            self.page.mouse.down()
            for point in points[1:]:
                self.page.mouse.move(*point)
            self.page.mouse.up()

    def clear(self) -> str:
        """Clear with the pad's Clear button; wait for the empty state."""
        from digitpad.reading import NO_SKETCH

        self.page.click('#sketchpad button[aria-label="Clear canvas"]')
        return self.wait_for_verdict(f"text === {json.dumps(NO_SKETCH)}")

    # the photo tab
    def upload(self, path: Path) -> None:
        self.page.get_by_role("tab", name="Photo").click()
        self.page.locator("#photo input[type=file]").set_input_files(str(path))

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def densify(points: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """Points along the polyline at most ``step`` apart (unit-box coordinates)."""
    dense = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        dense += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return dense


def pad_value(digit: int) -> str:
    """The drawing pad's value after ``digit`` is drawn as :meth:`AppPage.draw_digit` draws it
    (same box, points about as far apart as the page keeps them), without a browser."""
    from digitpad import strokes

    width, height = DIGIT_BOX
    return strokes.value_of(
        [
            [
                (0.5 + (x - 0.5) * width, 0.5 + (y - 0.5) * height)
                for x, y in densify(stroke, 4 * strokes.MIN_STEP)
            ]
            for stroke in STROKES[digit]
        ]
    )


def varied_drawings(count: int, seed: int = 7) -> list[tuple[int, str]]:
    """``count`` drawings of the digits in STROKES, each leaning, turned and squeezed at random
    as people's are (some far enough for the model to doubt them): (digit, the pad's value)."""
    import numpy as np

    from digitpad import strokes

    rng = np.random.default_rng(seed)
    digits = sorted(STROKES)
    drawings = []
    for k in range(count):
        turn, lean = np.radians(rng.normal(0, 20)), rng.normal(0, 0.4)
        matrix = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        matrix = matrix @ np.array([[1, lean], [0, 1]]) * rng.uniform(0.4, 0.8)
        digit = digits[k % len(digits)]
        lines = [np.array(densify(s, 0.02)) - 0.5 for s in STROKES[digit]]
        drawings.append(
            (digit, strokes.value_of([np.clip(s @ matrix.T + 0.5, 0, 1) for s in lines]))
        )
    return drawings


def curl_commands(url: str) -> str:
    """The curl commands of docs/api.md ("Plain HTTP, with curl"), as one bash script for the
    app at ``url``."""
    text = (REPO_DIR / "docs" / "api.md").read_text().split("## Plain HTTP, with curl", 1)[1]
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    return "".join(blocks).replace("http://127.0.0.1:7860", url.rstrip("/"))


def run_curl_commands(url: str) -> list[list]:
    """Run :func:`curl_commands` from the repository's folder: the result of each call."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", curl_commands(url)],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [
        json.loads(line[5:])[0]
        for line in done.stdout.splitlines()
        if line.startswith("data:") and line[5:].strip() not in ("", "null")
    ]


def label_sketch(
    predictor: Any, folder: Path | None, value: str | None, answer: str, previous: tuple = ()
) -> Any:
    """:func:`digitpad.labelling.label` for the drawing pad's value, as the labelling API calls
    it: a value that is no drawing gets its one line."""
    from digitpad import labelling, reading

    drawing, problem = reading.parse_sketch(value)
    if problem:
        return labelling.Labelling(problem)
    return labelling.label(predictor, folder, drawing, answer, previous)


def number_strokes(digits: str, width: float = 0.17, gap: float = 0.05) -> list:
    """Strokes in pad fractions: ``digits`` (say "2026") written side by side across the pad,
    each as :data:`STROKES` draws it in a box ``width`` wide, ``gap`` apart."""
    left = (1 - len(digits) * width - (len(digits) - 1) * gap) / 2
    height = min(0.5, 2.2 * width)
    drawn = []
    for i, digit in enumerate(digits):
        x0, y0 = left + i * (width + gap), 0.5 - height / 2
        drawn += [
            [(x0 + x * width, y0 + y * height) for x, y in densify(stroke, 0.02)]
            for stroke in STROKES[int(digit)]
        ]
    return drawn


def number_value(digits: str, width: float = 0.17, gap: float = 0.05) -> str:
    """The drawing pad's value after ``digits`` are written side by side (:func:`number_strokes`)."""
    from digitpad import strokes

    return strokes.value_of(number_strokes(digits, width, gap))
