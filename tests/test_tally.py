"""digitpad.tally: one immutable tally, counted, taken back, described in a line."""

from __future__ import annotations

import pytest

from digitpad.tally import Tally


def test_a_tally_is_immutable_and_counts():
    empty = Tally()
    one = empty.count(7, 1, 1)
    assert empty == Tally(), "the old tally is not changed"
    assert one == Tally(1, 0, 0, (0, 0, 0, 0, 0, 0, 0, 1, 0, 0))
    three = one.count(3, 3, 3).count(3, None, None)  # no answer counts as a mistake
    assert (three.labelled, three.right, three.model_right, three.mistakes[3]) == (3, 1, 1, 1)
    adapted = Tally().count(0, 0, 8)  # the app's answer was right, the model's alone was not
    assert (adapted.right, adapted.model_right, adapted.mistakes) == (1, 0, Tally().mistakes)
    undone = three.count(7, 1, 1, times=-1)  # an answer taken back
    assert undone == Tally(2, 1, 1, (0, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="digit 0-9"):
        three.count(11, 1, 1)


def test_a_tally_says_how_the_model_did_and_how_the_adapted_answers_did():
    assert Tally().describe() == "No digits labelled yet."
    three = Tally().count(7, 1, 1).count(3, 3, 3).count(3, None, None)
    assert three.describe() == (
        "3 digits labelled: the model read 1 right (33%). Mistakes per digit: 3: 1, 7: 1."
    )
    adapted = Tally().count(0, 0, 8).count(1, 1, 1)
    assert adapted.describe() == (
        "2 digits labelled: the model alone read 1 right (50%); adapted to your digits, 2 (100%)."
    )
    assert Tally().count(4, 4, 4).describe() == "1 digit labelled: the model read 1 right (100%)."


def test_a_tally_as_json_is_plain_data():
    tally = Tally().count(7, 1, 7)
    assert tally.as_json() == {
        "labelled": 1,
        "right": 0,
        "model_right": 1,
        "mistakes": [0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
    }
