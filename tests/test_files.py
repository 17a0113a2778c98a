"""digitpad.files: atomic writes, hashes, metrics.json, the model's save/load pair, where a run
may write, and shipping a run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat

import numpy as np
import pytest

from digitpad import ASSETS_DIR, DEFAULT_MODEL_PATH, files
from digitpad.files import (
    METRICS_FILENAME,
    MODEL_FILENAME,
    ModelError,
    OutputError,
    load_keras_model,
    output_folder,
    read_json,
    recorded_sha256,
    save_for_serving,
    sha256_file,
    write_atomic,
    write_json,
)


def test_write_atomic_replaces_the_whole_file(tmp_path):
    path = tmp_path / "a.bin"
    write_atomic(path, b"old")
    write_atomic(path, b"new content")
    assert path.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"], "no temporary file left"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_private_files_are_the_owners_only(tmp_path):
    write_atomic(tmp_path / "drawing.png", b"\x89PNG", private=True)
    assert stat.S_IMODE((tmp_path / "drawing.png").stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    write_json(path, {"kept": True})

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_json(path, {"kept": False})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"kept": True}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_json_round_trip_and_unreadable_json(tmp_path):
    write_json(tmp_path / "m.json", {"a": [1, 2], "b": None})
    assert read_json(tmp_path / "m.json") == {"a": [1, 2], "b": None}
    (tmp_path / "bad.json").write_text("{not json")
    assert read_json(tmp_path / "bad.json") is None
    assert read_json(tmp_path / "missing.json") is None
    (tmp_path / "list.json").write_text("[1, 2]")
    assert read_json(tmp_path / "list.json") is None, "a record is an object"


def test_sha256_of_a_file(tmp_path):
    data = os.urandom(3 * 2**20 + 17)  # more than one read block
    (tmp_path / "blob").write_bytes(data)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


def test_recorded_sha256_is_read_from_the_metrics_beside_the_model(tmp_path):
    model = tmp_path / MODEL_FILENAME
    model.write_bytes(b"weights")
    assert recorded_sha256(model) is None
    write_json(tmp_path / METRICS_FILENAME, {"model": {"file": "other.keras", "sha256": "ab"}})
    assert recorded_sha256(model) is None, "a record of another file does not count"
    write_json(tmp_path / METRICS_FILENAME, {"model": {"file": MODEL_FILENAME, "sha256": "ab"}})
    assert recorded_sha256(model) == "ab"
    assert recorded_sha256(DEFAULT_MODEL_PATH) == sha256_file(DEFAULT_MODEL_PATH)


# --- the model's pair ---------------------------------------------------------------------------


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="No model at .*python train_model.py train"):
        load_keras_model(tmp_path / MODEL_FILENAME)


def test_damaged_model_file(tmp_path):
    path = tmp_path / MODEL_FILENAME
    path.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="corrupt"):
        load_keras_model(path, verify=False)


def test_model_that_is_not_the_recorded_one(tmp_path):
    path = tmp_path / MODEL_FILENAME
    shutil.copy(DEFAULT_MODEL_PATH, path)
    write_json(tmp_path / METRICS_FILENAME, {"model": {"file": MODEL_FILENAME, "sha256": "0" * 64}})
    with pytest.raises(ModelError, match="does not match .*--no-verify-model"):
        load_keras_model(path)
    assert load_keras_model(path, verify=False).input_shape[1:] == (28, 28)


def test_saved_for_serving_is_compact_and_gives_the_same_answers(tmp_path, sample):
    from digitpad.training.model import build_model, compile_model

    model = compile_model(build_model("tutorial"), 1e-3, 0.5)
    x, y = sample.x_train[:64] / np.float32(255), sample.y_train[:64]
    model.fit(x, y, epochs=1, verbose=0)  # an optimizer with state to leave out
    served = save_for_serving(model, tmp_path / "runs" / MODEL_FILENAME)
    loaded = load_keras_model(tmp_path / "runs" / MODEL_FILENAME, verify=False)
    probe = sample.x_test[:8] / np.float32(255)
    expected = np.asarray(model(probe, training=False))
    np.testing.assert_allclose(np.asarray(served(probe, training=False)), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(loaded(probe, training=False)), expected, atol=1e-6)
    model.save(tmp_path / "with_optimizer.keras")  # Adam keeps two values per weight
    assert (tmp_path / "runs" / MODEL_FILENAME).stat().st_size < 0.5 * (
        tmp_path / "with_optimizer.keras"
    ).stat().st_size, "no optimizer state in the file"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [MODEL_FILENAME]


# --- where a run writes, and shipping it ---------------------------------------------------------


@pytest.mark.parametrize("inside", [ASSETS_DIR, ASSETS_DIR / "examples", ASSETS_DIR / "new-run"])
def test_no_run_writes_into_assets(inside):
    with pytest.raises(OutputError, match="holds the shipped model.*train_model.py ship"):
        output_folder(inside)
    assert not (ASSETS_DIR / "new-run").exists()


def test_a_run_never_overwrites_another(tmp_path):
    out = output_folder(tmp_path / "runs" / "first")
    assert out.is_dir()
    assert output_folder(out) == out, "an empty folder is fine"
    (out / MODEL_FILENAME).write_bytes(b"a model")
    with pytest.raises(OutputError, match="already holds a model"):
        output_folder(out)
