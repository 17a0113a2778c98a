"""A short load on the real app: 16 clients at once, a few hundred predictions, no error, no crash.

The figures (throughput, latency percentiles, memory over 5,000 requests) come from
``scripts/load_test.py``; this only checks that the app holds up under concurrent clients.
"""

from __future__ import annotations

import json
import sys

import pytest

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL_PATH.is_file(),
                                reason=f"no shipped model at {DEFAULT_MODEL_PATH}")


def test_sixteen_clients_get_answers_and_the_server_survives(tmp_path):
    sys.path.insert(0, str(REPO_DIR / "scripts"))
    import load_test

    out = tmp_path / "load.json"
    assert load_test.main(["--requests", "320", "--clients", "16", "--processes", "2",
                           "--out", str(out)]) == 0  # 1: the server died
    report = json.loads(out.read_text())
    (step,) = report["steps"]
    assert step["errors"] == {} and step["ok"] == step["requests"] == 320
    assert report["rss_after_mb"] - report["rss_before_mb"] < 100
