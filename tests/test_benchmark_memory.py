"""scripts/benchmark_memory.py end to end, on a few writers from the committed MNIST sample: it
chooses a setting from its grid, restores the shipped one, and writes what it printed."""

from __future__ import annotations

import json

import benchmark_memory
import pytest

from digitpad import memory

pytestmark = pytest.mark.slow  # a whole benchmark, if a small one


def test_a_small_run_writes_its_figures(tmp_path, sample_mnist_path, capsys):
    out = tmp_path / "memory.json"
    shipped = (memory.RADIUS, memory.RATIO)
    argv = ["--data", str(sample_mnist_path), "--writers", "2", "--out", str(out)]
    assert benchmark_memory.main(argv) == 0
    results = json.loads(out.read_text())
    assert tuple(results["chosen"]) in benchmark_memory.SETTINGS
    assert tuple(results["shipped"]) == shipped == benchmark_memory.SHIPPED
    for kind in ("one hand", "many hands"):
        first = results[kind]["first_20"]
        assert 0 < first["alone"] <= 1 and 0 < first["adapted"] <= 1
        row = results[kind]["measured"]["all"]
        assert row["writers"] == 1 and len(row["worse"]) == 3
    assert set(results["non_digits"]) == {"scribbles", "hatching", "letters"}
    assert results["cost"]["labels"] == benchmark_memory.MAX_LABELS
    assert "chosen on half the writers" in capsys.readouterr().out
    assert (memory.RADIUS, memory.RATIO) == shipped, "left as shipped"


def grid(worst, adapted) -> dict:
    return {
        (s, k): {"worst_change": worst(s), "adapted": adapted(s)}
        for s in benchmark_memory.SETTINGS
        for k in benchmark_memory.KS[1:]
    }


def test_the_choice_is_the_most_right_of_those_that_lose_at_most_one_digit():
    one = benchmark_memory.ONE_DIGIT
    table = grid(lambda s: -one if s[0] < 0.2 else -2 * one, lambda s: s[0] + s[1])
    assert benchmark_memory.choose_setting(table) == (0.15, 0.85)


def test_when_every_setting_loses_more_the_choice_loses_least():
    one = benchmark_memory.ONE_DIGIT
    table = grid(lambda s: -2 * one if s[0] <= 0.1 else -3 * one, lambda s: s[0] + s[1])
    assert benchmark_memory.choose_setting(table) == (0.1, 0.85)
