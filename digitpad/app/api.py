"""The API: the named endpoints scripts call, plain values in and plain data out.

Scripts use a running app through it::

    from gradio_client import Client, handle_file

    client = Client("http://127.0.0.1:7860/")
    reading = client.predict(handle_file("assets/examples/photo_5.jpg"), api_name="/predict_image")
    print(reading["verdict"])  # 5, 100% sure
    print(reading["digit"])    # 5

``/predict_sketch`` takes the drawing pad's value, the strokes as JSON text
(``'{"strokes": [[[0.5, 0.1], [0.5, 0.9]]]}'`` is a 1; see digitpad/strokes.py).
``/label_sketch`` and ``/label_image`` take the same input and an answer (``"0"``-``"9"`` or
``"right"``), count it in the client's session and, with ``demo.py --collect DIR``, save it.
Every endpoint runs in the calling client's session (a gradio_client Client is one), adapted to
what it labelled; docs/api.md documents them all.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import gradio as gr

from digitpad import reading
from digitpad.app import guard
from digitpad.app.events import label_in
from digitpad.app.gradio_internals import endpoint_function
from digitpad.app.serving import Serving
from digitpad.explain import Explanation, ExplanationJSON, explain_digit
from digitpad.labelling import Labelling, LabellingJSON
from digitpad.reading import ReadingJSON

SEVEN = '{"strokes": [[[0.2, 0.15], [0.8, 0.15], [0.45, 0.9]]]}'  # the API page's example drawings
ONE = '{"strokes": [[[0.5, 0.1], [0.5, 0.9]]]}'
PHOTO_EXAMPLE = "assets/examples/photo_5.jpg"  # the API page's example file, from a clone
# As a FileData: its path is relative to a clone of the repository (the snippet's handle_file).
IMAGE_EXAMPLE = {"path": PHOTO_EXAMPLE, "url": PHOTO_EXAMPLE, "meta": {"_type": "gradio.FileData"}}


def wire_api(serving: Serving) -> None:
    """The named endpoints scripts call: plain values in, plain data out, each in the calling
    client's session (a gradio_client Client is one), adapted to what it labelled."""
    wire_reading(serving)
    wire_bulk(serving)
    wire_labelling(serving)
    wire_explaining(serving)


def wire_reading(serving: Serving) -> None:
    """/predict_sketch and /predict_image: one input, one reading."""
    predictor = serving.predictor

    def predict_sketch(drawing: list[str], request: list[gr.Request]) -> tuple[list[ReadingJSON]]:
        """Read the digit in a drawing: the pad's strokes as JSON text.

        Args:
            drawing: {"strokes": [[[x, y], ...], ...]}, x and y in 0..1 from the pad's top left
        Returns:
            the digit, whether the model is sure, the verdict line, the ten probabilities, the
            28x28 image the model saw (a PNG data URL), and whether your labels changed it
        """
        # One drawing per call; Gradio hands over the calls waiting in the queue together.
        return ([r.as_json() for r in serving.read_sketches(drawing, request)],)

    def predict_image(image: gr.FileData, request: gr.Request) -> ReadingJSON:
        """Read the digit in an image file (a photo of a digit on paper, a canvas).

        Args:
            image: a PNG, JPEG, WebP or GIF file of one handwritten digit
        Returns:
            the digit, whether the model is sure, the verdict line, the ten probabilities, the
            28x28 image the model saw (a PNG data URL), and whether your labels changed it
        """
        path = uploaded_path(image)
        return reading.read_image(predictor, path, serving.memory(request)).as_json()

    endpoint(predict_sketch, {"drawing": SEVEN}, "reading", together=serving.read_together)
    endpoint(predict_image, {"image": IMAGE_EXAMPLE}, "reading")


