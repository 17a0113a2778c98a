"""digitpad.nearest: the neighbour index shipped beside the model, checked against it, searched."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from digitpad import DEFAULT_MODEL_PATH
from digitpad.files import METRICS_FILENAME, MODEL_FILENAME, read_json, sha256_file, write_json
from digitpad.memory import unit
from digitpad.nearest import (
    MAX_K,
    METRICS_KEY,
    MISSING,
    NEIGHBOURS_FILENAME,
    NO_MODEL_FILE,
    OUT_OF_DATE,
    UNREADABLE,
    NeighbourIndex,
    index_for,
    read_index,
    write_index,
)

SHIPPED_INDEX = DEFAULT_MODEL_PATH.with_name(NEIGHBOURS_FILENAME)


def test_the_shipped_index_is_built_for_the_shipped_model_and_recorded():
    index = index_for(DEFAULT_MODEL_PATH)
    assert isinstance(index, NeighbourIndex), index
    assert index.model_sha256 == sha256_file(DEFAULT_MODEL_PATH)
    record = read_json(DEFAULT_MODEL_PATH.with_name(METRICS_FILENAME))[METRICS_KEY]
    assert record["sha256"] == sha256_file(SHIPPED_INDEX)
    assert record["model_sha256"] == index.model_sha256
    assert set(np.unique(index.labels).tolist()) == set(range(10))
    assert (index.sources == "mnist").any() and (index.sources != "mnist").any(), "and styles"
    np.testing.assert_allclose(np.linalg.norm(index.features, axis=1), 1.0, atol=1e-5)


def test_the_neighbours_of_test_digits_are_mostly_their_own_digit(predictor, sample):
    index = index_for(DEFAULT_MODEL_PATH)
    _, features = predictor.predict_with_features(sample.x_test[:60].astype(np.float32) / 255)
    same = [
        np.mean([n.digit == label for n in index.nearest(f, 5)])
        for f, label in zip(features, sample.y_test[:60])
    ]
    assert np.mean(same) >= 0.9
    near = index.nearest(features[0], 5)
    assert [n.distance for n in near] == sorted(n.distance for n in near)
    assert len(index.nearest(features[0], 10_000)) == MAX_K, "k is bounded"
    assert index.nearest(features[0], 0) == []


def _copy_model(folder):
    folder.mkdir()
    shutil.copy2(DEFAULT_MODEL_PATH, folder / MODEL_FILENAME)
    return folder / MODEL_FILENAME


def _tiny_index(model_sha256: str) -> NeighbourIndex:
    rng = np.random.default_rng(0)
    features = np.stack([unit(f) for f in rng.normal(size=(4, 8))])
    images = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    return NeighbourIndex(images, np.arange(4), features, np.array(["mnist"] * 4), model_sha256)


def test_an_index_built_for_another_model_is_out_of_date(tmp_path):
    model = _copy_model(tmp_path / "run")
    assert index_for(model) == MISSING
    write_index(model.with_name(NEIGHBOURS_FILENAME), _tiny_index("0" * 64))
    assert index_for(model) == OUT_OF_DATE
    write_index(model.with_name(NEIGHBOURS_FILENAME), _tiny_index(sha256_file(model)))
    index = index_for(model)
    assert isinstance(index, NeighbourIndex) and index.nearest(index.features[2], 1)[0].digit == 2
    np.testing.assert_array_equal(read_index(model.with_name(NEIGHBOURS_FILENAME)).labels, range(4))


def test_an_index_not_the_one_the_metrics_record_is_out_of_date(tmp_path):
    model = _copy_model(tmp_path / "run")
    write_index(model.with_name(NEIGHBOURS_FILENAME), _tiny_index(sha256_file(model)))
    write_json(model.with_name(METRICS_FILENAME), {METRICS_KEY: {"sha256": "f" * 64}})
    assert index_for(model) == OUT_OF_DATE


def test_no_file_and_a_damaged_file_are_said(tmp_path):
    assert index_for(None) == NO_MODEL_FILE
    model = _copy_model(tmp_path / "run")
    model.with_name(NEIGHBOURS_FILENAME).write_bytes(b"not an npz")
    assert index_for(model) == UNREADABLE


def test_a_mismatched_index_is_refused(tmp_path):
    index = _tiny_index("0" * 64)
    bad = NeighbourIndex(index.images[:2], index.labels, index.features, index.sources, "0" * 64)
    write_index(tmp_path / NEIGHBOURS_FILENAME, bad)
    with pytest.raises(ValueError, match="do not match"):
        read_index(tmp_path / NEIGHBOURS_FILENAME)
