"""The Gradio app served by ``demo.py``: the page's layout and its wiring to the handlers.

    python demo.py                      # http://127.0.0.1:7860

``build_app(predictor)`` builds the ``gr.Blocks`` and launches nothing; ``launch(app, ...)`` serves
it behind digitpad.guard's limits. What each event does is in digitpad/handlers.py (pure
functions); this module lays out the page, wires events to them and keeps each visitor's tally
(digitpad.sessions). The pad's script and styles are files in ``digitpad/web/``.

Scripts can use a running app through its API::

    from gradio_client import Client, handle_file

    client = Client("http://127.0.0.1:7860/")
    label, verdict, seen = client.predict(
        handle_file("assets/examples/photo_5.jpg"), api_name="/predict_image"
    )
    print(verdict)         # 5, 100% sure
    print(label["label"])  # 5

``/predict_sketch`` takes the drawing pad's value, the strokes as JSON text
(``'{"strokes": [[[0.5, 0.1], [0.5, 0.9]]]}'`` is a 1; see digitpad/pad.py). ``/label_sketch``
and ``/label_image`` take the same input and an answer (``"0"``-``"9"`` or ``"right"``), count it
in the client's session and, with ``demo.py --collect DIR``, save it; they return plain data.

The pad's ``change`` event fires on every pen lift, undo and clear; ``trigger_mode="always_last"``
makes a burst of strokes end with a prediction on the latest drawing.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

# No outbound calls at run time: Gradio reads this when it is imported (version check, analytics).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from gradio.data_classes import FileData  # noqa: E402

from digitpad import ASSETS_DIR, collect, guard, handlers, pad  # noqa: E402
from digitpad.data import DIGITS  # noqa: E402
from digitpad.handlers import NO_SKETCH, RIGHT, LabelResult  # noqa: E402
from digitpad.predictor import Predictor  # noqa: E402
from digitpad.sessions import Sessions, Visitor  # noqa: E402

EXAMPLES_DIR = ASSETS_DIR / "examples"
EXAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
WEB_DIR = Path(__file__).resolve().parent / "web"  # the pad's script and the page's styles
PAD_WIDTH = pad.PAD_SIZE  # px, the drawing column
SEEN_SCALE = 8  # the 28x28 image the model received is shown this many times larger, pixelated
DRAW, PHOTO = "draw", "photo"  # the tabs, and which input a label is about


@dataclass
class Page:
    """The components events read and write."""

    sketch: Any
    photo: Any
    draw_tab: Any
    photo_tab: Any
    verdict: Any
    label: Any
    seen: Any
    buttons: list[tuple[Any, str]]  # (button, answer)
    labelled: Any
    tally_text: Any
    tab_in_view: Any  # gr.State: which tab, so which input, the answer buttons label


# --- page content --------------------------------------------------------------------------------


def find_examples(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """The example images shipped in assets/examples/, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)


def collect_note(folder: Path | None) -> str:
    """What the page says about saving, plainly, above the buttons."""
    if folder is None:
        return "Your answers count only in your tally: **nothing is saved**."
    return (
        "**Saving is on.** Each digit you label here is saved, your drawing or photo with "
        "its label, on the computer that runs this app, to teach the model your handwriting."
    )


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


def web_file(name: str, **values: object) -> str:
    """A file of ``digitpad/web/`` with its ``__NAME__`` placeholders filled in."""
    text = (WEB_DIR / name).read_text()
    for key, value in values.items():
        text = text.replace(f"__{key.upper()}__", str(value))
    return text


# --- the inputs ----------------------------------------------------------------------------------


def drawing_pad() -> gr.HTML:
    """The pad (digitpad/web/pad.*) as a ``gr.HTML`` component; its ``change`` event fires on
    every pen lift, undo and clear, with the strokes as its value."""
    return gr.HTML(
        value="",
        label="Draw a digit",
        elem_id="sketchpad",
        html_template=web_file("pad.html"),
        css_template=web_file("pad.css", pad_size=pad.PAD_SIZE),
        js_on_load=web_file("pad.js", radius=repr(pad.PEN_RADIUS), min_step=repr(pad.MIN_STEP)),
    )


def photo_input() -> gr.Image:
    """Upload, webcam or paste: the file path goes to the handler, whatever the file holds.

    ``gr.Image(type="filepath")`` still opens the file, so an upload that is not an image would
    fail inside Gradio with a bare "Error"; :func:`pass_path` hands over the path unopened and
    the handler says what is wrong. (Not a subclass: Gradio writes a ``.pyi`` stub beside any
    module that defines a component class.)
    """
    photo = gr.Image(
        label="A photo of a digit on paper",
        sources=["upload", "webcam", "clipboard"],
        type="filepath",
        height=PAD_WIDTH,
        elem_id="photo",
    )
    photo.preprocess = partial(pass_path, photo.preprocess)
    return photo


