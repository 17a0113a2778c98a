"""The Gradio app served by ``demo.py``: the page's layout, its wiring, and the API.

    python demo.py                      # http://127.0.0.1:7860

``build_app(predictor)`` builds the ``gr.Blocks`` and launches nothing; ``launch(app, ...)`` serves
it behind digitpad.guard's limits. What each event does is in digitpad/handlers.py (pure
functions), what the page shows in digitpad/view.py (HTML), each visitor's record in
digitpad/sessions.py; this module lays out the page and wires them together. The pad's script
and styles are files in ``digitpad/web/``.

Scripts use a running app through its API::

    from gradio_client import Client, handle_file

    client = Client("http://127.0.0.1:7860/")
    reading = client.predict(handle_file("assets/examples/photo_5.jpg"), api_name="/predict_image")
    print(reading["verdict"])  # 5, 100% sure
    print(reading["digit"])    # 5

Its endpoints are named, take plain values and return plain data (the page's own events are
private). ``/predict_sketch`` takes the drawing pad's value, the strokes as JSON text
(``'{"strokes": [[[0.5, 0.1], [0.5, 0.9]]]}'`` is a 1; see digitpad/pad.py). ``/label_sketch``
and ``/label_image`` take the same input and an answer (``"0"``-``"9"`` or ``"right"``), count it
in the client's session and, with ``demo.py --collect DIR``, save it.

The pad's ``change`` event fires on every pen lift, undo and clear; ``trigger_mode="always_last"``
makes a burst of strokes end with a reading of the latest drawing.
"""

from __future__ import annotations

import contextvars
import os
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

# No outbound calls at run time: Gradio reads this when it is imported (version check, analytics).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from gradio.context import get_blocks_context  # noqa: E402
from gradio.data_classes import FileData  # noqa: E402

from digitpad import ASSETS_DIR, guard, handlers, pad, view  # noqa: E402
from digitpad.data import DIGITS  # noqa: E402
from digitpad.handlers import NO_SKETCH, RIGHT, LabelResult, Reading, ReadingResult  # noqa: E402
from digitpad.predictor import Predictor  # noqa: E402
from digitpad.sessions import Label, Sessions, Visitor  # noqa: E402

EXAMPLES_DIR = ASSETS_DIR / "examples"
EXAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
WEB_DIR = Path(__file__).resolve().parent / "web"  # the pad's script and the page's styles
PAD_WIDTH = pad.PAD_SIZE  # px, the drawing column
SEVEN = '{"strokes": [[[0.2, 0.15], [0.8, 0.15], [0.45, 0.9]]]}'  # the API page's example drawings
ONE = '{"strokes": [[[0.5, 0.1], [0.5, 0.9]]]}'
PHOTO_EXAMPLE = "assets/examples/photo_5.jpg"  # the API page's example file, from a clone
# As a FileData: its path is relative to a clone of the repository (the snippet's handle_file).
IMAGE_EXAMPLE = {"path": PHOTO_EXAMPLE, "url": PHOTO_EXAMPLE, "meta": {"_type": "gradio.FileData"}}
DRAW, PHOTO = "draw", "photo"  # the tabs, and which input a label is about


@dataclass
class Page:
    """The components events read and write."""

    sketch: Any
    photo: Any
    draw_tab: Any
    photo_tab: Any
    result: Any  # the verdict, the chart and what the model saw (digitpad.view)
    answers: Any  # the row of answer buttons, shown when there is a digit to label
    buttons: list[tuple[Any, str]]  # (button, answer)
    labelled: Any
    tally: Any
    forget: Any  # "Forget my digits"
    tab_in_view: Any  # gr.State: which tab, so which input, the answer buttons label


# --- page content --------------------------------------------------------------------------------


