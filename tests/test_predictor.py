"""digitpad.predictor with the shipped model: the examples, batches, threads, "not sure", and a
model file that is missing, damaged or not the one recorded."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import DEFAULT_MODEL_PATH
from digitpad.predictor import (
    DIGIT_LIKE,
    MAX_BATCH,
    SURE_MARGIN,
    SURE_PROBABILITY,
    ModelError,
    Prediction,
    Predictor,
    is_sure,
    load_keras_model,
)
from digitpad.preprocessing import EMPTY, ImageError
from conftest import EXAMPLES, expected_digit

needs_model = pytest.mark.skipif(
    not DEFAULT_MODEL_PATH.is_file(),
    reason=f"no shipped model at {DEFAULT_MODEL_PATH}; create it with `python train_model.py`",
)


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load()  # verified against assets/metrics.json


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@needs_model
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_recognised(predictor, path):
    recognition = predictor.recognise(path)
    assert recognition.digit == expected_digit(path), recognition.message
    assert recognition.image.shape == (28, 28) and recognition.prediction.sure


@needs_model
def test_batch_gives_probabilities(predictor):
    probabilities = predictor.predict_batch(np.zeros((3, 28, 28), np.float32))
    assert probabilities.shape == (3, 10)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@needs_model
@pytest.mark.parametrize("count", [1, 5])
def test_batch_is_what_the_keras_model_says(predictor, count):
    images = np.random.default_rng(count).random((count, 28, 28), dtype=np.float32)
    expected = predictor.model(images, training=False).numpy()
    np.testing.assert_allclose(predictor.predict_batch(images), expected, atol=1e-6)
    # other dtypes and a list are converted to float32 first
    np.testing.assert_allclose(predictor.predict_batch(images.astype(np.float64).tolist()),
                               expected, atol=1e-6)


@needs_model
def test_nothing_drawn_is_not_guessed(predictor):
    recognition = predictor.recognise(np.full((400, 400), 255, np.uint8))
    assert recognition.prediction is None and recognition.image is None
    assert recognition.digit is None and recognition.message == EMPTY


@needs_model
def test_unreadable_input_raises_image_error(predictor):
    with pytest.raises(ImageError):
        predictor.recognise(b"not an image")


@needs_model
def test_threads_get_the_same_answers(predictor):
    sources = [np.asarray(Image.open(path)) for path in EXAMPLES]
    expected = [predictor.recognise(s).prediction.probabilities for s in sources]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(predictor.recognise, sources * 4))
    for i, recognition in enumerate(results):
        np.testing.assert_allclose(recognition.prediction.probabilities,
                                   expected[i % len(sources)], atol=1e-5)


@needs_model
def test_threads_with_different_batch_sizes_do_not_mix(predictor):
    """The interpreter is re-allocated when the batch size changes: threads that alternate sizes
    must each get their own images' answers, in the right shape."""
    rng = np.random.default_rng(0)
    batches = [rng.random((size, 28, 28), dtype=np.float32) for size in (1, 2, 7, 1, 3, 16)]
    expected = [predictor.predict_batch(batch) for batch in batches]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(predictor.predict_batch, batches * 40))
    for i, probabilities in enumerate(results):
        np.testing.assert_allclose(probabilities, expected[i % len(batches)], atol=1e-6)


@needs_model
def test_a_batch_larger_than_a_chunk_is_whole_and_in_order(predictor):
    images = np.random.default_rng(1).random((MAX_BATCH + 3, 28, 28), dtype=np.float32)
    probabilities = predictor.predict_batch(images)
    assert probabilities.shape == (MAX_BATCH + 3, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities[-4:], predictor.model(images[-4:]).numpy(), atol=1e-6)
    assert predictor.predict_batch(images[:0]).shape == (0, 10)


def test_sure_needs_a_high_and_clear_top():
    clear = Prediction(np.array([0.01] * 7 + [0.93, 0.0, 0.0], np.float32))
    assert clear.sure and clear.digit == 7 and clear.verdict == "7, 93% sure"
    low = SURE_PROBABILITY - 0.05
    close = Prediction(np.array([0, 0, 0, 0, low, 0, 0, 0, 0, 1 - low], np.float32))
    assert not close.sure
    assert close.verdict in ("not sure: 4 or 9?", "not sure: 9 or 4?")
    top = max(SURE_PROBABILITY, 0.5 + SURE_MARGIN / 2) + 0.01
    clear_enough = Prediction(np.array([top, 1 - top] + [0] * 8, np.float32))
    assert clear_enough.sure
    assert set(clear.as_label()) == {str(d) for d in range(10)}
    assert is_sure(np.stack([clear.probabilities, close.probabilities])).tolist() == [True, False]


def test_a_spread_answer_asks_whether_it_is_a_digit():
    spread = Prediction(np.array([0.05] * 5 + [DIGIT_LIKE - 0.01, 0.1, 0.15] + [0.0] * 2, np.float32) /
                        np.float32(0.05 * 5 + DIGIT_LIKE - 0.01 + 0.25))
    assert spread.confidence < DIGIT_LIKE
    assert spread.verdict == "not sure it is a digit: 5 or 7?"


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="No model"):
        load_keras_model(tmp_path / "digitpad.keras")


def test_damaged_model_file(tmp_path):
    path = tmp_path / "digitpad.keras"
    path.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="corrupt"):
        load_keras_model(path, verify=False)


@needs_model
def test_model_that_is_not_the_recorded_one(tmp_path):
    path = tmp_path / "digitpad.keras"
    shutil.copy(DEFAULT_MODEL_PATH, path)
    record = {"model": {"file": "digitpad.keras", "sha256": "0" * 64}}
    (tmp_path / "metrics.json").write_text(json.dumps(record))
    with pytest.raises(ModelError, match="does not match"):
        load_keras_model(path)


SKETCHPAD_VALUES = sorted((Path(__file__).resolve().parent / "data" / "sketchpad").iterdir())


def recorded_sketchpad_value(folder: Path) -> dict:
    """A gr.Sketchpad value recorded in headless Chromium (Gradio 6.31, light and dark theme):
    the PNGs the browser uploaded, as the component hands them over with type="numpy"."""
    def read(name):
        with Image.open(folder / name) as image:
            return np.asarray(image.convert("RGBA"))

    return {"background": read("background.png"), "layers": [read("layer_0.png")],
            "composite": read("composite.png")}


@needs_model
@pytest.mark.parametrize("folder", SKETCHPAD_VALUES, ids=lambda p: p.name)
def test_real_gradio_sketchpad_values_are_read(predictor, folder):
    """The app draws on its own pad (digitpad.pad), but the conversion still reads Gradio's
    sketchpad as it really sends it, for scripts and other apps built on digitpad."""
    value = recorded_sketchpad_value(folder)
    digit = int(folder.name.rsplit("_", 1)[1])
    assert value["composite"][..., 3].min() == 255  # the quirk: the composite is opaque
    for form in (value, {**value, "layers": []}, {**value, "composite": None}):
        recognition = predictor.recognise(form)
        assert recognition.digit == digit, (folder.name, recognition.message)