def pass_path(preprocess: Any, payload: Any) -> Any:
    """An uploaded file's path, unopened (reading it is digitpad.images' job, EXIF orientation
    included); anything else (None, a data: URL) as ``preprocess`` makes it."""
    if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
        return payload.path
    return preprocess(payload)


# --- the layout ----------------------------------------------------------------------------------


def input_column(examples: list[Path]) -> tuple[Any, Any, Any, Any]:
    """The Draw and Photo tabs: (sketch, photo, draw tab, photo tab)."""
    with gr.Column(scale=0, min_width=PAD_WIDTH):
        with gr.Tabs():
            with gr.Tab("Draw", id=DRAW) as draw_tab:
                sketch = drawing_pad()
            with gr.Tab("Photo", id=PHOTO) as photo_tab:
                photo = photo_input()
                if examples:
                    gr.Examples(
                        examples=[[str(p)] for p in examples],
                        inputs=[photo],
                        label="Examples: click one",
                        examples_per_page=len(examples),
                        elem_id="examples",
                    )
    return sketch, photo, draw_tab, photo_tab


def output_column(collect_dir: Path | None) -> dict[str, Any]:
    """The verdict, the answer buttons and tally, the probabilities and what the model saw."""
    with gr.Column(scale=1, min_width=280):
        verdict = gr.Markdown(NO_SKETCH, elem_id="verdict")
        with gr.Group(elem_id="labelling"):
            gr.Markdown("Right, or wrong? It's a ...", elem_id="wrong-prompt")
            with gr.Row(elem_id="answers"):
                buttons = [
                    (
                        gr.Button(
                            "Right",
                            variant="primary",
                            size="sm",
                            min_width=0,
                            elem_id="answer-right",
                        ),
                        RIGHT,
                    )
                ]
                buttons += [
                    (gr.Button(d, size="sm", min_width=0, elem_id=f"answer-{d}"), d) for d in DIGITS
                ]
            labelled = gr.Markdown("", elem_id="labelled")
            tally_text = gr.Markdown(collect.format_tally(None), elem_id="tally")
            gr.Markdown(collect_note(collect_dir), elem_id="collect-note")
        label = gr.Label(num_top_classes=10, label="The model's probabilities", elem_id="label")
        seen = gr.Image(
            label="What the model saw (28x28)",
            interactive=False,
            format="png",
            height=28 * SEEN_SCALE + 40,
            width=28 * SEEN_SCALE,
            buttons=[],
            elem_id="seen",
        )
    return {
        "verdict": verdict,
        "label": label,
        "seen": seen,
        "buttons": buttons,
        "labelled": labelled,
        "tally_text": tally_text,
    }


def build_app(
    predictor: Predictor,
    *,
    metrics: dict | None = None,
    examples: list[Path] | None = None,
    collect_dir: Path | None = None,
    sessions: Sessions | None = None,
) -> gr.Blocks:
    """The Blocks: drawing and photo tabs, the three outputs, the answer buttons and the tally,
    examples and the note. With ``collect_dir``, labelled digits are saved there. Each visitor's
    tally is kept in ``sessions`` (a new store by default), also reachable as ``app.visitors``."""
    examples = find_examples() if examples is None else examples
    sessions = sessions or Sessions()
    with gr.Blocks(title="digitpad", analytics_enabled=False) as app:
        gr.Markdown(
            "# digitpad\nDraw a digit from 0 to 9: the model reads it each time you lift the "
            "pen. Undo takes back the last stroke, Clear empties the pad. Or show it a photo of "
            "a digit on paper."
        )
        with gr.Row(equal_height=False):
            sketch, photo, draw_tab, photo_tab = input_column(examples)
            outputs = output_column(collect_dir)
        with gr.Accordion("How it works", open=False):
            gr.Markdown(how_it_works(metrics), elem_id="how-it-works")
        page = Page(sketch, photo, draw_tab, photo_tab, **outputs, tab_in_view=gr.State(DRAW))
        wire_predictions(page, predictor)
        wire_labels(page, predictor, collect_dir, sessions)
        app.unload(forgetting(sessions))
    app.visitors = sessions
    return app


# --- the wiring ----------------------------------------------------------------------------------


