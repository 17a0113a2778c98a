"""The Gradio app served by ``demo.py``: draw a digit or show a photo of one; the model reads it.

    python demo.py                      # http://127.0.0.1:7860

``build_app(predictor)`` builds the ``gr.Blocks`` and launches nothing; ``launch(app, ...)`` serves
it. Each event has one pure handler, :func:`predict_sketch` (the drawing pad) and
:func:`predict_image` (upload, webcam or paste), and both give the same three outputs: the ten
probabilities for ``gr.Label``, the verdict line, and the 28x28 image the model received.

Scripts can use a running app through its API::

    from gradio_client import Client, handle_file

    client = Client("http://127.0.0.1:7860/")
    label, verdict, seen = client.predict(
        handle_file("assets/examples/photo_5.jpg"), api_name="/predict_image"
    )
    print(verdict)         # 5, 100% sure
    print(label["label"])  # 5

(``/predict_sketch`` takes the drawing pad's value, the strokes as JSON text:
``'{"strokes": [[[0.5, 0.1], [0.5, 0.9]]]}'`` is a 1; see digitpad/pad.py.)

Under the verdict, "Right" and 0-9 let the person say what the digit is: :func:`label_digit`
counts it in their session's tally and, when the app runs with ``--collect DIR``, saves the
input and the 28x28 image with the label (digitpad.collect). ``/label_sketch`` and
``/label_image`` do the same for scripts: ``client.predict(source, "7", api_name="/label_image")``.

The drawing pad is digitpad.pad's own canvas, not ``gr.Sketchpad``: it sends strokes instead of
uploading PNGs, which took stroke-to-label from 823 ms to 56 ms, p50 (digitpad/pad.py
says why). Its ``change`` event fires on every pen lift, undo and clear;
``trigger_mode="always_last"`` makes a burst of strokes end with a prediction on the latest
drawing.
"""

from __future__ import annotations

import json
import logging
import os
from functools import partial
from pathlib import Path

# No outbound calls at run time: Gradio reads this when it is imported (version check, analytics).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from digitpad import ASSETS_DIR, collect, pad  # noqa: E402
from digitpad.predictor import Predictor, Recognition  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES_DIR = ASSETS_DIR / "examples"
EXAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")

PAD_WIDTH = pad.PAD_SIZE  # px, the drawing column
# The 28x28 image the model received is sent as it is (a 28x28 PNG, a few hundred bytes: the
# server encodes and caches one per request) and shown 8x larger, pixelated, by the browser.
SEEN_SCALE = 8

NO_SKETCH = "draw a digit"
NO_PHOTO = "upload, snap or paste a photo of a digit"

CSS = """
#verdict .md p { font-size: 1.5rem; font-weight: 600; margin: 0.2rem 0; }
#seen img { width: 224px; height: 224px; max-width: 100%; object-fit: contain;
             image-rendering: pixelated; }
#answers button { min-width: 2.2rem; padding-left: 0; padding-right: 0; }
#labelling .md p { margin: 0.2rem 0; }
#collect-note { font-size: 0.85rem; opacity: 0.8; }
"""

Outputs = tuple[dict[str, float] | None, str, np.ndarray | None]


# --- event handlers: pure functions of the input ------------------------------------------------


def predict_sketch(predictor: Predictor, value: str | None) -> Outputs:
    """The drawing pad's value (its strokes as JSON text; "" or None when empty) -> outputs."""
    strokes, problem = read_drawing(value)
    if not strokes:
        return None, problem or NO_SKETCH, None
    return recognise(predictor, pad.render(strokes))


def read_drawing(value) -> tuple[list[np.ndarray], str | None]:
    """(the pad's strokes, None), [] for an empty pad; or ([], why) for a value that is not a
    drawing (it comes from the client: anything can arrive)."""
    try:
        return pad.read_strokes(value), None
    except ValueError as error:
        return [], f"Can't read that drawing: {error}."


def predict_image(predictor: Predictor, path: str | None) -> Outputs:
    """An uploaded, snapped or pasted photo (a file path; None when removed) -> outputs."""
    if path is None:
        return None, NO_PHOTO, None
    return recognise(predictor, path)


def recognise(predictor: Predictor, source) -> Outputs:
    """Any input -> (probabilities for gr.Label, verdict line, the 28x28 image the model saw).

    An unreadable input gives no probabilities and a verdict that says why, never an exception.
    """
    recognition, problem = read_safely(predictor, source)
    if recognition is None:
        return None, problem, None
    return outputs_of(recognition)


