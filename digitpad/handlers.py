"""The app's event handlers: pure functions from what a visitor sends to what the page shows.

No Gradio here: digitpad/app.py wires these to the page and the API. Every input, a drawing
from the pad or an uploaded photo, goes the same way: read it (digitpad.pad, digitpad.images),
convert and predict (``Predictor.recognise``), and word the answer. Anything unreadable gets a
one-line answer that says so, never an exception.

- :func:`predict_sketch` and :func:`predict_image` give a :class:`Reading`: the verdict line,
  the ten probabilities and the 28x28 image the model received, which the page shows
  (digitpad.view) and the API returns as plain data (:meth:`Reading.as_json`).
- :func:`label` is the answer buttons' and the labelling API's: the person says what the digit
  is; it counts in their tally and, with a collection folder, is saved there (digitpad.collect).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np

from digitpad import collect
from digitpad.data import DIGITS, load_collection
from digitpad.images import ImageError
from digitpad.memory import Example, adapt, unit
from digitpad.pad import Drawing, read_drawing
from digitpad.predictor import Predictor, Recognition
from digitpad.sessions import Label
from digitpad.verdict import Prediction

log = logging.getLogger(__name__)

NO_SKETCH = "draw a digit"
NO_PHOTO = "upload, snap or paste a photo of a digit"
RIGHT = "right"  # the answer of the "Right" button: the model's digit is the true one


class ReadingResult(TypedDict):
    """What the API returns for one input (:meth:`Reading.as_json`)."""

    digit: int | None  # the digit read; None when there is none to read
    sure: bool  # the model is sure of it (digitpad.verdict.is_sure)
    verdict: str  # the line the page shows: "7, 98% sure", "not sure: 4 or 9?", or why not
    probabilities: list[float] | None  # the ten digits' probabilities, in order 0-9
    image28: str | None  # the 28x28 image the model saw: a PNG as a data: URL
    adapted: bool  # the session's labelled digits changed the answer (digitpad.memory)


# --- reading an input ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What the app read in one input: the line to show and, when there was a digit, what the
    model saw and said. ``problem`` is True when the input itself could not be read."""

    message: str
    image: np.ndarray | None = None  # (28, 28) float32 in [0, 1]
    prediction: Prediction | None = None  # the answer: the model's, adapted to the labels
    features: np.ndarray | None = None  # (F,) unit length: what the classifier read
    problem: bool = False
    model: Prediction | None = None  # what the model alone said
    examples: int = 0  # how many of the person's labelled digits spoke (digitpad.memory)

    @property
    def digit(self) -> int | None:
        return None if self.prediction is None else self.prediction.digit

    @property
    def adapted(self) -> bool:
        """The person's labelled digits changed the answer: another digit, or now sure."""
        model, answer = self.model, self.prediction
        return bool(
            self.examples
            and model is not None
            and answer is not None
            and (answer.digit != model.digit or answer.sure != model.sure)
        )

    def as_json(self) -> ReadingResult:
        """Plain data for the API: numbers and a data: URL, no files."""
        prediction = self.prediction
        return {
            "digit": self.digit,
            "sure": bool(prediction is not None and prediction.sure),
            "verdict": self.message,
            "probabilities": None
            if prediction is None
            else [round(float(p), 6) for p in prediction.probabilities],
            "image28": None if self.image is None else png_data_url(as_pixels(self.image)),
            "adapted": self.adapted,
        }


def predict_sketch(
    predictor: Predictor, value: str | None, memory: Sequence[Example] = ()
) -> Reading:
    """The drawing pad's value (its strokes as JSON text; "" or None when empty) -> Reading,
    adapted to the labelled digits in ``memory`` (digitpad.memory)."""
    drawing, problem = drawing_or_problem(value)
    if drawing is None:
        return Reading(problem or NO_SKETCH, problem=problem is not None)
    return read(predictor, drawing, memory)


def predict_image(
    predictor: Predictor, path: str | None, memory: Sequence[Example] = ()
) -> Reading:
    """An uploaded, snapped or pasted photo (a file path; None when removed) -> Reading."""
    return Reading(NO_PHOTO) if path is None else read(predictor, path, memory)


def drawing_or_problem(value: object) -> tuple[Drawing | None, str | None]:
    """(the pad's drawing, None); (None, None) for an empty pad; or (None, why) for a value that
    is not a drawing (it comes from the client: anything can arrive)."""
    try:
        return read_drawing(value), None
    except ValueError as error:
        return None, f"Can't read that drawing: {error}."


