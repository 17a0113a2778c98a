"""Reading an input: from what a person or a script gives to the answer they are shown.

Every input, a drawing from the pad or an image, goes the same way: parse it
(digitpad.strokes, digitpad.images), convert and predict (``Predictor.recognise``: a
:class:`~digitpad.predictor.Recognition`), adapt the answer to the person's labelled digits
(digitpad.memory) and word it: a :class:`Reading`. Anything unreadable gets a one-line answer that
says so, never an exception. The app, the API and the command line all read through here, and
:meth:`Reading.as_json` is the one plain-data form they all give (:class:`ReadingJSON`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np

from digitpad.conversion import EMPTY
from digitpad.images import ImageError, png_data_url, to_pixels
from digitpad.memory import Example, adapt, unit
from digitpad.numbers import NO_DIGIT, Box
from digitpad.predictor import Predictor, Recognition
from digitpad.strokes import Drawing, read_drawing
from digitpad.verdict import Prediction, word_number

log = logging.getLogger(__name__)

NO_SKETCH = EMPTY  # an empty pad: "draw a digit"
NO_PHOTO = "upload, snap or paste a photo of a digit"
CANT_READ = "Can't read that image: "  # the start of an unreadable input's line


class ReadingJSON(TypedDict):
    """What the API and ``python -m digitpad.predict --json`` give for one input
    (:meth:`Reading.as_json`)."""

    digit: int | None  # the digit read; None when there is none to read
    sure: bool  # the model is sure of it (digitpad.verdict.is_sure)
    verdict: str  # the line the page shows: "7, 98% sure", "not sure: 4 or 9?", or why not
    probabilities: list[float] | None  # the ten digits' probabilities, in order 0-9
    image28: str | None  # the 28x28 image the model saw: a PNG as a data: URL
    adapted: bool  # the session's labelled digits changed the answer (digitpad.memory)
    number: str | None  # the digits read left to right, "?" for a mark that is no digit
    digits: list[DigitJSON]  # each digit's reading, left to right (one for a single digit)


class DigitJSON(TypedDict):
    """One digit of a reading (:meth:`Reading.as_digit_json`): as a single digit's reading, with
    its box on the input (pad fractions for a drawing, pixels for an image; None if unknown)."""

    digit: int | None
    sure: bool
    verdict: str
    probabilities: list[float] | None
    image28: str | None
    adapted: bool
    box: list[float] | None


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
    model_prediction: Prediction | None = None  # what the model alone said
    examples: int = 0  # how many of the person's labelled digits spoke (digitpad.memory)
    box: Box | None = None  # where the digit is on the input
    digits: tuple[Reading, ...] = ()  # a number's digits, left to right: two or more
    source: object = field(default=None, repr=False)  # a number's digit: its strokes or crop
    clear: bool = True  # a number's digit: the split around it beat every other clearly

    @property
    def digit(self) -> int | None:
        """The digit read, when the input holds exactly one."""
        return None if self.prediction is None else self.prediction.digit

    @property
    def text(self) -> str | None:
        """The digits read, left to right, "?" for a mark that is no digit; None: nothing."""
        if self.digits:
            return "".join(d.text or NO_DIGIT for d in self.digits)
        if self.prediction is None:
            return None
        return str(self.prediction.digit) if self.prediction.is_digit else NO_DIGIT

    @property
    def sure(self) -> bool:
        """Sure of every digit (and, in a number, of where each begins and ends)."""
        if self.digits:
            return all(d.sure for d in self.digits)
        return self.prediction is not None and self.prediction.sure and self.clear

    @property
    def doubt(self) -> str:
        """What an unsure digit may be: "7 or 1?", "no digit?", or "no ink"."""
        prediction = self.prediction
        if prediction is None:
            return "no ink"
        if not prediction.is_digit:
            return "no digit?"
        return f"{prediction.digit} or {prediction.runner_up}?"

    @property
    def adapted(self) -> bool:
        """The person's labelled digits changed the answer: another digit, or now sure."""
        if self.digits:
            return any(d.adapted for d in self.digits)
        model, answer = self.model_prediction, self.prediction
        return bool(
            self.examples
            and model is not None
            and answer is not None
            and (answer.digit != model.digit or answer.sure != model.sure)
        )

    @property
    def each_digit(self) -> tuple[Reading, ...]:
        """The digits read, left to right: a number's, the single one, or none."""
        return self.digits or ((self,) if self.prediction is not None else ())

    def as_json(self) -> ReadingJSON:
        """Plain data for the API and the command line: numbers and data: URLs, no files."""
        return {
            **{k: v for k, v in self.as_digit_json().items() if k != "box"},
            "number": self.text,
            "digits": [d.as_digit_json() for d in self.each_digit],
        }

    def as_digit_json(self) -> DigitJSON:
        """This reading as one digit's plain data (a number's own has no digit, nor image)."""
        prediction = self.prediction
        return {
            "digit": self.digit,
            "sure": self.sure,
            "verdict": self.message,
            "probabilities": None
            if prediction is None
            else [round(float(p), 6) for p in prediction.probabilities],
            "image28": None if self.image is None else png_data_url(to_pixels(self.image)),
            "adapted": self.adapted,
            "box": None if self.box is None else [round(float(c), 4) for c in self.box],
        }


