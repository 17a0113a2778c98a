"""The drawing pad: a plain 2-D canvas in the page that sends its strokes, and their rendering.

Why not Gradio's ``gr.Sketchpad``: for each stroke its frontend renders the background, the
layer and the composite to PNG and uploads them three times (and again on each loading-status
change), and it keeps the canvas redrawing at 60 fps for half a second after every pointer
event; without a GPU that is software WebGL with a read-back per frame. In headless Chromium on
the 2-core development machine, stroke-to-label took 823 ms at its best (p50, a 196 px canvas),
with the model's part a few ms. It also starts with no tool selected, clears only once with a
separate button, and can draw its square off-centre on a slow first load.

This pad draws with the browser's 2-D canvas (no WebGL), and on each pen lift sends the strokes
themselves, a few hundred numbers, as the component's value: no image is encoded or uploaded. The
server renders them (:func:`render`) exactly as the page drew them, at ``RENDER_SIZE``, and the
usual conversion (digitpad.preprocessing.to_mnist) takes it from there. Stroke-to-label is then
the queue's round trip plus a few ms (``scripts/benchmark_browser.py`` measures it).

The value is JSON text (what ``gr.HTML`` carries, and what scripts send to ``/predict_sketch``)::

    {"strokes": [[[x, y], [x, y], ...], ...]}

one list of points per stroke, in the order drawn; ``x`` and ``y`` are fractions of the square
pad's side from its top-left corner (0..1), so the value does not depend on the size the pad is
shown at. ``""`` or no strokes is an empty pad. It comes from the client, so :func:`read_strokes`
bounds it (size, strokes, points, finite numbers) before anything else is done with it.
"""

from __future__ import annotations

import json

import numpy as np

# MNIST's strokes are about 0.125 of the digit's long side (digitpad.preprocessing.MNIST_STROKE).
# A digit drawn over ~3/4 of the pad then wants a stroke of 0.094 of the pad: a pen of radius
# 0.047 pad. The conversion also evens out strokes much too thick or thin, so this is a
# comfortable default, not a requirement. The page and render() draw with the same pen.
PEN_RADIUS = 0.047  # of the pad's side
RENDER_SIZE = 280  # px, the side of the image render() makes (10x MNIST's 28)
PAD_SIZE = 360  # CSS px, the side the pad is shown at (less on a narrow phone screen)
INK, PAPER = 0, 255  # render(): black ink on white paper, as the page shows it

# Limits on what a client may send. A digit drawn by hand is 1-5 strokes of a few dozen points
# each (the page drops points closer than MIN_STEP); these leave ample room.
MAX_VALUE_CHARS = 256 * 1024
MAX_STROKES = 64
MAX_POINTS = 16_384
MIN_STEP = 0.003  # of the pad's side: points closer than this to the last one are not sent