def wire_predictions(page: Page, predictor: Predictor) -> None:
    """A pen lift, an upload or a tab coming into view reads that input."""
    outputs = [page.label, page.verdict, page.seen]
    read_sketch = partial(handlers.predict_sketch, predictor)
    read_photo = partial(handlers.predict_image, predictor)
    page.sketch.change(
        read_sketch,
        inputs=page.sketch,
        outputs=outputs,
        api_name="predict_sketch",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    page.photo.change(
        read_photo,
        inputs=page.photo,
        outputs=outputs,
        api_name="predict_image",
        trigger_mode="always_last",
        show_progress="minimal",
    )
    for tab, name, read, source in (
        (page.draw_tab, DRAW, read_sketch, page.sketch),
        (page.photo_tab, PHOTO, read_photo, page.photo),
    ):
        tab.select(
            partial(show_tab, read, name),
            inputs=source,
            outputs=[*outputs, page.tab_in_view],
            api_visibility="private",
            show_progress="hidden",
        )


def show_tab(read: Any, name: str, value: Any) -> tuple:
    """A tab came into view: read its input, and remember which tab it is."""
    return (*read(value), name)


def wire_labels(page: Page, predictor: Predictor, folder: Path | None, sessions: Sessions) -> None:
    """The answer buttons label the input in view; ``/label_sketch`` and ``/label_image`` do the
    same for scripts. Both count in the visitor's own tally (``sessions``)."""

    def answering(answer: str) -> Callable[..., tuple[str, str]]:
        def on_answer(
            tab: str, sketch: str | None, photo: str | None, request: gr.Request
        ) -> tuple[str, str]:
            if tab == PHOTO:
                done = handlers.label(predictor, folder, photo, answer)
            else:
                done = handlers.label_sketch(predictor, folder, sketch, answer)
            return collect.format_tally(count(sessions, request, done).tally), done.message

        return on_answer

    for button, answer in page.buttons:
        button.click(
            answering(answer),
            inputs=[page.tab_in_view, page.sketch, page.photo],
            outputs=[page.tally_text, page.labelled],
            api_visibility="private",
            show_progress="hidden",
        )

    def label_sketch(drawing: str, answer: str, request: gr.Request) -> LabelResult:
        """Say what digit a drawing is: "0"-"9", or "right" when the model read it right.

        Args:
            drawing: the pad's strokes as JSON text, {"strokes": [[[x, y], ...], ...]},
                x and y in 0..1 from the pad's top-left corner
            answer: "0" to "9", or "right"
        Returns:
            what was done, and this session's tally
        """
        done = handlers.label_sketch(predictor, folder, drawing, answer)
        return done.as_json(count(sessions, request, done).tally)

    def label_image(image: FileData, answer: str, request: gr.Request) -> LabelResult:
        """Say what digit an image file is: "0"-"9", or "right" when the model read it right.

        Args:
            image: an image file (PNG, JPEG, ...) of one handwritten digit
            answer: "0" to "9", or "right"
        Returns:
            what was done, and this session's tally
        """
        done = handlers.label(predictor, folder, uploaded_path(image), answer)
        return done.as_json(count(sessions, request, done).tally)

    gr.api(typed(label_sketch), api_name="label_sketch")
    gr.api(typed(label_image), api_name="label_image")


def typed(fn: Callable) -> Callable:
    """``fn`` with its annotations evaluated: gr.api documents an endpoint from the types in its
    signature, which are strings in this module (``from __future__ import annotations``)."""
    fn.__annotations__ = typing.get_type_hints(fn)
    return fn


def uploaded_path(image: Any) -> str | None:
    """The server-side path of a file a client uploaded (a FileData dict), or None."""
    if isinstance(image, dict):
        image = image.get("path")
    return image if isinstance(image, str) else None


def count(sessions: Sessions, request: gr.Request, done: handlers.Labelled) -> Visitor:
    """The visitor's record with ``done`` counted in its tally (unchanged when nothing was done)."""
    return sessions.update(
        request.session_hash, lambda visitor: replace(visitor, tally=done.counted_in(visitor.tally))
    )


def forgetting(sessions: Sessions) -> Callable[[gr.Request], None]:
    """The page's unload event: the visitor closed the tab, and their record goes with it."""

    def forget(request: gr.Request) -> None:
        sessions.forget(request.session_hash)

    return forget


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
    app: gr.Blocks,
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
    no_share = share_problem() if share else None
    guard.harden(app)  # queue limits, no queue bypass, uploads deleted (digitpad/guard.py)
    visitors = getattr(app, "visitors", None)
    app.launch(
        server_name=host,
        server_port=port,
        share=share and no_share is None,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        footer_links=["api", "gradio", "settings"],
        run_history=False,  # no run records in the browser (and no extra upload per stroke)
        max_file_size=guard.MAX_UPLOAD,
        css=web_file("app.css"),
        **guard.launch_options(auth=auth, forget=visitors.forget if visitors else None),
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