def find_examples(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """The example images shipped in assets/examples/, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)


def how_it_works(metrics: dict | None) -> str:
    """The "how it works" note: what the model learned from, and how it scores (metrics.json)."""
    training = (metrics or {}).get("training", {})
    if metrics and "test_accuracy" in metrics:
        accuracy = (
            f"On the {metrics['n_test']:,} MNIST test digits, which it never trained on, "
            f"it reads **{metrics['test_accuracy']:.2%}** right "
            f"({metrics.get('test_errors', 0):,} mistakes)."
        )
    else:
        accuracy = "Its test accuracy is not recorded (no metrics.json beside the model)."
    return f"""\
**What it learned from.** {trained_on(training)} {accuracy}

**What it sees.** Your drawing or photo is **converted to look like MNIST** before the model
sees it: the digit is found (specks and uneven lighting are ignored; dark ink on light or light
ink on dark both work), cropped, scaled so that its long side is 20 pixels, a much too thick or
thin stroke is brought to MNIST's width, and it is centred by its centre of mass. "What the
model saw" shows the result.

**When it is not sure.** When its top two answers are close it says **not sure** and names
both, instead of guessing; for something that is no digit at all it says **not sure it is a
digit**.
"""


def trained_on(training: dict) -> str:
    """What the model was trained on, in plain words, from the training record."""
    digits = (
        training.get("n_train", 0) - training.get("n_outliers", 0) - training.get("n_styled", 0)
    )
    if digits <= 0:
        return "The model is a small convolutional network trained on MNIST's handwritten digits."
    parts = [
        f"{digits:,} handwritten digits from MNIST (the classic collection of digits "
        "written by American students and Census Bureau staff)"
    ]
    if training.get("n_styled"):
        parts.append(
            f"{training['n_styled']:,} of them drawn again on a pad like this one, half "
            "in the styles MNIST lacks (slashed zeros, continental ones, crossed sevens)"
        )
    if training.get("n_outliers"):
        parts.append(
            f"{training['n_outliers']:,} scribbles, hatchings and shapes that are no "
            "digit, so that it learns to say so"
        )
    return "The model, a small convolutional network, was trained on " + "; ".join(parts) + "."


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
        value="", label="Draw a digit", elem_id="sketchpad",
        html_template=web_file("pad.html"),
        css_template=web_file("pad.css", pad_size=pad.PAD_SIZE),
        js_on_load=web_file("pad.js", radius=repr(pad.PEN_RADIUS), min_step=repr(pad.MIN_STEP)),
    )  # fmt: skip


def photo_input() -> gr.Image:
    """Upload, webcam or paste: the file path goes to the handler, whatever the file holds.

    ``gr.Image(type="filepath")`` still opens the file, so an upload that is not an image would
    fail inside Gradio with a bare "Error"; :func:`pass_path` hands over the path unopened and
    the handler says what is wrong. ``image_mode=None`` keeps an example's transparency: in RGB,
    Gradio's copy of a transparent PNG is one flat colour. (Not a subclass: Gradio writes a
    ``.pyi`` stub beside any module that defines a component class.)
    """
    photo = gr.Image(
        label="A photo of a digit on paper",
        sources=["upload", "webcam", "clipboard"],
        type="filepath",
        image_mode=None,
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
                        label="Examples: tap one",
                        examples_per_page=len(examples),
                        elem_id="examples",
                    )
    return sketch, photo, draw_tab, photo_tab


def output_column(collect_dir: Path | None, owner: int) -> dict[str, Any]:
    """The result panel, then the answer buttons, what a label did, the tally, "Forget my
    digits", and what the page keeps."""
    with gr.Column(scale=1, min_width=300):
        result = gr.HTML(view.result_panel(Reading(NO_SKETCH)), elem_id="result")
        with gr.Column(elem_id="labelling"):
            with gr.Row(elem_id="answers", equal_height=True) as answers:
                right = gr.Button(
                    "Right", variant="primary", size="sm", min_width=0, elem_id="answer-right"
                )
                buttons = [(right, RIGHT)] + [
                    (gr.Button(d, size="sm", min_width=0, elem_id=f"answer-{d}"), d) for d in DIGITS
                ]
            labelled = gr.HTML(view.line(""), elem_id="labelled")
            tally = gr.HTML(view.tally_line(None, 0), elem_id="tally")
            forget = gr.Button("Forget my digits", size="sm", elem_id="forget")
            gr.HTML(view.line(collect_note(collect_dir, owner)), elem_id="collect-note")
    return {
        "result": result,
        "answers": answers,
        "buttons": buttons,
        "labelled": labelled,
        "tally": tally,
        "forget": forget,
    }


