"""digitpad.app.serving: each visitor's answers adapt to the owner's digits and their own."""

from __future__ import annotations

from types import SimpleNamespace

from digitpad.app.serving import Serving
from digitpad.app.sessions import Sessions
from digitpad.labelling import Label


def test_the_memory_is_the_owner_s_digits_then_the_visitor_s_own(predictor):
    sessions = Sessions()
    owner = (Label(3, 5),)
    serving = Serving(predictor, None, sessions, owner)
    sessions.update("ann", lambda visitor: visitor.add_labels("k", (Label(7, 1),)))
    assert serving.memory(SimpleNamespace(session_hash="ann")) == (Label(3, 5), Label(7, 1))
    assert serving.memory(SimpleNamespace(session_hash="bob")) == owner, "not ann's"
    assert serving.memory(None) == owner, "no request: no visitor's labels"


def test_drawings_read_together_are_each_read(predictor):
    from harness import pad_value

    serving = Serving(predictor, None, Sessions())
    readings = serving.read_sketches([pad_value(7), None, "not json"], None)
    assert readings[0].digit == 7
    assert readings[1].message == "draw a digit" and not readings[1].problem
    assert readings[2].problem and "not JSON" in readings[2].message
