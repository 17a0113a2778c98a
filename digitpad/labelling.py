"""Labelling: a person says what digit an input is, and the app counts it, learns it, keeps it.

:func:`label` is the answer buttons' and the labelling API's. The input is read again
(digitpad.reading), so what is counted and saved is exactly what the model sees now; the
:class:`Label` it makes goes into the visitor's record (digitpad.app.sessions), which the
answers adapt to (digitpad.memory), and, with a collection folder (``demo.py --collect DIR``),
the input is saved there too (digitpad.collection). :func:`load_labels` turns a saved
collection back into labels (``--adapt-from DIR``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np

from digitpad import collection
from digitpad.memory import Example, unit
from digitpad.predictor import Predictor
from digitpad.reading import Reading, read
from digitpad.strokes import Drawing
from digitpad.tally import Tally, TallyJSON
from digitpad.verdict import DIGITS

log = logging.getLogger(__name__)

RIGHT = "right"  # the answer of the "Right" button: the model's digit is the true one


@dataclass(frozen=True)
class Label:
    """A person's answer about one input: what they say it is, and what was read in it."""

    digit: int  # what the person says it is
    predicted: int | None  # what the model alone read
    answered: int | None = None  # what the app answered (adapted to this person's labels)
    features: np.ndarray | None = None  # (F,) unit length: what the classifier read (memory)
    record: str | None = None  # the saved digit's id, with demo.py --collect


class LabellingJSON(TypedDict):
    """What the labelling API returns (:meth:`Labelling.as_json`)."""

    counted: bool  # False: nothing new was counted, and the message says why
    label: int | None  # the true digit, as the person said
    predicted: int | None  # what the model read
    saved: bool  # kept in the app's collection folder (demo.py --collect DIR)
    message: str  # what was done, in a line: "Counted: a 7 (the model said 1)."
    tally: TallyJSON  # this session's tally, after this label


@dataclass(frozen=True)
class Labelling:
    """What a label did, in a line for the person; ``label`` is what to count in their record
    (digitpad.app.sessions.Visitor.add_label), None when nothing new is (the message says why)."""

    message: str
    label: Label | None = None
    saved: bool = False

    def as_json(self, tally: Tally) -> LabellingJSON:
        """What the labelling API returns: plain data, with the session's tally after it."""
        label = self.label
        return {
            "counted": label is not None,
            "label": None if label is None else label.digit,
            "predicted": None if label is None else label.predicted,
            "saved": self.saved,
            "message": self.message,
            "tally": tally.as_json(),
        }


def fingerprint(source: object) -> str:
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


def name_digit(digit: int) -> str:
    """ "a 7", but "an 8"."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def label(
    predictor: Predictor,
    folder: Path | None,
    source: object,
    answer: str | None,
    previous: Label | None = None,
    memory: Sequence[Example] = (),
) -> Labelling:
    """The person says the digit in ``source`` (a drawing, or an upload's path) is ``answer``
    ("0"-"9", or ``RIGHT``: what the app answered is right); ``previous`` is their earlier
    answer about the same input, ``memory`` the labelled digits the app's answer adapts to.

    The input is read again (a few ms), so what is saved and counted is exactly what the model
    sees now, whatever the browser showed. With a ``folder`` (``demo.py --collect DIR``) the
    original and the 28x28 image are saved there with the label (digitpad.collection.save_digit),
    and a changed answer changes the saved label; without one, it only counts. The same answer
    again counts nothing.
    """
    if source is None:
        return Labelling("Nothing to label yet: draw a digit or show a photo first.")
    reading = read(predictor, source, memory)
    if reading.problem:
        return Labelling(reading.message)
    shown = reading.prediction
    if shown is None:
        return Labelling(f"Nothing to label: {reading.message}.")
    if answer == RIGHT and not shown.sure:
        doubt = f"{shown.digit} or {shown.runner_up}?"
        return Labelling(f"The model wasn't sure ({doubt}): click the digit it is.")
    if answer != RIGHT and not (isinstance(answer, str) and answer.strip() in DIGITS):
        return Labelling(f"Not a digit: {answer!r}; the answer is 0-9 or {RIGHT!r}.")
    digit = shown.digit if answer == RIGHT else int(answer)
    said = "so too" if shown.digit == digit else str(shown.digit)
    if previous is not None and previous.digit == digit:
        return Labelling(f"Already counted: {name_digit(digit)}.")
    try:
        record = save_label(folder, source, reading, digit, previous)
    except (OSError, ValueError) as error:
        log.exception("could not save a digit in %s", folder)
        return Labelling(
            f"Could not save it ({type(error).__name__}), so it was not counted; "
            "your drawing is still there to try again."
        )
    done = "Changed to" if previous is not None else ("Saved:" if folder else "Counted:")
    counted = Label(digit, reading.model_prediction.digit, shown.digit, reading.features, record)
    return Labelling(
        f"{done} {name_digit(digit)} (the model said {said}).", counted, folder is not None
    )


def save_label(
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
        collection.relabel(folder, previous.record, digit)
        return previous.record
    return collection.save_digit(
        folder, source, reading.image, digit, reading.model_prediction
    ).stem


def load_labels(predictor: Predictor, folder: Path) -> tuple[Label, ...]:
    """The digits saved in a collection folder, as labels the answers adapt to (``demo.py
    --adapt-from DIR``, ``python -m digitpad.predict --adapt-from DIR``): each 28x28 image as the
    model reads it, with the label its owner gave it."""
    x, y = collection.load_collection(folder)
    if not len(y):
        return ()
    probabilities, features = predictor.predict_with_features(x / np.float32(255))
    return tuple(
        Label(int(d), int(p.argmax()), None, unit(f)) for d, p, f in zip(y, probabilities, features)
    )