def read_sketch(predictor: Predictor, value: str | None, memory: Sequence[Example] = ()) -> Reading:
    """The drawing pad's value (its strokes as JSON text; "" or None when empty) -> Reading,
    adapted to the labelled digits in ``memory`` (digitpad.memory)."""
    drawing, problem = parse_sketch(value)
    if drawing is None:
        return Reading(problem or NO_SKETCH, problem=problem is not None)
    return read(predictor, drawing, memory)


def read_image(predictor: Predictor, path: str | None, memory: Sequence[Example] = ()) -> Reading:
    """An uploaded, snapped or pasted photo (a file path; None when removed) -> Reading."""
    return Reading(NO_PHOTO) if path is None else read(predictor, path, memory)


def parse_sketch(value: object) -> tuple[Drawing | None, str | None]:
    """(the pad's drawing, None); (None, None) for an empty pad; or (None, why) for a value that
    is not a drawing (it comes from the client: anything can arrive)."""
    try:
        return read_drawing(value), None
    except ValueError as error:
        return None, f"Can't read that drawing: {error}."


def read(predictor: Predictor, source: object, memory: Sequence[Example] = ()) -> Reading:
    """Any input -> :class:`Reading`; an unreadable one says why, never an exception. With a
    ``memory`` of labelled digits, the answer is adapted to them (:func:`adapt_reading`)."""
    recognition, problem = read_safely(predictor, source)
    if recognition is None:
        return Reading(problem, problem=True)
    return adapt_reading(recognition, memory)


def adapt_reading(recognition: Recognition, memory: Sequence[Example] = ()) -> Reading:
    """What the model recognised, adapted to the labelled digits in ``memory``
    (digitpad.memory.adapt); the verdict says so when they changed the answer."""
    if recognition.digits:
        digits = tuple(adapt_reading(d, memory) for d in recognition.digits)
        said = word_number([(d.text or NO_DIGIT, d.sure, d.doubt) for d in digits])
        return Reading(said, digits=digits)
    model = recognition.prediction
    if model is None:
        return Reading(recognition.message, box=recognition.box, source=recognition.source)
    features = unit(recognition.features)
    probabilities, spoke = adapt(model.probabilities, features, memory)
    answer = Prediction(probabilities) if spoke else model
    reading = Reading(
        answer.verdict,
        recognition.image,
        answer,
        features,
        model_prediction=model,
        examples=spoke,
        box=recognition.box,
        source=recognition.source,
        clear=recognition.clear,
    )
    if not reading.adapted:
        return reading
    if answer.sure:
        return dataclasses.replace(reading, message=f"{answer.verdict}, like your examples")
    said = f"{answer.verdict} {answer.digit} is like your examples"
    return dataclasses.replace(reading, message=said)


def read_all(
    predictor: Predictor,
    sources: Sequence[object],
    memories: Sequence[Sequence[Example]] | None = None,
) -> list[Reading]:
    """Many inputs (drawings, image paths; None for an empty one) read as :func:`read` reads
    each, the model called once for all of them; each adapted to its own memory (one per
    source, the inputs of several visitors read together; none by default). An input that
    can't be read says why in its own reading."""
    memories = [()] * len(sources) if memories is None else memories
    recognitions = iter(predictor.recognise_many([s for s in sources if s is not None]))
    readings = []
    for source, memory in zip(sources, memories, strict=True):
        if source is None:
            readings.append(Reading(NO_SKETCH))
            continue
        recognition = next(recognitions)
        if recognition.error is not None:
            why = f"{CANT_READ}{problem_text(recognition.error, source)}"
            readings.append(Reading(why, problem=True))
        else:
            readings.append(adapt_reading(recognition, memory))
    return readings


def read_sketches(
    predictor: Predictor,
    values: Sequence[object],
    memories: Sequence[Sequence[Example]] | None = None,
) -> list[Reading]:
    """Many drawing pads' values, each read as :func:`read_sketch` reads it, by
    :func:`read_all`: the model called once for all of them."""
    parsed = [parse_sketch(value) for value in values]
    readings = read_all(predictor, [drawing for drawing, _ in parsed], memories)
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
        return None, f"{CANT_READ}{problem_text(error, source)}"


def problem_text(error: ImageError, source: object) -> str:
    """What is wrong with an input, naming an upload by its file name, never by its path on
    the server."""
    message = str(error)
    if isinstance(source, (str, os.PathLike)):
        message = message.replace(str(source), Path(source).name)
    return message