def read_strokes(value) -> list[np.ndarray]:
    """The pad's value (JSON text, or the parsed dict) -> strokes, each (N, 2) float64 in [0, 1].

    ``None``, ``""`` and ``{"strokes": []}`` give ``[]`` (an empty pad). Raises ValueError with
    a short reason for anything else that is not a bounded list of strokes of finite points.
    Coordinates a little off the pad (a pen lifted past its edge) are clipped to it.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"the drawing is over {MAX_VALUE_CHARS:,} characters")
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested thousands deep
            raise ValueError("the drawing is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("strokes"), (list, tuple)):
        raise ValueError('the drawing must be {"strokes": [[[x, y], ...], ...]}')
    strokes = value["strokes"]
    if len(strokes) > MAX_STROKES:
        raise ValueError(f"the drawing has {len(strokes)} strokes; at most {MAX_STROKES}")
    points = 0
    out = []
    for stroke in strokes:
        if not isinstance(stroke, (list, tuple)) or not stroke:
            raise ValueError("the drawing's strokes must each be a non-empty list of [x, y] points")
        points += len(stroke)
        if points > MAX_POINTS:
            raise ValueError(f"the drawing has over {MAX_POINTS:,} points")
        if not all(isinstance(p, (list, tuple)) and len(p) == 2 and all(_is_number(c) for c in p)
                   for p in stroke):
            raise ValueError("the drawing's points must each be [x, y], two numbers")
        array = np.asarray(stroke, dtype=np.float64)
        if not np.isfinite(array).all():
            raise ValueError("the drawing has a point that is not a finite number")
        out.append(np.clip(array, 0.0, 1.0))
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def render(strokes: list[np.ndarray], size: int = RENDER_SIZE) -> np.ndarray:
    """Strokes (from :func:`read_strokes`) -> (size, size) uint8, black ink on white paper,
    drawn with round caps and joins as the page draws them."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (size, size), PAPER)
    draw = ImageDraw.Draw(image)
    radius = PEN_RADIUS * size
    width = max(1, round(2 * radius))
    for stroke in strokes:
        points = [(float(x) * size, float(y) * size) for x, y in stroke]
        # Segment by segment, with a disc at every point: round caps and joins, as the page's
        # lineCap/lineJoin "round". (PIL's one-call polyline, joint="curve", leaves pinholes where
        # many short segments meet at small angles, as a hand-drawn stroke's do.)
        for start, end in zip(points, points[1:]):
            draw.line((start, end), fill=INK, width=width)
        for x, y in points:  # PIL's box includes its last pixel: "- 1" makes it 2 * radius across
            draw.ellipse((x - radius, y - radius, x + radius - 1, y + radius - 1), fill=INK)
    return np.asarray(image)


def drawing_of(value) -> np.ndarray | None:
    """The pad's value -> the image it shows (``render``), or None for an empty pad.
    Raises ValueError (see :func:`read_strokes`)."""
    strokes = read_strokes(value)
    return render(strokes) if strokes else None


def value_of(strokes) -> str:
    """Strokes (sequences of (x, y) in [0, 1]) -> the pad's value, as the page sends it."""
    return json.dumps({"strokes": [[[round(float(x), 4), round(float(y), 4)] for x, y in s]
                                   for s in strokes]})


# --- the component --------------------------------------------------------------------------------

TEMPLATE = """
<div class="digitpad-pad">
  <canvas aria-label="Drawing pad: draw a digit"></canvas>
  <div class="digitpad-tools">
    <button type="button" class="digitpad-undo" aria-label="Undo" title="Undo (Ctrl+Z)">&#x21B6; Undo</button>
    <button type="button" class="digitpad-clear" aria-label="Clear canvas">Clear</button>
  </div>
</div>
"""

CSS = f"""
.digitpad-pad {{ width: min({PAD_SIZE}px, 100%); }}
.digitpad-pad canvas {{
  display: block; width: 100%; aspect-ratio: 1 / 1; box-sizing: border-box;
  background: #fff; border: 1px solid var(--border-color-primary, #ccc);
  border-radius: var(--radius-lg, 8px); cursor: crosshair;
  touch-action: none; user-select: none; -webkit-user-select: none;
}}
.digitpad-pad canvas:not([data-ready]) {{ cursor: progress; opacity: 0.6; }}
.digitpad-tools {{ display: flex; gap: 0.5rem; justify-content: flex-end; margin-top: 0.4rem; }}
.digitpad-tools button {{
  padding: 0.25rem 0.75rem; border-radius: var(--radius-md, 6px); cursor: pointer;
  border: 1px solid var(--border-color-primary, #ccc);
  background: var(--button-secondary-background-fill, #f3f4f6);
  color: var(--button-secondary-text-color, #111);
}}
"""