def read_safely(predictor: Predictor, source):
    """(Recognition, None), or (None, "Can't read that image: ...") for an unreadable input; an
    upload is named by its file name in that message, never by its path on the server."""
    from digitpad.preprocessing import ImageError

    try:
        return predictor.recognise(source), None
    except ImageError as error:
        message = str(error)
        if isinstance(source, (str, os.PathLike)):  # never show the server's upload path
            message = message.replace(str(source), Path(source).name)
        return None, f"Can't read that image: {message}"


def outputs_of(recognition: Recognition) -> Outputs:
    label = recognition.prediction.as_label() if recognition.prediction is not None else None
    seen = as_pixels(recognition.image) if recognition.image is not None else None
    return label, recognition.message, seen


def as_pixels(image: np.ndarray) -> np.ndarray:
    """(28, 28) float in [0, 1] -> (28, 28) uint8, white ink on black as MNIST and the model see
    it."""
    return np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


# --- labelling: the person says what the digit is -------------------------------------------

RIGHT = "right"  # the answer of the "Right" button: the model's digit is the true one
DRAW, PHOTO = "draw", "photo"  # the tabs, and which input a label is about
Labelled = tuple[dict, str, str]  # (the session's tally, its text, what was done)


def label_digit(
    predictor: Predictor, folder: Path | None, source, answer: str, tally: dict | None, *,
    strokes=None,
) -> Labelled:
    """The person says the digit in ``source`` (the pad's drawing, or an upload's path) is
    ``answer`` ("0"-"9", or ``RIGHT``).

    The input is read again (a few ms), so what is saved and counted is exactly what the model
    sees now, whatever the browser showed. With a ``folder`` (``demo.py --collect DIR``) the
    original and the 28x28 image are saved there with the label (digitpad.collect.save_digit);
    without one, the label only counts in the session's tally. Returns the new tally, its text
    and a line saying what was done, or, when nothing was done, why (the tally is unchanged).
    """
    tally = tally or collect.new_tally()

    def unchanged(why: str) -> Labelled:
        return tally, collect.format_tally(tally), why

    if source is None:
        return unchanged("Nothing to label yet: draw a digit or show a photo first.")
    recognition, problem = read_safely(predictor, source)
    if recognition is None:
        return unchanged(problem)
    prediction = recognition.prediction
    if prediction is None:
        return unchanged(f"Nothing to label: {recognition.message}.")
    if answer == RIGHT:
        if not prediction.sure:
            return unchanged(f"The model was not sure ({prediction.verdict}): click the digit it is.")
        label = prediction.digit
    elif isinstance(answer, str) and answer.strip() in collect.DIGITS:
        label = int(answer)
    else:
        return unchanged(f"Not a digit: {answer!r}; the answer is 0-9 or {RIGHT!r}.")
    if folder is not None:
        try:
            collect.save_digit(folder, source, recognition.image, label, recognition,
                               strokes=strokes)
        except (OSError, ValueError) as error:
            log.exception("could not save a digit in %s", folder)
            return unchanged(f"Could not save it ({type(error).__name__}), so it was not counted; "
                             "your drawing is still there to try again.")
    tally = collect.update_tally(tally, label, prediction.digit)
    said = "the model said so too" if prediction.digit == label else f"the model said {prediction.digit}"
    done = "Saved" if folder is not None else "Counted"
    return tally, collect.format_tally(tally), f"{done}: a {label} ({said})."


def label_sketch(predictor: Predictor, folder: Path | None, value: str | None, answer: str,
                 tally: dict | None) -> Labelled:
    """:func:`label_digit` for the drawing pad's value."""
    strokes, problem = read_drawing(value)
    if problem:
        tally = tally or collect.new_tally()
        return tally, collect.format_tally(tally), problem
    drawing = pad.render(strokes) if strokes else None
    return label_digit(predictor, folder, drawing, answer, tally, strokes=strokes or None)


def label_input(predictor: Predictor, folder: Path | None, answer: str, tab: str,
                sketch: str | None, photo: str | None, tally: dict | None) -> Labelled:
    """A button's answer about the input in the tab in view (``DRAW`` or ``PHOTO``)."""
    if tab == PHOTO:
        return label_digit(predictor, folder, photo, answer, tally)
    return label_sketch(predictor, folder, sketch, answer, tally)


def collect_note(folder: Path | None) -> str:
    """What the page says about saving, plainly, above the buttons."""
    if folder is None:
        return "Your answers count only in your tally: **nothing is saved**."
    return ("**Saving is on.** Each digit you label here is saved, your drawing or photo with "
            "its label, on the computer that runs this app, to teach the model your handwriting.")


# --- page content --------------------------------------------------------------------------------