def read(predictor: Predictor, source: object, memory: Sequence[Example] = ()) -> Reading:
    """Any input -> :class:`Reading`; an unreadable one says why, never an exception. With a
    ``memory`` of labelled digits, the answer is adapted to them (:func:`adapted`)."""
    recognition, problem = read_safely(predictor, source)
    if recognition is None:
        return Reading(problem, problem=True)
    return adapted(recognition, memory)


def adapted(recognition: Recognition, memory: Sequence[Example] = ()) -> Reading:
    """What the model recognised, adapted to the labelled digits in ``memory``
    (digitpad.memory.adapt); the verdict says so when they changed the answer."""
    model = recognition.prediction
    if model is None:
        return Reading(recognition.message)
    features = unit(recognition.features)
    probabilities, spoke = adapt(model.probabilities, features, memory)
    answer = Prediction(probabilities) if spoke else model
    reading = Reading(
        answer.verdict, recognition.image, answer, features, model=model, examples=spoke
    )
    if not reading.adapted:
        return reading
    if answer.sure:
        return dataclasses.replace(reading, message=f"{answer.verdict}, like your examples")
    said = f"{answer.verdict} {answer.digit} is like your examples"
    return dataclasses.replace(reading, message=said)


def read_many(
    predictor: Predictor, sources: Sequence[object], memory: Sequence[Example] = ()
) -> list[Reading]:
    """Many inputs (drawings, image paths; None for an empty one) at once: each read as
    :func:`read` reads it, the model called once for all of them. An input that can't be read
    says why in its own reading."""
    return read_each(predictor, sources, [memory] * len(sources))


def read_each(
    predictor: Predictor, sources: Sequence[object], memories: Sequence[Sequence[Example]]
) -> list[Reading]:
    """:func:`read_many`, each input adapted to its own memory (one per source: the inputs of
    several visitors, read together)."""
    recognitions = iter(predictor.recognise_many([s for s in sources if s is not None]))
    readings = []
    for source, memory in zip(sources, memories, strict=True):
        if source is None:
            readings.append(Reading(NO_SKETCH))
            continue
        recognition = next(recognitions)
        if recognition.error is not None:
            readings.append(
                Reading(
                    f"Can't read that image: {problem_text(recognition.error, source)}",
                    problem=True,
                )
            )
        else:
            readings.append(adapted(recognition, memory))
    return readings


def predict_sketches(
    predictor: Predictor, values: Sequence[object], memories: Sequence[Sequence[Example]]
) -> list[Reading]:
    """Many drawing pads' values, each adapted to its own memory: each read as
    :func:`predict_sketch` reads it, the model called once for all of them."""
    parsed = [drawing_or_problem(value) for value in values]
    readings = read_each(predictor, [drawing for drawing, _ in parsed], memories)
    return [
        Reading(problem, problem=True) if problem else reading
        for reading, (_, problem) in zip(readings, parsed)
    ]


def read_safely(predictor: Predictor, source: object) -> tuple[Recognition | None, str | None]:
    """(Recognition, None), or (None, "Can't read that image: ...") for an unreadable input; an
    upload is named by its file name in that message, never by its path on the server, and the
    message is the reader's, not an exception's name."""
    try:
        return predictor.recognise(source), None
    except ImageError as error:
        return None, f"Can't read that image: {problem_text(error, source)}"


def problem_text(error: ImageError, source: object) -> str:
    """What is wrong with an input, naming an upload by its file name, never by its path on
    the server."""
    message = str(error)
    if isinstance(source, (str, os.PathLike)):
        message = message.replace(str(source), Path(source).name)
    return message


def as_pixels(image: np.ndarray) -> np.ndarray:
    """(28, 28) float in [0, 1] -> (28, 28) uint8, white ink on black as MNIST and the model see
    it."""
    return np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def png_data_url(pixels: np.ndarray) -> str:
    """A small uint8 image as a PNG ``data:`` URL (a few hundred bytes for 28x28)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- labelling: the person says what the digit is -------------------------------------------


class Tally(TypedDict):
    """How a visitor's labels went: how many, how many the model read right, and its mistakes
    by true digit (digitpad.collect.update_tally)."""

    labelled: int
    right: int  # the app's answers (adapted to the session's labelled digits)
    model_right: int  # the model's alone
    mistakes: list[int]  # of the app's answers, by true digit


class LabelResult(TypedDict):
    """What the labelling API returns (:meth:`Labelled.as_json`)."""

    counted: bool  # False: nothing new was counted, and the message says why
    label: int | None  # the true digit, as the person said
    predicted: int | None  # what the model read
    saved: bool  # kept in the app's collection folder (demo.py --collect DIR)
    message: str  # what was done, in a line: "Counted: a 7 (the model said 1)."
    tally: Tally  # this session's tally, after this label


@dataclass(frozen=True)
class Labelled:
    """What a label did, in a line for the person; ``label`` is what to count in their record
    (digitpad.sessions.Visitor.labelled), None when nothing new is (the message says why)."""

    message: str
    label: Label | None = None
    saved: bool = False

    def as_json(self, tally: dict) -> LabelResult:
        """What the labelling API returns: plain data, with the session's tally after it."""
        label = self.label
        return {
            "counted": label is not None,
            "label": None if label is None else label.digit,
            "predicted": None if label is None else label.predicted,
            "saved": self.saved,
            "message": self.message,
            "tally": tally,
        }