# Runs once per mount (Gradio re-mounts the component when its tab comes back into view): the
# strokes are restored from ``props.value``, so a drawing survives a trip to the other tab.
# ``props.value = ...; trigger("change")`` is how gr.HTML hands a value to the server's event.
JS = """
const canvas = element.querySelector("canvas");
const ctx = canvas.getContext("2d");
const RADIUS = __RADIUS__, MIN_STEP = __MIN_STEP__;
let strokes = [];
try { strokes = JSON.parse(props.value || "{}").strokes || []; } catch (e) { strokes = []; }
let current = null;

const px = (p) => [p[0] * canvas.width, p[1] * canvas.height];
function pen() {
  ctx.lineWidth = 2 * RADIUS * canvas.width; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.strokeStyle = "#000"; ctx.fillStyle = "#000";
}
function dot(p) { const [x, y] = px(p); ctx.beginPath(); ctx.arc(x, y, RADIUS * canvas.width, 0, 2 * Math.PI); ctx.fill(); }
function line(a, b) { ctx.beginPath(); ctx.moveTo(...px(a)); ctx.lineTo(...px(b)); ctx.stroke(); }
function redraw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height); pen();
  for (const s of strokes) { dot(s[0]); for (let i = 1; i < s.length; i++) line(s[i - 1], s[i]); dot(s[s.length - 1]); }
}
function fit() {  // a sharp canvas at any size and pixel ratio
  const side = Math.round(canvas.clientWidth * (window.devicePixelRatio || 1));
  if (side > 0 && side !== canvas.width) { canvas.width = side; canvas.height = side; redraw(); }
}
function at(e) {
  const box = canvas.getBoundingClientRect();
  const r = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  return [r((e.clientX - box.left) / box.width), r((e.clientY - box.top) / box.height)];
}
function send() { props.value = JSON.stringify({strokes}); }

// One pen at a time: while a stroke is drawn, other pointers (a second finger, a palm) are ignored.
let pointer = null;
canvas.addEventListener("pointerdown", (e) => {
  if ((e.pointerType === "mouse" && e.button !== 0) || current) return;
  e.preventDefault(); canvas.setPointerCapture(e.pointerId); pointer = e.pointerId;
  current = [at(e)]; strokes.push(current); pen(); dot(current[0]);
});
canvas.addEventListener("pointermove", (e) => {
  if (!current || e.pointerId !== pointer) return;
  e.preventDefault();
  const p = at(e), last = current[current.length - 1];
  if (Math.hypot(p[0] - last[0], p[1] - last[1]) < MIN_STEP) return;
  line(last, p); current.push(p);
});
const lift = (e) => {
  if (!current || e.pointerId !== pointer) return;
  dot(current[current.length - 1]); current = null; pointer = null; send();
};
canvas.addEventListener("pointerup", lift);
canvas.addEventListener("pointercancel", lift);
const undo = () => { if (strokes.length) { strokes.pop(); redraw(); send(); } };
element.querySelector(".digitpad-undo").addEventListener("click", undo);
// Ctrl+Z (Cmd+Z) undoes too, unless the person is typing somewhere. One listener for the page;
// it calls the pad mounted last (a pad re-mounted by a tab switch replaces the old one).
window.__digitpadUndo = () => { if (canvas.isConnected) undo(); };
if (!window.__digitpadKeys) {
  window.__digitpadKeys = true;
  document.addEventListener("keydown", (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test((document.activeElement || {}).tagName || "");
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z" && !typing) {
      e.preventDefault(); window.__digitpadUndo();
    }
  });
}
element.querySelector(".digitpad-clear").addEventListener("click", () => {
  if (!strokes.length) return;  // already empty: nothing changes, nothing to ask
  strokes = []; current = null; redraw(); send();
});
new ResizeObserver(fit).observe(canvas);
fit(); redraw();
canvas.dataset.ready = "1";  // drawing works from now on (the CSS shows a busy pointer until then)
"""


def drawing_pad(**options):
    """The pad as a ``gr.HTML`` component; its ``change`` event fires on every pen lift, undo and
    clear, with the strokes as its value."""
    import gradio as gr

    js = JS.replace("__RADIUS__", repr(PEN_RADIUS)).replace("__MIN_STEP__", repr(MIN_STEP))
    return gr.HTML(**{
        "value": "",
        "label": "Draw a digit",
        "html_template": TEMPLATE,
        "css_template": CSS,
        "js_on_load": js,
        "elem_id": "sketchpad",
        **options,
    })

