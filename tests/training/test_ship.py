"""digitpad.training.ship: only a full, measured, matching run replaces the shipped model."""

from __future__ import annotations

import shutil

import numpy as np
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
from digitpad.nearest import (
    METRICS_KEY,
    NEIGHBOURS_FILENAME,
    NeighbourIndex,
    index_record,
    write_index,
)
from digitpad.training import ship
from digitpad.training.ship import SHIPPED_FILES


def tiny_index(path, model_sha256):
    """A small but real neighbour index at ``path``, for the model with ``model_sha256``."""
    features = np.eye(3, 8, dtype=np.float32)
    images = np.zeros((3, 28, 28), np.uint8)
    write_index(
        path, NeighbourIndex(images, np.arange(3), features, np.array(["mnist"] * 3), model_sha256)
    )


def fake_run(folder, *, n_test=FULL_TEST_SET, dry_run=False, sha=None, index_for=None):
    """A run folder: every report file, a model (a copy of the shipped one: ship converts it),
    its neighbour index (built for ``index_for``, default the model) and the metrics that
    measured it."""
    folder.mkdir(parents=True)
    for name in SHIPPED_FILES:
        (folder / name).write_bytes(f"run's {name}".encode())
    shutil.copy2(DEFAULT_MODEL_PATH, folder / MODEL_FILENAME)
    model_sha = sha256_file(folder / MODEL_FILENAME)
    tiny_index(folder / NEIGHBOURS_FILENAME, index_for or model_sha)
    write_json(
        folder / METRICS_FILENAME,
        {
            "n_test": n_test,
            "config": {"dry_run": dry_run},
            "model": {"file": MODEL_FILENAME, "sha256": sha or model_sha},
            METRICS_KEY: index_record(folder / NEIGHBOURS_FILENAME, index_for or model_sha),
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
        ("no index", "has no neighbour index"),
        ("index for another model", "was built for another model"),
        ("index not the recorded one", "is not the index its metrics.json records"),
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
            index_for="0" * 64 if kind == "index for another model" else None,
        )
    if kind == "no index":
        (tmp_path / "run" / NEIGHBOURS_FILENAME).unlink()
    if kind == "index not the recorded one":
        tiny_index(tmp_path / "run" / NEIGHBOURS_FILENAME, "1" * 64)
    with pytest.raises(OutputError, match=message):
        ship.ship(tmp_path / "run", assets)
    assert [p.name for p in assets.iterdir()] == [MODEL_FILENAME]
    assert (assets / MODEL_FILENAME).read_bytes() == b"shipped"


def test_an_index_alone_ships_for_the_shipped_model_only(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    shutil.copy2(DEFAULT_MODEL_PATH, assets / MODEL_FILENAME)
    model_sha = sha256_file(assets / MODEL_FILENAME)
    write_json(assets / METRICS_FILENAME, {"model": {"file": MODEL_FILENAME, "sha256": model_sha}})
    (tmp_path / "other").mkdir()
    tiny_index(tmp_path / "other" / NEIGHBOURS_FILENAME, "0" * 64)
    with pytest.raises(OutputError, match="built for another model"):
        ship.ship_index(tmp_path / "other", assets)
    assert not (assets / NEIGHBOURS_FILENAME).exists()
    (tmp_path / "built").mkdir()
    tiny_index(tmp_path / "built" / NEIGHBOURS_FILENAME, model_sha)
    ship.ship_index(tmp_path / "built", assets)
    record = read_json(assets / METRICS_FILENAME)[METRICS_KEY]
    assert record["sha256"] == sha256_file(assets / NEIGHBOURS_FILENAME)
    assert record["model_sha256"] == model_sha
    assert read_json(assets / METRICS_FILENAME)["model"]["sha256"] == model_sha, "the rest kept"
