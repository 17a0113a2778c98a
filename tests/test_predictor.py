"""digitpad.predictor with the shipped model: the examples, canvases drawn in a browser, batches
and threads. (The model file's checks are tests/test_files.py's; the words, test_verdict.py's.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad.conversion import EMPTY
from digitpad.images import ImageError
from digitpad.predictor import MAX_BATCH
from harness import EXAMPLES, expected_digit


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_recognised(predictor, path):
    recognition = predictor.recognise(path)
    assert recognition.digit == expected_digit(path), recognition.message
    assert recognition.image.shape == (28, 28) and recognition.prediction.sure


def test_batch_gives_probabilities(predictor):
    probabilities = predictor.predict_batch(np.zeros((3, 28, 28), np.float32))
    assert probabilities.shape == (3, 10)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("count", [1, 5])
def test_batch_is_what_the_keras_model_says(predictor, count):
    images = np.random.default_rng(count).random((count, 28, 28), dtype=np.float32)
    expected = predictor.model(images, training=False).numpy()
    np.testing.assert_allclose(predictor.predict_batch(images), expected, atol=1e-6)
    # other dtypes and a list are converted to float32 first
    np.testing.assert_allclose(
        predictor.predict_batch(images.astype(np.float64).tolist()), expected, atol=1e-6
    )


def test_nothing_drawn_is_not_guessed(predictor):
    recognition = predictor.recognise(np.full((400, 400), 255, np.uint8))
    assert recognition.prediction is None and recognition.image is None
    assert recognition.digit is None and recognition.message == EMPTY


def test_unreadable_input_raises_image_error(predictor):
    with pytest.raises(ImageError):
        predictor.recognise(b"not an image")


def test_threads_get_the_same_answers(predictor):
    sources = [np.asarray(Image.open(path)) for path in EXAMPLES]
    expected = [predictor.recognise(s).prediction.probabilities for s in sources]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(predictor.recognise, sources * 4))
    for i, recognition in enumerate(results):
        np.testing.assert_allclose(
            recognition.prediction.probabilities, expected[i % len(sources)], atol=1e-5
        )


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


def test_a_batch_larger_than_a_chunk_is_whole_and_in_order(predictor):
    images = np.random.default_rng(1).random((MAX_BATCH + 3, 28, 28), dtype=np.float32)
    probabilities = predictor.predict_batch(images)
    assert probabilities.shape == (MAX_BATCH + 3, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities[-4:], predictor.model(images[-4:]).numpy(), atol=1e-6)
    assert predictor.predict_batch(images[:0]).shape == (0, 10)


CANVASES = sorted((Path(__file__).resolve().parent / "data" / "sketchpad").glob("*/*.png"))


@pytest.mark.parametrize("path", CANVASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_canvases_drawn_in_a_real_browser_are_read(predictor, path):
    """Mouse-drawn digits on Gradio's sketchpad in headless Chromium, light and dark theme, as
    the browser exported them: the transparent layer (the ink in its alpha) and the composite."""
    recognition = predictor.recognise(path)
    assert recognition.digit == int(path.parent.name.rsplit("_", 1)[1]), recognition.message


def test_one_digit_and_small_marks_read_as_one_digit_a_tall_mark_makes_a_number():
    from digitpad.numbers import Piece
    from digitpad.predictor import reads_as_one_digit
    from digitpad.verdict import Prediction

    sure_seven = Prediction(np.array([0.0] * 7 + [1.0, 0.0, 0.0], np.float32))
    nothing = Prediction(np.full(10, 0.1, np.float32))

    def piece(box, prediction):
        return Piece(box, None, np.zeros((28, 28), np.float32), prediction)

    seven = piece((0.2, 0.2, 0.5, 0.8), sure_seven)
    dot = piece((0.7, 0.48, 0.72, 0.5), nothing)
    tall = piece((0.6, 0.25, 0.8, 0.75), nothing)
    assert reads_as_one_digit([seven, dot]) and reads_as_one_digit([seven])
    assert reads_as_one_digit([dot]), "no digit at all: read whole"
    assert not reads_as_one_digit([seven, tall]), "a tall mark: '7?'"
    assert not reads_as_one_digit([seven, seven])


def test_a_drawing_is_split_only_when_its_strokes_stand_apart_or_it_is_wide():
    from digitpad.predictor import may_hold_several
    from digitpad.strokes import Drawing

    def drawing(*strokes):
        return Drawing(tuple(np.asarray(s, float) for s in strokes))

    stem, bar = [(0.5, 0.2), (0.5, 0.8)], [(0.4, 0.5), (0.6, 0.5)]
    assert not may_hold_several(drawing([(0.3, 0.2), (0.7, 0.2), (0.45, 0.8)])), "one stroke"
    assert not may_hold_several(drawing(stem, bar)), "a crossed stroke: one digit"
    one, other = [(0.3, 0.2), (0.3, 0.8)], [(0.33, 0.2), (0.6, 0.2), (0.45, 0.8)]
    assert may_hold_several(drawing(one, other)), "a 1 just apart from the 7 beside it"
    assert may_hold_several(drawing([(0.1, 0.5), (0.45, 0.5)], [(0.55, 0.5), (0.9, 0.5)]))
    assert may_hold_several(drawing([(0.05, 0.45), (0.95, 0.55)])), "wider than tall"
    assert may_hold_several("any image file"), "images are always split"
