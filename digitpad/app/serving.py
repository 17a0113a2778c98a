"""What every event needs: the model, the visitors' records, where labels are saved.

:class:`Serving` is handed to the page's events (digitpad.app.events) and the API
(digitpad.app.api): what a visitor's answers adapt to (:meth:`Serving.memory`), and the drawings
of several visitors read together (:meth:`Serving.read_sketches`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitpad import reading
from digitpad.app.sessions import Sessions
from digitpad.labelling import Label
from digitpad.predictor import Predictor
from digitpad.reading import Reading

if TYPE_CHECKING:  # demo.py reads READ_TOGETHER for its flags before Gradio is imported
    import gradio as gr

# Drawings waiting in the queue (the page's pen lifts, /predict_sketch calls) are read together,
# up to this many at once (one model call, one pass through Gradio's event machinery); measured
# by `python scripts/load_test.py`, which docs/measurements.md quotes with and without.
READ_TOGETHER = 16


@dataclass(frozen=True)
class Serving:
    """What every event needs: the model, where labels are saved, the visitors' records, and
    the owner's saved digits (``demo.py --adapt-from DIR``) that every session starts from."""

    predictor: Predictor
    folder: Path | None
    sessions: Sessions
    owner: tuple[Label, ...] = ()
    read_together: int = READ_TOGETHER  # drawings waiting in the queue read at once, at most

    def memory(self, request: gr.Request | None) -> tuple[Label, ...]:
        """What the answers adapt to for this visitor: the owner's digits, then their own (none
        without a request)."""
        session = None if request is None else request.session_hash
        return self.owner + self.sessions.get(session).memory

    def read_sketches(self, values: list, request: Any) -> list[Reading]:
        """The drawings a batched event was handed (the calls waiting in the queue, up to
        ``read_together``), read in one go, each with its own visitor's labels."""
        from digitpad.app.gradio_internals import calls_requests

        memories = [self.memory(r) for r in calls_requests(request, len(values))]
        return reading.read_sketches(self.predictor, values, memories)