def key_of(source: object) -> str:
    """An input's fingerprint: the same drawing, or the same file, gives the same key, so that
    labelling it twice counts once."""
    digest = hashlib.sha256()
    if isinstance(source, Drawing):
        digest.update(json.dumps(source.as_lists()).encode())
    elif isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        digest.update(Path(source).read_bytes())
    else:
        digest.update(repr(source).encode())
    return digest.hexdigest()


def article(digit: int) -> str:
    """ "a 7", but "an 8"."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def label(
    predictor: Predictor,
    folder: Path | None,
    source: object,
    answer: str | None,
    previous: Label | None = None,
    memory: Sequence[Example] = (),
) -> Labelled:
    """The person says the digit in ``source`` (a drawing, or an upload's path) is ``answer``
    ("0"-"9", or ``RIGHT``: what the app answered is right); ``previous`` is their earlier
    answer about the same input, ``memory`` the labelled digits the app's answer adapts to.

    The input is read again (a few ms), so what is saved and counted is exactly what the model
    sees now, whatever the browser showed. With a ``folder`` (``demo.py --collect DIR``) the
    original and the 28x28 image are saved there with the label (digitpad.collect.save_digit),
    and a changed answer changes the saved label; without one, it only counts. The same answer
    again counts nothing.
    """
    if source is None:
        return Labelled("Nothing to label yet: draw a digit or show a photo first.")
    reading = read(predictor, source, memory)
    if reading.problem:
        return Labelled(reading.message)
    shown = reading.prediction
    if shown is None:
        return Labelled(f"Nothing to label: {reading.message}.")
    if answer == RIGHT and not shown.sure:
        doubt = f"{shown.digit} or {shown.runner_up}?"
        return Labelled(f"The model wasn't sure ({doubt}): click the digit it is.")
    if answer != RIGHT and not (isinstance(answer, str) and answer.strip() in DIGITS):
        return Labelled(f"Not a digit: {answer!r}; the answer is 0-9 or {RIGHT!r}.")
    digit = shown.digit if answer == RIGHT else int(answer)
    said = "so too" if shown.digit == digit else str(shown.digit)
    if previous is not None and previous.digit == digit:
        return Labelled(f"Already counted: {article(digit)}.")
    try:
        record = keep(folder, source, reading, digit, previous)
    except (OSError, ValueError) as error:
        log.exception("could not save a digit in %s", folder)
        return Labelled(
            f"Could not save it ({type(error).__name__}), so it was not counted; "
            "your drawing is still there to try again."
        )
    done = "Changed to" if previous is not None else ("Saved:" if folder else "Counted:")
    counted = Label(digit, reading.model.digit, shown.digit, reading.features, record)
    return Labelled(
        f"{done} {article(digit)} (the model said {said}).", counted, folder is not None
    )


def keep(
    folder: Path | None,
    source: object,
    reading: Reading,
    digit: int,
    previous: Label | None,
) -> str | None:
    """Save the labelled input in ``folder`` (or change the saved label, for a changed answer);
    the saved digit's id, or None without a folder."""
    if folder is None:
        return None
    if previous is not None and previous.record:
        collect.relabel(folder, previous.record, digit)
        return previous.record
    return collect.save_digit(folder, source, reading.image, digit, reading.model).stem


def label_sketch(
    predictor: Predictor,
    folder: Path | None,
    value: str | None,
    answer: str | None,
    previous: Label | None = None,
) -> Labelled:
    """:func:`label` for the drawing pad's value."""
    drawing, problem = drawing_or_problem(value)
    return Labelled(problem) if problem else label(predictor, folder, drawing, answer, previous)


def owner_memory(predictor: Predictor, folder: Path) -> tuple[Label, ...]:
    """The digits saved in a collection folder, as labels the answers adapt to (``demo.py
    --adapt-from DIR``, ``python -m digitpad.predict --adapt-from DIR``): each 28x28 image as the
    model reads it, with the label its owner gave it."""
    x, y = load_collection(folder)
    if not len(y):
        return ()
    probabilities, features = predictor.predict_with_features(x / np.float32(255))
    return tuple(
        Label(int(d), int(p.argmax()), None, unit(f)) for d, p, f in zip(y, probabilities, features)
    )
