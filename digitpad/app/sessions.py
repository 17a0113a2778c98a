"""What the app remembers about each visitor, kept apart per browser session and bounded.

A browser tab, and each ``gradio_client.Client``, is one Gradio session with its own random
``session_hash``. :class:`Sessions` keeps one :class:`Visitor` record per session: the tally of
the digits they labelled, and the labels themselves (each input's answer, and what the model
read in it), which digitpad.memory uses to learn their hand. Nothing one session does can reach
another's record, so one visitor can never change what another sees, and every record is
bounded: at most ``MAX_LABELS`` labels each, at most ``capacity`` sessions (the least recently
used is dropped first), each forgotten after ``idle_seconds`` without a request, when its tab
closes, when the visitor asks ("Forget my digits"), or, for a raw API call's one-use session,
once its answer is sent (digitpad.app.guard.OneShotSessions).

The page's buttons and the labelling API (``/label_sketch``, ``/label_image``) both go through
:meth:`Sessions.update`, so a script's ``Client`` keeps its own tally exactly as a tab does.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from digitpad.labelling import Label
from digitpad.tally import Tally

CAPACITY = 500  # sessions kept at once (and the sessions Gradio keeps: digitpad.app.guard)
IDLE_SECONDS = 6 * 3600  # a session unused this long is forgotten
MAX_LABELS = 200  # labels kept per session (the tally goes on counting past them)


@dataclass(frozen=True)
class Visitor:
    """One session's record: immutable, replaced whole on every change."""

    tally: Tally = Tally()
    labels: tuple[tuple[str, Label], ...] = ()  # (input's fingerprint, label), oldest first

    def labels_of(self, key: str) -> tuple[Label, ...]:
        """This visitor's answer about the input ``key`` (digitpad.labelling.fingerprint): its
        digits' labels, left to right (one for a single digit; none if never labelled)."""
        return tuple(label for k, label in self.labels if k == key or k.startswith(f"{key}/"))

    def add_labels(self, key: str, labels: tuple[Label, ...]) -> Visitor:
        """With ``labels`` (one per digit, left to right) for input ``key``: a new answer counts
        once in the tally, each digit as one labelled alone; an answer that replaces an earlier
        one about the same input moves its counts."""
        tally = self.tally
        for old in self.labels_of(key):
            tally = count_label(tally, old, times=-1)
        for new in labels:
            tally = count_label(tally, new)
        keys = [key] if len(labels) == 1 else [f"{key}/{i}" for i in range(len(labels))]
        kept = tuple((k, old) for k, old in self.labels if k != key and not k.startswith(f"{key}/"))
        return Visitor(tally, (*kept, *zip(keys, labels))[-MAX_LABELS:])

    @property
    def memory(self) -> tuple[Label, ...]:
        """The labelled digits the app's answers adapt to (digitpad.memory)."""
        return tuple(label for _, label in self.labels)


def count_label(tally: Tally, label: Label, times: int = 1) -> Tally:
    """``tally`` with ``label`` counted (``times=-1``: taken back): "right" counts the app's
    answers, "model_right" the model's alone, before it adapted to the visitor's labels."""
    answered = label.predicted if label.answered is None else label.answered
    return tally.count(label.digit, answered, label.predicted, times)


class Sessions:
    """The visitors' records, keyed by Gradio's session hash; thread-safe."""

    def __init__(
        self,
        capacity: int = CAPACITY,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._records: OrderedDict[str, tuple[float, Visitor]] = OrderedDict()  # oldest first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def get(self, session: str | None) -> Visitor:
        """The record of ``session`` (a fresh one when it has none; not stored until changed)."""
        with self._lock:
            self._expire()
            held = self._records.get(session or "")
            return held[1] if held else Visitor()

    def update(self, session: str | None, change: Callable[[Visitor], Visitor]) -> Visitor:
        """Replace the record of ``session`` by ``change(record)`` and return it. Atomic: two
        requests of one session never lose each other's change. Without a session (a call that
        names none) the change is made on a fresh record and not kept."""
        with self._lock:
            self._expire()
            if not session:
                return change(Visitor())
            held = self._records.pop(session, None)
            record = change(held[1] if held else Visitor())
            self._records[session] = (self._clock(), record)  # most recently used: last
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)
            return record

    def forget(self, session: str | None) -> None:
        """Drop everything kept for ``session`` (its tab closed, or it was a one-use session)."""
        with self._lock:
            self._records.pop(session or "", None)

    def _expire(self) -> None:
        cutoff = self._clock() - self.idle_seconds
        while self._records:
            oldest = next(iter(self._records))
            if self._records[oldest][0] >= cutoff:
                return
            del self._records[oldest]