def read_metrics(path: Path) -> dict | None:
    """The metrics.json written beside the model by the trainer, or None."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        log.warning("no metrics at %s: %s", path, error)
        return None


def find_examples(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """The example images shipped in assets/examples/, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)


def how_it_works(metrics: dict | None) -> str:
    """The "how it works" note, with the model's measured test accuracy from metrics.json."""
    n_train = (metrics or {}).get("training", {}).get("n_train")
    trained = f"{n_train:,} of its training images" if n_train else "its training images"
    if metrics and "test_accuracy" in metrics:
        n_test = metrics.get("n_test")
        errors = metrics.get("test_errors")
        on = f" on the {n_test:,} MNIST test images it never trained on" if n_test else ""
        missed = f" ({errors:,} mistakes)" if errors is not None else ""
        accuracy = f"It reads **{metrics['test_accuracy']:.2%}** of digits right{on}{missed}."
    else:
        accuracy = "Its test accuracy is not recorded (no metrics.json beside the model)."
    return f"""\
**MNIST** is the classic collection of 70,000 handwritten digits, scanned from forms filled in
by American students and Census Bureau employees: each one white ink on black, fitted into a
20x20 box and centred by its centre of mass in a 28x28 image. The model here is a small
convolutional network trained on {trained}. {accuracy}

Your drawing or photo is **converted to look like MNIST** before the model sees it: the digit
is found (specks and uneven lighting are ignored; dark ink on light or light ink on dark both
work), cropped, scaled so that its long side is 20 pixels, a much too thick or thin stroke is
brought to MNIST's width, and it is centred by its centre of mass. "What the model saw" shows
the result. When the model's top two answers are close it says **not sure** and names both,
instead of guessing. It was also shown scribbles, hatching and shapes that are no digit, and
taught to spread its answer over all ten digits for them: then it says **not sure it is a
digit**.
"""


# --- the app -------------------------------------------------------------------------------------


def photo_input(**options):
    """Upload, webcam or paste: the file path goes to the handler, whatever the file holds.

    ``gr.Image(type="filepath")`` still opens the file, so an upload that is not an image would
    fail inside Gradio with a bare "Error"; :func:`pass_path` hands over the path unopened and
    :func:`predict_image` says what is wrong. (Not a subclass: Gradio writes a ``.pyi`` stub
    beside any module that defines a component class.)
    """
    photo = gr.Image(**{
        "label": "A photo of a digit on paper",
        "sources": ["upload", "webcam", "clipboard"],
        "type": "filepath",
        "height": PAD_WIDTH,
        "elem_id": "photo",
        **options,
    })
    photo.preprocess = partial(pass_path, photo.preprocess)
    return photo


def pass_path(preprocess, payload):
    """An uploaded file's path, unopened (reading it is digitpad.preprocessing's job, EXIF
    orientation included); anything else (None, a data: URL) as ``preprocess`` makes it."""
    if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
        return payload.path
    return preprocess(payload)


