"""What the model's ten probabilities mean for a person: the digit, and whether to be sure;
and a number's verdict from its digits' (:func:`word_number`).

:class:`Prediction` wraps one image's probabilities and words them: "7, 98% sure", "not sure:
4 or 9?", or "not sure it is a digit: 4 or 9?". :func:`is_sure` is the one rule for "sure",
used by the app, the command line, the training report and the benchmarks alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NUM_CLASSES = 10  # the digits 0-9, the model's ten outputs
DIGITS = tuple(str(d) for d in range(NUM_CLASSES))  # the labels as people type them

# A prediction is "sure" when the top probability is at least SURE_PROBABILITY and leads the
# runner-up by at least SURE_MARGIN. The rule: few answers wrong but sure, at the cost of a few
# right answers said "not sure". Chosen from the coverage / accuracy grid that
# `python scripts/benchmark_conversion.py` prints for the realistic evaluation set (quoted in
# docs/measurements.md). At 0.90 the margin is implied (the runner-up has at most 0.10); it is
# kept so that a lower probability keeps the second rule.
SURE_PROBABILITY = 0.90
SURE_MARGIN = 0.80
# Below this top probability the model spreads its answer over many digits, as it was trained to
# for drawings that are no digit (digitpad.training.outliers); the verdict then asks whether it is one.
DIGIT_LIKE = 0.5


def is_sure(probabilities: np.ndarray) -> np.ndarray:
    """The "sure" rule, for (..., 10) probabilities: top >= SURE_PROBABILITY and top minus the
    runner-up >= SURE_MARGIN. A bool array of the leading shape (a 0-d one for one image)."""
    ordered = np.sort(np.asarray(probabilities), axis=-1)
    top, second = ordered[..., -1], ordered[..., -2]
    return (top >= SURE_PROBABILITY) & (top - second >= SURE_MARGIN)


@dataclass(frozen=True)
class Prediction:
    """What the model says about one 28x28 image."""

    probabilities: np.ndarray  # (10,) float32, sums to 1

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])

    @property
    def sure(self) -> bool:
        return bool(is_sure(self.probabilities))

    @property
    def is_digit(self) -> bool:
        """The model reads a digit at all: its top probability is at least DIGIT_LIKE."""
        return self.confidence >= DIGIT_LIKE

    @property
    def verdict(self) -> str:
        """ "7, 98% sure", "not sure: 4 or 9?", or "not sure it is a digit: 4 or 9?" when no
        digit has even DIGIT_LIKE of the probability."""
        if self.sure:
            return f"{self.digit}, {self.confidence:.0%} sure"
        doubt = "not sure" if self.confidence >= DIGIT_LIKE else "not sure it is a digit"
        return f"{doubt}: {self.digit} or {self.runner_up}?"


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth", "eleventh", "twelfth")  # fmt: skip


def word_number(digits: Sequence[tuple[str, bool, str]]) -> str:
    """A number's verdict from its digits' (text, sure, doubt), left to right: "2026, sure", or
    "2?26: not sure of the second digit (7 or 1?)"."""
    text = "".join(t for t, _, _ in digits)
    unsure = [(i, doubt) for i, (_, sure, doubt) in enumerate(digits) if not sure]
    if not unsure:
        return f"{text}, sure"
    names = [ORDINALS[i] if i < len(ORDINALS) else f"{i + 1}th" for i, _ in unsure]
    which = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    noun = "digit" if len(unsure) == 1 else "digits"
    return f"{text}: not sure of the {which} {noun} ({', '.join(d for _, d in unsure)})"
