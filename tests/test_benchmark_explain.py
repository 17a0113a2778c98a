"""scripts/benchmark_explain.py end to end, on a few digits of the committed MNIST sample."""

from __future__ import annotations

import benchmark_explain
import pytest

pytestmark = pytest.mark.slow  # a whole benchmark, if a small one


def test_a_small_run_prints_the_deletion_test_and_the_costs(sample_mnist_path, capsys):
    argv = ["--data", str(sample_mnist_path), "--count", "4", "--baseline", "HEAD"]
    assert benchmark_explain.main(argv) == 0
    printed = capsys.readouterr().out
    for protocol in ("ink pixels only", "all pixels"):
        assert f"deletion test, {protocol}" in printed
    assert printed.count("heat-map area below random's") == 4
    assert "conversion outputs identical to the baseline's on 4 inputs: True" in printed
    assert "recognise right after an explanation: p50" in printed
