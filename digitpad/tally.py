"""A tally of labelled digits: how many, how many were read right, and the mistakes by digit.

One type, :class:`Tally`, for the three places that count: a visitor's session
(digitpad.app.sessions), the page's line under the buttons (digitpad.app.view) and a saved
collection's summary (``python -m digitpad.collection summary DIR``). It is immutable:
:meth:`Tally.count` returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from digitpad.verdict import NUM_CLASSES

NO_MISTAKES = (0,) * NUM_CLASSES


class TallyJSON(TypedDict):
    """A tally as the labelling API returns it (:meth:`Tally.as_json`)."""

    labelled: int
    right: int  # the app's answers (adapted to the session's labelled digits)
    model_right: int  # the model's alone
    mistakes: list[int]  # of the app's answers, by true digit


@dataclass(frozen=True)
class Tally:
    """How labelled digits went: ``right`` counts the app's answers (adapted to the person's
    labels), ``model_right`` the model's alone; ``mistakes`` the app's, by true digit."""

    labelled: int = 0
    right: int = 0
    model_right: int = 0
    mistakes: tuple[int, ...] = NO_MISTAKES

    def count(
        self, digit: int, answered: int | None, predicted: int | None, times: int = 1
    ) -> Tally:
        """This tally with one more labelled ``digit`` (``times=-1``: one taken back, for an
        answer the person changed). ``answered`` is what the app said, ``predicted`` what the
        model alone said; None (no answer) counts as a mistake."""
        if not 0 <= digit < NUM_CLASSES:
            raise ValueError(f"label must be a digit 0-9, got {digit!r}")
        right = answered is not None and int(answered) == digit
        mistakes = list(self.mistakes)
        if not right:
            mistakes[digit] += times
        return Tally(
            labelled=self.labelled + times,
            right=self.right + times * int(right),
            model_right=self.model_right + times * int(predicted == digit),
            mistakes=tuple(mistakes),
        )

    def describe(self) -> str:
        """The tally in a line: "3 digits labelled: the model read 2 right (67%). Mistakes per
        digit: 7: 1." (and how the adapted answers did, when they differ from the model's)."""
        n, right, alone = self.labelled, self.right, self.model_right
        if n == 0:
            return "No digits labelled yet."
        text = f"{n} digit{'s' if n != 1 else ''} labelled: "
        if alone == right:
            text += f"the model read {right} right ({right / n:.0%})."
        else:
            text += (
                f"the model alone read {alone} right ({alone / n:.0%}); "
                f"adapted to your digits, {right} ({right / n:.0%})."
            )
        wrong = [(d, k) for d, k in enumerate(self.mistakes) if k]
        if wrong:
            text += " Mistakes per digit: " + ", ".join(f"{d}: {k}" for d, k in wrong) + "."
        return text

    def as_json(self) -> TallyJSON:
        """Plain data for the API."""
        return {
            "labelled": self.labelled,
            "right": self.right,
            "model_right": self.model_right,
            "mistakes": list(self.mistakes),
        }
