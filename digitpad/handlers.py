"""The app's event handlers: pure functions from what a visitor sends to what the page shows.

No Gradio here: digitpad/app.py wires these to the page and the API. Every input, a drawing
from the pad or an uploaded photo, goes the same way: read it (digitpad.pad, digitpad.images),
convert and predict (``Predictor.recognise``), and word the answer. Anything unreadable gets a
one-line answer that says so, never an exception.

- :func:`predict_sketch` and :func:`predict_image` give the page's three outputs: the ten
  probabilities, the verdict line, and the 28x28 image the model received.
- :func:`label` is the answer buttons' and the labelling API's: the person says what the digit
  is; it counts in their tally and, with a collection folder, is saved there (digitpad.collect).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np

from digitpad import collect
from digitpad.data import DIGITS
from digitpad.images import ImageError
from digitpad.pad import Drawing, read_drawing
from digitpad.predictor import Predictor, Recognition

log = logging.getLogger(__name__)

NO_SKETCH = "draw a digit"
NO_PHOTO = "upload, snap or paste a photo of a digit"
RIGHT = "right"  # the answer of the "Right" button: the model's digit is the true one

Outputs = tuple[dict[str, float] | None, str, np.ndarray | None]


# --- reading an input ---------------------------------------------------------------------------


def predict_sketch(predictor: Predictor, value: str | None) -> Outputs:
    """The drawing pad's value (its strokes as JSON text; "" or None when empty) -> outputs."""
    drawing, problem = drawing_or_problem(value)
    if drawing is None:
        return None, problem or NO_SKETCH, None
    return recognise(predictor, drawing)


def predict_image(predictor: Predictor, path: str | None) -> Outputs:
    """An uploaded, snapped or pasted photo (a file path; None when removed) -> outputs."""
    if path is None:
        return None, NO_PHOTO, None
    return recognise(predictor, path)


def drawing_or_problem(value: object) -> tuple[Drawing | None, str | None]:
    """(the pad's drawing, None); (None, None) for an empty pad; or (None, why) for a value that
    is not a drawing (it comes from the client: anything can arrive)."""
    try:
        return read_drawing(value), None
    except ValueError as error:
        return None, f"Can't read that drawing: {error}."


def recognise(predictor: Predictor, source: object) -> Outputs:
    """Any input -> (probabilities for gr.Label, verdict line, the 28x28 image the model saw)."""
    recognition, problem = read_safely(predictor, source)
    if recognition is None:
        return None, problem, None
    label = recognition.prediction.as_label() if recognition.prediction is not None else None
    seen = as_pixels(recognition.image) if recognition.image is not None else None
    return label, recognition.message, seen


def read_safely(predictor: Predictor, source: object) -> tuple[Recognition | None, str | None]:
    """(Recognition, None), or (None, "Can't read that image: ...") for an unreadable input; an
    upload is named by its file name in that message, never by its path on the server."""
    try:
        return predictor.recognise(source), None
    except ImageError as error:
        message = str(error)
        if isinstance(source, (str, os.PathLike)):  # never show the server's upload path
            message = message.replace(str(source), Path(source).name)
        return None, f"Can't read that image: {message}"


def as_pixels(image: np.ndarray) -> np.ndarray:
    """(28, 28) float in [0, 1] -> (28, 28) uint8, white ink on black as MNIST and the model see
    it."""
    return np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


# --- labelling: the person says what the digit is -------------------------------------------


class Tally(TypedDict):
    """How a visitor's labels went: how many, how many the model read right, and its mistakes
    by true digit (digitpad.collect.update_tally)."""

    labelled: int
    right: int
    mistakes: list[int]


class LabelResult(TypedDict):
    """What the labelling API returns (:meth:`Labelled.as_json`)."""

    counted: bool  # False: nothing was done, and the message says why
    label: int | None  # the true digit, as the person said
    predicted: int | None  # what the model read
    saved: bool  # kept in the app's collection folder (demo.py --collect DIR)
    message: str  # what was done, in a line: "Counted: a 7 (the model said 1)."
    tally: Tally  # this session's tally, after this label


@dataclass(frozen=True)
class Labelled:
    """What a label did, in a line for the person; ``label`` is None when nothing is to be
    counted (and then ``message`` says why)."""

    message: str
    label: int | None = None
    predicted: int | None = None  # the model's digit
    saved: bool = False

    def counted_in(self, tally: dict) -> dict:
        """``tally`` with this label counted (unchanged when there is nothing to count)."""
        return (
            tally if self.label is None else collect.update_tally(tally, self.label, self.predicted)
        )

    def as_json(self, tally: dict) -> LabelResult:
        """What the labelling API returns: plain data, with the session's tally after it."""
        return {
            "counted": self.label is not None,
            "label": self.label,
            "predicted": self.predicted,
            "saved": self.saved,
            "message": self.message,
            "tally": tally,
        }


def label(
    predictor: Predictor, folder: Path | None, source: object, answer: str | None
) -> Labelled:
    """The person says the digit in ``source`` (a drawing, or an upload's path) is ``answer``
    ("0"-"9", or ``RIGHT``).

    The input is read again (a few ms), so what is saved and counted is exactly what the model
    sees now, whatever the browser showed. With a ``folder`` (``demo.py --collect DIR``) the
    original and the 28x28 image are saved there with the label (digitpad.collect.save_digit);
    without one, it is only to be counted in the person's tally (:meth:`Labelled.counted_in`).
    """
    if source is None:
        return Labelled("Nothing to label yet: draw a digit or show a photo first.")
    recognition, problem = read_safely(predictor, source)
    if recognition is None:
        return Labelled(problem)
    prediction = recognition.prediction
    if prediction is None:
        return Labelled(f"Nothing to label: {recognition.message}.")
    if answer == RIGHT and not prediction.sure:
        return Labelled(f"The model was not sure ({prediction.verdict}): click the digit it is.")
    if answer != RIGHT and not (isinstance(answer, str) and answer.strip() in DIGITS):
        return Labelled(f"Not a digit: {answer!r}; the answer is 0-9 or {RIGHT!r}.")
    digit = prediction.digit if answer == RIGHT else int(answer)
    if folder is not None:
        try:
            collect.save_digit(folder, source, recognition.image, digit, recognition)
        except (OSError, ValueError) as error:
            log.exception("could not save a digit in %s", folder)
            return Labelled(
                f"Could not save it ({type(error).__name__}), so it was not counted; "
                "your drawing is still there to try again."
            )
    said = (
        "the model said so too"
        if prediction.digit == digit
        else f"the model said {prediction.digit}"
    )
    done = "Saved" if folder is not None else "Counted"
    return Labelled(f"{done}: a {digit} ({said}).", digit, prediction.digit, folder is not None)


def label_sketch(
    predictor: Predictor, folder: Path | None, value: str | None, answer: str | None
) -> Labelled:
    """:func:`label` for the drawing pad's value."""
    drawing, problem = drawing_or_problem(value)
    return Labelled(problem) if problem else label(predictor, folder, drawing, answer)
