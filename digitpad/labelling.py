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
    label: int | None  # the true digit, as the person said (a single digit's)
    predicted: int | None  # what the model read (a single digit's)
    number: str | None  # the true digits, as the person said them, left to right
    saved: bool  # kept in the app's collection folder (demo.py --collect DIR)
    message: str  # what was done, in a line: "Counted: a 7 (the model said 1)."
    tally: TallyJSON  # this session's tally, after this label


@dataclass(frozen=True)
class Labelling:
    """What a label did, in a line for the person; ``labels`` is what to count in their record
    (digitpad.app.sessions.Visitor.add_labels), one per digit, left to right: none when nothing
    new is (the message says why)."""

    message: str
    labels: tuple[Label, ...] = ()
    saved: bool = False

    @property
    def label(self) -> Label | None:
        """The label of a single digit; None for a number, or when nothing was counted."""
        return self.labels[0] if len(self.labels) == 1 else None

    def as_json(self, tally: Tally) -> LabellingJSON:
        """What the labelling API returns: plain data, with the session's tally after it."""
        single = self.label
        return {
            "counted": bool(self.labels),
            "label": None if single is None else single.digit,
            "predicted": None if single is None else single.predicted,
            "number": "".join(str(label.digit) for label in self.labels) or None,
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


def name_answer(digits: Sequence[int]) -> str:
    """ "a 7", but "an 8"; a number as its digits: "2026"."""
    if len(digits) > 1:
        return "".join(map(str, digits))
    return f"{'an' if digits[0] == 8 else 'a'} {digits[0]}"


def label(
    predictor: Predictor,
    folder: Path | None,
    source: object,
    answer: str | None,
    previous: tuple[Label, ...] = (),
    memory: Sequence[Example] = (),
    which: int | None = None,
) -> Labelling:
    """The person says the digit, or the number, in ``source`` (a drawing, or an upload's path) is
    ``answer`` ("7", "2026", or ``RIGHT``: what the app answered is right); ``previous`` is their
    earlier answer about the same input, ``memory`` the labelled digits the answers adapt to.

    The input is read again (a few ms), so what is saved and counted is exactly what the model
    sees now, whatever the browser showed. Each digit of a number counts as a digit labelled
    alone does. With a ``folder`` (``demo.py --collect DIR``) each digit's original and 28x28
    image are saved there with its label (digitpad.collection.save_digit), and a changed answer
    changes the saved labels; without one, it only counts. The same answer again counts nothing.
    ``which`` labels one digit of a number alone (0: its first), as the page's answer buttons do
    for the digit picked.
    """
    if source is None:
        return Labelling("Nothing to label yet: draw a digit or show a photo first.")
    reading = read(predictor, source, memory)
    if reading.problem:
        return Labelling(reading.message)
    if not reading.each_digit:
        return Labelling(f"Nothing to label: {reading.message}.")
    if which is not None and reading.digits:
        if not 0 <= which < len(reading.digits):
            return Labelling(f"No digit {which + 1} here: the model read {reading.text}.")
        reading = reading.digits[which]
    shown = reading.each_digit
    digits, problem = parse_answer(answer, reading)
    if problem:
        return Labelling(problem)
    if tuple(old.digit for old in previous) == digits:
        return Labelling(f"Already counted: {name_answer(digits)}.")
    try:
        records = save_labels(folder, source, reading, digits, previous)
    except (OSError, ValueError) as error:
        log.exception("could not save a digit in %s", folder)
        return Labelling(
            f"Could not save it ({type(error).__name__}), so it was not counted; "
            "your drawing is still there to try again."
        )
    labels = tuple(
        Label(
            digit, d.model_prediction.digit if d.model_prediction else None, d.digit, d.features, r
        )
        for digit, d, r in zip(digits, shown, records)
    )
    done = "Changed to" if previous else ("Saved:" if folder else "Counted:")
    said = "so too" if reading.text == "".join(map(str, digits)) else reading.text
    return Labelling(f"{done} {name_answer(digits)} (the model said {said}).", labels, bool(folder))


def parse_answer(answer: str | None, reading: Reading) -> tuple[tuple[int, ...], str | None]:
    """The digits ``answer`` says ``reading`` holds, left to right, or why it can't be counted."""
    shown = reading.each_digit
    if answer == RIGHT:
        if not reading.sure:
            doubt = reading.doubt if len(shown) == 1 else "of every digit"
            what = "click the digit it is" if len(shown) == 1 else "type the number it is"
            return (), f"The model wasn't sure ({doubt}): {what}."
        return tuple(d.digit for d in shown), None
    typed = answer.strip() if isinstance(answer, str) else ""
    if not typed or not all(c in DIGITS for c in typed):
        if len(shown) == 1:
            return (), f"Not a digit: {answer!r}; the answer is 0-9 or {RIGHT!r}."
        return (), f"Not a number: {answer!r}; type its digits, like {reading.text}, or {RIGHT!r}."
    if len(typed) != len(shown):
        return (), (
            f"The model read {len(shown)} digit{'s' if len(shown) != 1 else ''} "
            f"({reading.text}) but the answer has {len(typed)}: type one digit for each."
        )
    return tuple(int(c) for c in typed), None


def save_labels(
    folder: Path | None,
    source: object,
    reading: Reading,
    digits: tuple[int, ...],
    previous: tuple[Label, ...],
) -> list[str | None]:
    """Save each labelled digit in ``folder`` (or change the saved labels, for a changed answer):
    their saved ids, or Nones without a folder. A number's digits are saved each with its own
    strokes or crop as the original."""
    if folder is None:
        return [None] * len(digits)
    if previous and all(old.record for old in previous):
        for old, digit in zip(previous, digits):
            collection.relabel(folder, old.record, digit)
        return [old.record for old in previous]
    shown = reading.each_digit
    return [
        collection.save_digit(
            folder, source if d.source is None else d.source, d.image, digit, d.model_prediction
        ).stem
        for d, digit in zip(shown, digits)
    ]


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
