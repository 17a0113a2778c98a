// The drawing pad: a plain 2-D canvas that sends its strokes (digitpad/strokes.py says why).
// Run by gr.HTML's js_on_load with `element` (the component's root) and `props` (its value).
// __RADIUS__ and __MIN_STEP__ are filled in by digitpad/app/page.py from digitpad/strokes.py's constants.
//
// Runs once per mount (Gradio re-mounts the component when its tab comes back into view): the
// strokes are restored from props.value, so a drawing survives a trip to the other tab.
// `props.value = ...` is how gr.HTML hands a value to the server's change event.
const root = element.querySelector(".digitpad-pad");
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
// The cue to draw shows on an empty pad only (pad.css).
const mark = () => root.classList.toggle("has-ink", strokes.length > 0);
function redraw() {
  mark(); ctx.clearRect(0, 0, canvas.width, canvas.height); pen();
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
  current = [at(e)]; strokes.push(current); mark(); pen(); dot(current[0]);
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