def collect_note(folder: Path | None, owner: int = 0) -> str:
    """What the page says about what it keeps, plainly, under the buttons."""
    note = (
        "Your answers stay in this page's session, to adapt the answers to your hand, and are "
        "gone when you close it: nothing is saved."
        if folder is None
        else "Saving is on: each digit you label here is saved, your drawing or photo with its "
        "label, on the computer that runs this app, to teach the model your handwriting."
    )
    if owner:
        note += (
            f" This app adapts its answers to its owner's handwriting, from {owner} digits "
            "they saved."
        )
    return note


@dataclass(frozen=True)
class Serving:
    """What every event needs: the model, where labels are saved, the visitors' records, and
    the owner's saved digits (``demo.py --adapt-from DIR``) that every session starts from."""

    predictor: Predictor
    folder: Path | None
    sessions: Sessions
    owner: tuple[Label, ...] = ()
    read_together: int = guard.READ_TOGETHER  # drawings waiting in the queue read at once, at most

    def memory(self, request: gr.Request | None) -> tuple[Label, ...]:
        """What the answers adapt to for this visitor: the owner's digits, then their own (none
        without a request)."""
        session = None if request is None else request.session_hash
        return self.owner + self.sessions.get(session).memory

    def read_sketches(self, values: list, request: Any) -> list[Reading]:
        """The drawings a batched event was handed (the calls waiting in the queue, up to
        ``read_together``), read in one go, each with its own visitor's labels."""
        memories = [self.memory(r) for r in calls_requests(request, len(values))]
        return handlers.predict_sketches(self.predictor, values, memories)


def build_app(
    predictor: Predictor,
    *,
    metrics: dict | None = None,
    examples: list[Path] | None = None,
    collect_dir: Path | None = None,
    sessions: Sessions | None = None,
    owner: tuple[Label, ...] = (),
    read_together: int = guard.READ_TOGETHER,
) -> gr.Blocks:
    """The Blocks: drawing and photo tabs, the result panel, the answer buttons and the tally,
    examples and the note, and the API. With ``collect_dir``, labelled digits are saved there;
    with ``owner``, every session's answers adapt to those labelled digits. Each visitor's record
    is kept in ``sessions`` (a new store by default), also reachable as ``app.visitors``.
    ``read_together``: how many drawings waiting in the queue (pen lifts, /predict_sketch calls)
    are read at once."""
    examples = find_examples() if examples is None else examples
    serving = Serving(predictor, collect_dir, sessions or Sessions(), tuple(owner), read_together)
    with gr.Blocks(title="digitpad", analytics_enabled=False) as app:
        gr.Markdown(
            "# digitpad\nDraw a digit from 0 to 9, or show a photo of one: the model "
            "reads it each time you lift the pen.",
            elem_id="intro",
        )
        with gr.Row(equal_height=False):
            sketch, photo, draw_tab, photo_tab = input_column(examples)
            outputs = output_column(collect_dir, len(owner))
        with gr.Accordion("How it works", open=False):
            gr.Markdown(how_it_works(metrics), elem_id="how-it-works")
        page = Page(sketch, photo, draw_tab, photo_tab, **outputs, tab_in_view=gr.State(DRAW))
        wire_page(page, serving)
        wire_labels(page, serving)
        wire_api(serving)
        app.unload(forgetting(serving.sessions))
    hand_each_request(app)  # drawings read together, each with its visitor's own labels
    app.visitors = serving.sessions
    return app


# --- the page's events ---------------------------------------------------------------------------