def wire_bulk(serving: Serving) -> None:
    """/predict_sketches and /predict_images: many inputs in one call, read in one batch."""
    predictor = serving.predictor

    def predict_sketches(drawings: list[str], request: gr.Request) -> list[ReadingJSON]:
        """Read many drawings in one call: a list of the pad's strokes as JSON text, in order.

        Args:
            drawings: up to 1,000 values like {"strokes": [[[x, y], ...], ...]}
        Returns:
            one reading for each drawing, in the same order, as /predict_sketch returns it
        """
        check_bulk(drawings, "drawings")
        memories = [serving.memory(request)] * len(drawings)
        return [r.as_json() for r in reading.read_sketches(predictor, drawings, memories)]

    def predict_images(images: list[gr.FileData], request: gr.Request) -> list[ReadingJSON]:
        """Read many image files in one call, in order.

        Args:
            images: up to 1,000 PNG, JPEG, WebP or GIF files, one handwritten digit each
        Returns:
            one reading for each file, in the same order, as /predict_image returns it
        """
        check_bulk(images, "images")
        paths = [uploaded_path(image) for image in images]
        return [
            r.as_json()
            for r in reading.read_all(predictor, paths, [serving.memory(request)] * len(paths))
        ]

    endpoint(predict_sketches, {"drawings": [SEVEN, ONE]}, "readings")
    endpoint(predict_images, {"images": [IMAGE_EXAMPLE]}, "readings")


def wire_labelling(serving: Serving) -> None:
    """/label_sketch, /label_image and /forget_digits: what the answer buttons do."""
    sessions = serving.sessions

    def label_sketch(drawing: str, answer: str, request: gr.Request) -> LabellingJSON:
        """Say what digit, or number, a drawing is; "right" when the answer was right.

        Args:
            drawing: {"strokes": [[[x, y], ...], ...]}, x and y in 0..1 from the pad's top left
            answer: "0" to "9", all the digits of a number ("2026"), or "right"
        Returns:
            what was done, and this session's tally; the answers adapt to it from now on
        """
        source, problem = reading.parse_sketch(drawing)
        if problem:
            return Labelling(problem).as_json(sessions.get(request.session_hash).tally)
        done, visitor = label_in(serving, request, source, answer)
        return done.as_json(visitor.tally)

    def label_image(image: gr.FileData, answer: str, request: gr.Request) -> LabellingJSON:
        """Say what digit, or number, an image file is; "right" when the answer was right.

        Args:
            image: a PNG, JPEG, WebP or GIF file of one handwritten digit
            answer: "0" to "9", all the digits of a number ("2026"), or "right"
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


def check_bulk(items: list, what: str) -> None:
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
    block_fn = endpoint_function(dependency)
    for component, (name, example) in zip(block_fn.inputs, examples.items()):
        component.label, component.value = name, example
    for component in block_fn.outputs:
        component.label = returns


def one_of(hint: Any) -> Any:
    """``list[X]`` -> ``X``: the type of one call's value, for a function called with many."""
    return typing.get_args(hint)[0] if typing.get_origin(hint) is list else hint


def uploaded_path(image: Any) -> str | None:
    """The server-side path of a file a client uploaded (a FileData dict), or None."""
    if isinstance(image, dict):
        image = image.get("path")
    return image if isinstance(image, str) else None


def wire_explaining(serving: Serving) -> None:
    """/explain_sketch and /explain_image: the "Why?" view as data."""
    predictor = serving.predictor

    def explain_sketch(drawing: str, position: int, request: gr.Request) -> ExplanationJSON:
        """Explain how the model read a drawing: the conversion's steps, where it looked, the
        training digits it is most like.

        Args:
            drawing: {"strokes": [[[x, y], ...], ...]}, x and y in 0..1 from the pad's top left
            position: which digit of a number to explain: 0 for the first (or the only one)
        Returns:
            the steps (images with captions), the heat map (28x28 values in 0..1 and an image),
            the digit and its rival, the nearest training digits, and your own labelled digits
            it is like
        """
        source, problem = reading.parse_sketch(drawing)
        if problem or source is None:
            return Explanation(problem or reading.NO_SKETCH).as_json()
        return explain_digit(predictor, source, int(position), serving.memory(request)).as_json()

    def explain_image(image: gr.FileData, position: int, request: gr.Request) -> ExplanationJSON:
        """Explain how the model read an image file (a photo of a digit, or of a number).

        Args:
            image: a PNG, JPEG, WebP or GIF file
            position: which digit of a number to explain: 0 for the first (or the only one)
        Returns:
            the steps (images with captions), the heat map (28x28 values in 0..1 and an image),
            the digit and its rival, the nearest training digits, and your own labelled digits
            it is like
        """
        path = uploaded_path(image)
        if path is None:
            return Explanation(reading.NO_PHOTO).as_json()
        return explain_digit(predictor, path, int(position), serving.memory(request)).as_json()

    endpoint(explain_sketch, {"drawing": SEVEN, "position": 0}, "explanation")
    endpoint(explain_image, {"image": IMAGE_EXAMPLE, "position": 0}, "explanation")
