"""scripts/benchmark_memory.py end to end, on a few writers from the committed MNIST sample: it
chooses a setting from its grid, restores the shipped one, and writes what it printed."""

from __future__ import annotations

import json

import benchmark_memory

from digitpad import memory


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