def wire_page(page: Page, serving: Serving) -> None:
    """A pen lift, an upload or a tab coming into view reads that input, adapted to what the
    visitor labelled (private events: the API's endpoints are wire_api's)."""
    predictor = serving.predictor

    def on_sketch(value: str | None, request: gr.Request) -> str:
        return view.result_panel(handlers.predict_sketch(predictor, value, serving.memory(request)))

    def on_sketches(values: list[str | None], request: gr.Request) -> tuple[list[str]]:
        # The pen lifts of all the visitors waiting in the queue, read together.
        return ([view.result_panel(r) for r in serving.read_sketches(values, request)],)

    def on_photo(path: str | None, request: gr.Request) -> str:
        return view.result_panel(handlers.predict_image(predictor, path, serving.memory(request)))

    def on_tab(
        event: gr.SelectData, sketch: str | None, photo: str | None, request: gr.Request
    ) -> tuple[str, str]:
        tab = PHOTO if event.value == "Photo" else DRAW
        return (on_photo(photo, request) if tab == PHOTO else on_sketch(sketch, request)), tab

    together = {"batch": True, "max_batch_size": serving.read_together}
    for source, read, batch in ((page.sketch, on_sketches, together), (page.photo, on_photo, {})):
        source.change(
            read,
            inputs=source,
            outputs=page.result,
            api_visibility="private",
            trigger_mode="always_last",
            show_progress="hidden",
            **batch,
        )
    for tab in (page.draw_tab, page.photo_tab):
        tab.select(
            on_tab,
            inputs=[page.sketch, page.photo],
            outputs=[page.result, page.tab_in_view],
            api_visibility="private",
            show_progress="hidden",
        )


def wire_labels(page: Page, serving: Serving) -> None:
    """The answer buttons label the input in view, in the visitor's own record; "Forget my
    digits" empties it."""

    def answering(answer: str) -> Callable[..., tuple[str, str]]:
        def on_answer(
            tab: str, sketch: str | None, photo: str | None, request: gr.Request
        ) -> tuple[str, str]:
            source, problem = (photo, None) if tab == PHOTO else handlers.drawing_or_problem(sketch)
            if problem:
                done, visitor = (
                    handlers.Labelled(problem),
                    serving.sessions.get(request.session_hash),
                )
            else:
                done, visitor = label_in(serving, request, source, answer)
            return view.tally_line(visitor.tally, len(visitor.labels)), view.line(done.message)

        return on_answer

    def on_forget(request: gr.Request) -> tuple[str, str]:
        serving.sessions.forget(request.session_hash)
        return view.tally_line(None, 0), view.line(
            "Forgotten: the answers no longer adapt to your digits."
        )

    for button, answer in page.buttons:
        button.click(
            answering(answer),
            inputs=[page.tab_in_view, page.sketch, page.photo],
            outputs=[page.tally, page.labelled],
            api_visibility="private",
            show_progress="hidden",
        )
    page.forget.click(
        on_forget,
        outputs=[page.tally, page.labelled],
        api_visibility="private",
        show_progress="hidden",
    )


def label_in(
    serving: Serving, request: gr.Request, source: object, answer: str
) -> tuple[handlers.Labelled, Visitor]:
    """Label ``source`` in the visitor's record: their earlier answer about the same input, if
    any, is looked up first, so that the same answer counts once and a new one replaces it."""
    sessions, session = serving.sessions, request.session_hash
    key = handlers.key_of(source)
    previous = sessions.get(session).label_of(key)
    done = handlers.label(
        serving.predictor, serving.folder, source, answer, previous, serving.memory(request)
    )
    if done.label is None:
        return done, sessions.get(session)
    return done, sessions.update(session, lambda visitor: visitor.labelled(key, done.label))


def forgetting(sessions: Sessions) -> Callable[[gr.Request], None]:
    """The page's unload event: the visitor closed the tab, and their record goes with it."""

    def forget(request: gr.Request) -> None:
        sessions.forget(request.session_hash)

    return forget


# --- the API -------------------------------------------------------------------------------------