def build_app(
    predictor: Predictor,
    *,
    metrics: dict | None = None,
    examples: list[Path] | None = None,
    collect_dir: Path | None = None,
):
    """The Blocks: drawing and photo tabs, the three outputs, the answer buttons and the tally,
    examples and the note. With ``collect_dir``, labelled digits are saved there."""
    examples = find_examples() if examples is None else examples
    with gr.Blocks(title="digitpad", analytics_enabled=False) as app:
        gr.Markdown(
            "# digitpad\nDraw a digit from 0 to 9: the model reads it each time you lift the "
            "pen. Undo takes back the last stroke, Clear empties the pad. Or show it a photo of "
            "a digit on paper."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=0, min_width=PAD_WIDTH):
                with gr.Tabs():
                    with gr.Tab("Draw", id="draw") as draw_tab:
                        sketch = pad.drawing_pad()
                    with gr.Tab("Photo", id="photo") as photo_tab:
                        photo = photo_input()
                        if examples:
                            gr.Examples(
                                examples=[[str(p)] for p in examples],
                                inputs=[photo],
                                label="Examples: click one",
                                examples_per_page=len(examples),
                                elem_id="examples",
                            )
            with gr.Column(scale=1, min_width=280):
                verdict = gr.Markdown(NO_SKETCH, elem_id="verdict")
                with gr.Group(elem_id="labelling"):
                    gr.Markdown("Right, or wrong? It's a ...", elem_id="wrong-prompt")
                    with gr.Row(elem_id="answers"):
                        right = gr.Button("Right", variant="primary", size="sm", min_width=0,
                                          elem_id="answer-right")
                        digits = [gr.Button(d, size="sm", min_width=0, elem_id=f"answer-{d}")
                                  for d in collect.DIGITS]
                    labelled = gr.Markdown("", elem_id="labelled")
                    tally_text = gr.Markdown(collect.format_tally(None), elem_id="tally")
                    gr.Markdown(collect_note(collect_dir), elem_id="collect-note")
                label = gr.Label(num_top_classes=10, label="The model's probabilities",
                                 elem_id="label")
                seen = gr.Image(
                    label="What the model saw (28x28)",
                    interactive=False,
                    format="png",
                    height=28 * SEEN_SCALE + 40,
                    width=28 * SEEN_SCALE,
                    buttons=[],
                    elem_id="seen",
                )
        with gr.Accordion("How it works", open=False):
            gr.Markdown(how_it_works(metrics), elem_id="how-it-works")

        outputs = [label, verdict, seen]
        read_sketch = partial(predict_sketch, predictor)
        read_photo = partial(predict_image, predictor)
        tab_in_view = gr.State(DRAW)
        tally = gr.State(collect.new_tally())  # this visitor's, kept per browser session
        sketch.change(
            read_sketch,
            inputs=sketch,
            outputs=outputs,
            api_name="predict_sketch",
            trigger_mode="always_last",
            show_progress="hidden",
        )
        photo.change(
            read_photo,
            inputs=photo,
            outputs=outputs,
            api_name="predict_image",
            trigger_mode="always_last",
            show_progress="minimal",
        )
        # The outputs are about the tab in view: switching tabs reads that tab's input again, and
        # the answer buttons label that input.
        for tab, name, read, source in ((draw_tab, DRAW, read_sketch, sketch),
                                        (photo_tab, PHOTO, read_photo, photo)):
            tab.select(partial(show_tab, read, name), inputs=source, outputs=[*outputs, tab_in_view],
                       api_visibility="private", show_progress="hidden")

        labelling = [tally, tally_text, labelled]
        for button, answer in ((right, RIGHT), *zip(digits, collect.DIGITS)):
            button.click(partial(label_input, predictor, collect_dir, answer),
                         inputs=[tab_in_view, sketch, photo, tally], outputs=labelling,
                         api_visibility="private", show_progress="hidden")
        # The same for scripts: /label_sketch and /label_image take the input and the answer.
        # (The hidden textbox is only a place for the answer; nothing on the page changes it.)
        answer_box = gr.Textbox(visible=False, label="answer: 0-9 or right")
        for label_fn, source, api_name in ((label_sketch, sketch, "label_sketch"),
                                           (label_digit, photo, "label_image")):
            answer_box.change(partial(label_fn, predictor, collect_dir),
                              inputs=[source, answer_box, tally], outputs=labelling,
                              api_name=api_name, show_progress="hidden")
    return app


def show_tab(read, name: str, value):
    """A tab came into view: read its input, and remember which tab it is."""
    return (*read(value), name)



# --- serving -------------------------------------------------------------------------------------


def share_problem(timeout: float = 5.0) -> str | None:
    """Why Gradio's share server cannot be reached, or None when it can.

    Asked before launching with ``share=True``: without it, Gradio waits for its own requests to
    fail and then prints a multi-line message that does not say why.
    """
    import httpx
    from gradio import networking

    try:
        response = httpx.get(networking.GRADIO_API_SERVER, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as error:
        return f"cannot reach Gradio's share server ({type(error).__name__}: {error})"
    return None


def launch(
    app,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    prevent_thread_lock: bool = False,
    auth: tuple[str, str] | None = None,
) -> str:
    """Serve ``app``; returns the local URL (at once with ``prevent_thread_lock``, else when the
    server stops). With ``share``, a public link too when the share server can be reached; when
    it cannot, one line says so and why, and the app is served locally all the same."""
    from digitpad import guard

    no_share = share_problem() if share else None
    guard.harden(app)  # queue limits, no queue bypass, uploads deleted (digitpad/guard.py)
    app.launch(
        server_name=host,
        server_port=port,
        share=share and no_share is None,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        footer_links=["api", "gradio", "settings"],
        run_history=False,  # no run records in the browser (and no extra upload per stroke)
        max_file_size="20mb",
        css=CSS,
        **guard.launch_options(auth=auth),  # request limits, closed routes, login
    )
    print(f"* digitpad is running on {app.local_url}", flush=True)
    if share:
        if app.share_url:
            print(f"* public link: {app.share_url}", flush=True)
        else:
            why = no_share or "Gradio could not start its tunnel"
            print(f"* no public link: {why}; serving locally only.", flush=True)
    if not prevent_thread_lock:
        app.block_thread()
    return app.local_url
