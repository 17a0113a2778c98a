"""digitpad.app.sessions: each visitor's record is theirs alone, bounded, and forgotten."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from digitpad.app.sessions import MAX_LABELS, Sessions, Visitor, count_label
from digitpad.labelling import Label
from digitpad.tally import Tally


def counting(label: int, predicted: int):
    return lambda visitor: replace(
        visitor, tally=count_label(visitor.tally, Label(label, predicted))
    )


def test_a_new_session_has_an_empty_tally_and_is_not_kept_until_it_changes():
    sessions = Sessions()
    assert sessions.get("a") == Visitor()
    assert sessions.get("a").tally == Tally()
    assert len(sessions) == 0


def test_sessions_are_apart():
    sessions = Sessions()
    sessions.update("ann", counting(7, 7))
    sessions.update("ann", counting(1, 7))
    sessions.update("bob", counting(3, 3))
    assert sessions.get("ann").tally.labelled == 2 and sessions.get("ann").tally.right == 1
    assert sessions.get("bob").tally == Tally(1, 1, 1)


def test_a_call_without_a_session_keeps_nothing():
    sessions = Sessions()
    assert sessions.update(None, counting(7, 7)).tally.labelled == 1
    assert sessions.update("", counting(7, 7)).tally.labelled == 1
    assert len(sessions) == 0


def test_the_least_recently_used_session_goes_first():
    sessions = Sessions(capacity=2)
    sessions.update("a", counting(1, 1))
    sessions.update("b", counting(2, 2))
    sessions.update("a", counting(1, 1))  # a is used again: b is now the oldest
    sessions.update("c", counting(3, 3))
    assert len(sessions) == 2
    assert sessions.get("b") == Visitor() and sessions.get("a").tally.labelled == 2


def test_idle_sessions_expire():
    now = [0.0]
    sessions = Sessions(idle_seconds=60, clock=lambda: now[0])
    sessions.update("a", counting(1, 1))
    now[0] = 30
    sessions.update("b", counting(2, 2))
    now[0] = 70
    assert sessions.get("a") == Visitor(), "idle for 70 s"
    assert sessions.get("b").tally.labelled == 1, "idle for 40 s"


def test_forget():
    sessions = Sessions()
    sessions.update("a", counting(1, 1))
    sessions.forget("a")
    sessions.forget("never-seen")
    assert sessions.get("a") == Visitor() and len(sessions) == 0


def test_concurrent_changes_of_one_session_are_all_kept():
    sessions = Sessions()

    def label_many() -> None:
        for _ in range(200):
            sessions.update("tab", counting(4, 4))

    threads = [threading.Thread(target=label_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sessions.get("tab").tally.labelled == 1600


def test_a_label_counts_once_and_a_changed_one_moves_its_count():
    visitor = Visitor().add_labels("seven", (Label(7, 7),))
    visitor = visitor.add_labels("one", (Label(1, 7),))
    assert visitor.tally == Tally(2, 1, 1, (0, 1, 0, 0, 0, 0, 0, 0, 0, 0))
    changed = visitor.add_labels("one", (Label(7, 7),))  # "no, it is a 7 after all"
    assert changed.tally == Tally(2, 2, 2)
    assert changed.memory == (Label(7, 7), Label(7, 7))
    adapted = Visitor().add_labels("zero", (Label(0, 8, answered=0),))  # the memory read it right
    assert (adapted.tally.right, adapted.tally.model_right) == (1, 0)
    assert changed.labels_of("one")[0].digit == 7 and changed.labels_of("seven")[0].digit == 7
    assert [key for key, _ in changed.labels] == ["seven", "one"]
    assert changed.labels_of("never") == ()


def test_labels_are_bounded_the_tally_is_not():
    visitor = Visitor()
    for k in range(MAX_LABELS + 30):
        visitor = visitor.add_labels(
            f"input {k}", (Label(k % 10, k % 10, features=np.zeros(4, np.float32)),)
        )
    assert len(visitor.labels) == MAX_LABELS and visitor.labels[-1][0] == f"input {MAX_LABELS + 29}"
    assert visitor.tally.labelled == MAX_LABELS + 30


def test_a_number_s_digits_count_each_and_a_new_answer_replaces_them_all():
    two = (Label(2, 2), Label(0, 0), Label(2, 2), Label(6, 5))
    visitor = Visitor().add_labels("number", two)
    assert visitor.tally == Tally(4, 3, 3, (0, 0, 0, 0, 0, 0, 1, 0, 0, 0))
    assert visitor.labels_of("number") == two and len(visitor.memory) == 4
    fixed = visitor.add_labels("number", (Label(2, 2), Label(0, 0), Label(2, 2), Label(5, 5)))
    assert fixed.tally == Tally(4, 4, 4) and [d.digit for d in fixed.labels_of("number")] == [
        2,
        0,
        2,
        5,
    ]
    assert fixed.labels_of("numb") == (), "another input's key is not a prefix match"