def wire_api(serving: Serving) -> None:
    """The named endpoints scripts call: plain values in, plain data out, each in the calling
    client's session (a gradio_client Client is one), adapted to what it labelled."""
    wire_reading(serving)
    wire_bulk(serving)
    wire_labelling(serving)


def wire_reading(serving: Serving) -> None:
    """/predict_sketch and /predict_image: one input, one reading."""
    predictor = serving.predictor

    def predict_sketch(drawing: list[str], request: list[gr.Request]) -> tuple[list[ReadingResult]]:
        """Read the digit in a drawing: the pad's strokes as JSON text.

        Args:
            drawing: {"strokes": [[[x, y], ...], ...]}, x and y in 0..1 from the pad's top left
        Returns:
            the digit, whether the model is sure, the verdict line, the ten probabilities, the
            28x28 image the model saw (a PNG data URL), and whether your labels changed it
        """
        # One drawing per call; Gradio hands over the calls waiting in the queue together.
        return ([reading.as_json() for reading in serving.read_sketches(drawing, request)],)

    def predict_image(image: FileData, request: gr.Request) -> ReadingResult:
        """Read the digit in an image file (a photo of a digit on paper, a canvas).

        Args:
            image: a PNG, JPEG, WebP or GIF file of one handwritten digit
        Returns:
            the digit, whether the model is sure, the verdict line, the ten probabilities, the
            28x28 image the model saw (a PNG data URL), and whether your labels changed it
        """
        path = uploaded_path(image)
        return handlers.predict_image(predictor, path, serving.memory(request)).as_json()

    endpoint(predict_sketch, {"drawing": SEVEN}, "reading", together=serving.read_together)
    endpoint(predict_image, {"image": IMAGE_EXAMPLE}, "reading")


def wire_bulk(serving: Serving) -> None:
    """/predict_sketches and /predict_images: many inputs in one call, read in one batch."""
    predictor = serving.predictor

    def predict_sketches(drawings: list[str], request: gr.Request) -> list[ReadingResult]:
        """Read many drawings in one call: a list of the pad's strokes as JSON text, in order.

        Args:
            drawings: up to 1,000 values like {"strokes": [[[x, y], ...], ...]}
        Returns:
            one reading for each drawing, in the same order, as /predict_sketch returns it
        """
        bounded(drawings, "drawings")
        memories = [serving.memory(request)] * len(drawings)
        return [r.as_json() for r in handlers.predict_sketches(predictor, drawings, memories)]

    def predict_images(images: list[FileData], request: gr.Request) -> list[ReadingResult]:
        """Read many image files in one call, in order.

        Args:
            images: up to 1,000 PNG, JPEG, WebP or GIF files, one handwritten digit each
        Returns:
            one reading for each file, in the same order, as /predict_image returns it
        """
        bounded(images, "images")
        paths = [uploaded_path(image) for image in images]
        return [r.as_json() for r in handlers.read_many(predictor, paths, serving.memory(request))]

    endpoint(predict_sketches, {"drawings": [SEVEN, ONE]}, "readings")
    endpoint(predict_images, {"images": [IMAGE_EXAMPLE]}, "readings")


def wire_labelling(serving: Serving) -> None:
    """/label_sketch, /label_image and /forget_digits: what the answer buttons do."""
    sessions = serving.sessions

    def label_sketch(drawing: str, answer: str, request: gr.Request) -> LabelResult:
        """Say what digit a drawing is: "0"-"9", or "right" when the answer was right.

        Args:
            drawing: {"strokes": [[[x, y], ...], ...]}, x and y in 0..1 from the pad's top left
            answer: "0" to "9", or "right"
        Returns:
            what was done, and this session's tally; the answers adapt to it from now on
        """
        source, problem = handlers.drawing_or_problem(drawing)
        if problem:
            return handlers.Labelled(problem).as_json(sessions.get(request.session_hash).tally)
        done, visitor = label_in(serving, request, source, answer)
        return done.as_json(visitor.tally)

    def label_image(image: FileData, answer: str, request: gr.Request) -> LabelResult:
        """Say what digit an image file is: "0"-"9", or "right" when the answer was right.

        Args:
            image: a PNG, JPEG, WebP or GIF file of one handwritten digit
            answer: "0" to "9", or "right"
        Returns:
            what was done, and this session's tally; the answers adapt to it from now on
        """
        done, visitor = label_in(serving, request, uploaded_path(image), answer)
        return done.as_json(visitor.tally)

    def forget_digits(request: gr.Request) -> int:
        """Forget the digits this session labelled: the answers no longer adapt to them.

        Returns:
            how many labelled digits were forgotten
        """
        forgotten = len(sessions.get(request.session_hash).labels)
        sessions.forget(request.session_hash)
        return forgotten

    endpoint(label_sketch, {"drawing": SEVEN, "answer": "7"}, "labelled")
    endpoint(label_image, {"image": IMAGE_EXAMPLE, "answer": "right"}, "labelled")
    endpoint(forget_digits, {}, "forgotten")


