"""digitpad.training.ship: only a full, measured, matching run replaces the shipped model."""

from __future__ import annotations

import shutil

import pytest

from digitpad import DEFAULT_MODEL_PATH
from digitpad.files import (
    FULL_TEST_SET,
    LITERT_FILENAME,
    METRICS_FILENAME,
    MODEL_FILENAME,
    OutputError,
    read_json,
    recorded_sha256,
    sha256_file,
    write_json,
)
from digitpad.training import ship
from digitpad.training.ship import SHIPPED_FILES


def fake_run(folder, *, n_test=FULL_TEST_SET, dry_run=False, sha=None):
    """A run folder: every report file, a model (a copy of the shipped one: ship converts it)
    and the metrics that measured it."""
    folder.mkdir(parents=True)
    for name in SHIPPED_FILES:
        (folder / name).write_bytes(f"run's {name}".encode())
    shutil.copy2(DEFAULT_MODEL_PATH, folder / MODEL_FILENAME)
    write_json(
        folder / METRICS_FILENAME,
        {
            "n_test": n_test,
            "config": {"dry_run": dry_run},
            "model": {
                "file": MODEL_FILENAME,
                "sha256": sha or sha256_file(folder / MODEL_FILENAME),
            },
        },
    )
    return folder


def test_ship_replaces_the_model_and_its_whole_report(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "examples").mkdir()
    for name in SHIPPED_FILES:
        (assets / name).write_bytes(b"old")
    run = fake_run(tmp_path / "run")
    (run / "history.png").unlink()  # a fine-tune has no validation history
    done = ship.ship(run, assets)
    for name in SHIPPED_FILES:
        if name == "history.png":
            assert not (assets / name).exists()
        elif name != METRICS_FILENAME:
            assert (assets / name).read_bytes() == (run / name).read_bytes(), name
    shipped, measured = read_json(assets / METRICS_FILENAME), read_json(run / METRICS_FILENAME)
    assert {**shipped, "model": measured["model"]} == measured, "the run's metrics, and"
    assert f"removed {assets / 'history.png'} (the run has none)" in done
    assert (assets / "examples").is_dir(), "nothing else in assets/ is touched"
    assert recorded_sha256(assets / MODEL_FILENAME) == sha256_file(assets / MODEL_FILENAME)
    litert = read_json(assets / METRICS_FILENAME)["model"]["litert"]
    assert litert["sha256"] == sha256_file(assets / LITERT_FILENAME), "the pair is recorded"


@pytest.mark.parametrize(
    "kind, message",
    [
        ("dry-run", "is a dry run"),
        ("sample", "measured on 300 test images"),
        ("tampered", "is not the model its metrics.json measured"),
        ("empty", "holds no trained model"),
    ],
)
def test_ship_refuses_what_must_not_ship(tmp_path, kind, message):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / MODEL_FILENAME).write_bytes(b"shipped")
    if kind == "empty":
        (tmp_path / "run").mkdir()
    else:
        fake_run(
            tmp_path / "run",
            dry_run=kind == "dry-run",
            n_test=300 if kind == "sample" else FULL_TEST_SET,
            sha="0" * 64 if kind == "tampered" else None,
        )
    with pytest.raises(OutputError, match=message):
        ship.ship(tmp_path / "run", assets)
    assert [p.name for p in assets.iterdir()] == [MODEL_FILENAME]
    assert (assets / MODEL_FILENAME).read_bytes() == b"shipped"