def bounded(items: list, what: str) -> None:
    """Refuse a bulk call of more than guard.MAX_BULK items, in a line that says what to do."""
    if not isinstance(items, list):
        raise gr.Error(f"send the {what} as a list")
    if len(items) > guard.MAX_BULK:
        raise gr.Error(
            f"{len(items):,} {what} in one call: at most {guard.MAX_BULK:,}; send them in parts"
        )


def endpoint(fn: Callable, examples: dict[str, object], returns: str, together: int = 0) -> None:
    """``fn`` as a named API endpoint (``/<its name>``), documented from its docstring and
    types, its parameters and result named, with real example values for the API page. With
    ``together``, up to that many calls waiting in the queue are handed to ``fn`` at once (a
    list of each parameter; it returns a tuple holding the list of results): the API still
    takes and returns one of each per call, as the types of one call document it."""
    hints = typing.get_type_hints(fn)  # strings here (PEP 563); gr.api reads the types
    if together:
        hints = {name: one_of(hint) for name, hint in hints.items()}
        hints["return"] = one_of(typing.get_args(hints["return"])[0])
    fn.__annotations__ = hints
    batch = {"batch": True, "max_batch_size": together} if together else {}
    dependency = gr.api(fn, api_name=fn.__name__, **batch)
    block_fn = get_blocks_context().fns[dependency["id"]]
    for component, (name, example) in zip(block_fn.inputs, examples.items()):
        component.label, component.value = name, example
    for component in block_fn.outputs:
        component.label = returns


# The requests of the calls Gradio hands a batched function together (:func:`hand_each_request`).
BATCH_REQUESTS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "digitpad_batch_requests", default=None
)


def hand_each_request(app: gr.Blocks) -> None:
    """Gradio 6 passes a batched function the request of the first call in the batch alone
    (``Blocks.call_function`` takes ``requests[0]``). Keep them all, for the function's thread,
    where :func:`calls_requests` finds them: each visitor's labels are theirs alone."""
    original = app.call_function

    async def call_function(block_fn, processed_input, iterator=None, requests=None, *more, **kw):
        token = BATCH_REQUESTS.set(requests if isinstance(requests, list) else None)
        try:
            return await original(block_fn, processed_input, iterator, requests, *more, **kw)
        finally:
            BATCH_REQUESTS.reset(token)

    app.call_function = call_function


def calls_requests(request: Any, count: int) -> list:
    """The request of each of the ``count`` calls a batched function was handed. When they
    cannot be told apart, none (``None``: no session, so no visitor's labels), never one
    visitor's for another's call."""
    requests = BATCH_REQUESTS.get()
    if requests is not None and len(requests) == count:
        return requests
    return [request] if count == 1 else [None] * count


def one_of(hint: Any) -> Any:
    """``list[X]`` -> ``X``: the type of one call's value, for a function called with many."""
    return typing.get_args(hint)[0] if typing.get_origin(hint) is list else hint


def uploaded_path(image: Any) -> str | None:
    """The server-side path of a file a client uploaded (a FileData dict), or None."""
    if isinstance(image, dict):
        image = image.get("path")
    return image if isinstance(image, str) else None


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
