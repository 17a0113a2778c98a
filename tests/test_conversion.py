"""digitpad.conversion: the MNIST format from every kind of image, and odd input that must
not crash. (Reading the input itself is tests/test_images.py's.)

Digits here are drawn with a round pen along hand-placed paths (the same paths as the committed
examples), so these tests need no data set and no model.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from make_eval_set import pen_coverage
from PIL import Image, ImageDraw

from digitpad import conversion, steps, strokes
from digitpad.conversion import DOT, EMPTY, FAINT, Conversion, stroke_width, to_mnist
from digitpad.images import ImageError, to_pixels


def _pen_coverage(digit: int, size=(600, 600), box=(190, 110, 220, 380), pen=40.0) -> np.ndarray:
    return pen_coverage(digit, size, box, pen)


@pytest.fixture(scope="module")
def ink() -> np.ndarray:
    """A 3 drawn with a MNIST-like pen (10% of its height): coverage (600, 600) in [0, 1]."""
    return _pen_coverage(3)


@pytest.fixture(scope="module")
def reference(ink) -> np.ndarray:
    """What a clean black-on-white 3 converts to."""
    return _convert(_on_white(ink))


def _on_white(coverage: np.ndarray) -> np.ndarray:
    return np.rint(255 * (1 - coverage)).astype(np.uint8)


def _layer(coverage: np.ndarray, colour=(0, 0, 0)) -> np.ndarray:
    """A transparent canvas layer: RGBA, the ink in alpha, RGB 0 under transparent pixels."""
    rgba = np.zeros((*coverage.shape, 4), np.uint8)
    rgba[..., :3] = np.where(coverage[..., None] > 0, colour, 0)
    rgba[..., 3] = np.rint(coverage * 255)
    return rgba


def _convert(source) -> np.ndarray:
    conversion = to_mnist(source)
    assert conversion.reason is None, conversion.reason
    _check_mnist_format(conversion.image)
    return conversion.image


def _check_mnist_format(image: np.ndarray) -> None:
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.max() > 0.5
    rows, cols = np.nonzero(image)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 20  # the 20x20 box
    total = image.sum()
    centre = (image.sum(1) @ np.arange(28) / total, image.sum(0) @ np.arange(28) / total)
    assert np.allclose(centre, 14, atol=0.5 + 1e-4), centre  # MNIST: centre of mass at 14


def _close(image: np.ndarray, expected: np.ndarray, tolerance: float = 0.03) -> None:
    """The same digit: mean absolute difference small, and the same pixels mostly inked."""
    difference = float(np.abs(image - expected).mean())
    overlap = np.logical_and(image > 0.5, expected > 0.5).sum() / max((expected > 0.5).sum(), 1)
    assert difference <= tolerance and overlap >= 0.75, (difference, overlap)


# --- the MNIST format -------------------------------------------------------------------------


def test_an_mnist_formatted_digit_stays_as_it_is(reference):
    _close(_convert(reference), reference, tolerance=0.03)  # float, white on black, 28x28
    _close(_convert(np.rint(reference * 255).astype(np.uint8)), reference, tolerance=0.03)


def test_format_of_a_canvas_drawing(reference):
    _check_mnist_format(reference)
    assert reference.max() == 1.0 and (reference == 0).mean() > 0.6  # white ink on black


# --- every input form -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "RGB", "CMYK", "I;16", "I", "F", "1"])
def test_pil_modes(ink, reference, mode):
    grey = Image.fromarray(_on_white(ink))
    if mode in ("RGBA", "LA"):
        image = Image.fromarray(_layer(ink)).convert(mode)
    elif mode == "I;16":
        image = Image.fromarray((np.asarray(grey).astype(np.uint16) * 257), "I;16")
    elif mode == "1":
        image = grey.point(lambda v: 255 if v >= 128 else 0).convert("1")
    else:
        image = grey.convert(mode)
    _close(_convert(image), reference, tolerance=0.05 if mode == "1" else 0.03)


@pytest.mark.parametrize(
    "make",
    [
        lambda c: _on_white(c),  # (H, W) uint8
        lambda c: _on_white(c)[..., None],  # (H, W, 1)
        lambda c: np.repeat(_on_white(c)[..., None], 3, axis=2),  # (H, W, 3)
        lambda c: _layer(c),  # (H, W, 4)
        lambda c: _on_white(c).astype(np.uint16) * 257,  # 16-bit
        lambda c: c < 0.5,  # bool, True = paper
        lambda c: 1.0 - c,  # float in [0, 1]
        lambda c: (255.0 * (1.0 - c)).astype(np.float32),  # float in [0, 255]
        lambda c: _layer(c).astype(np.float64) / 255,  # float RGBA
    ],
    ids=["2d", "hw1", "rgb", "rgba", "uint16", "bool", "float01", "float255", "float-rgba"],
)
def test_numpy_forms(ink, reference, make):
    _close(_convert(make(ink)), reference, tolerance=0.05)


def test_a_drawing_from_the_pad():
    drawing = strokes.read_drawing(strokes.value_of([[(0.5, 0.1), (0.5, 0.9)]]))
    image = _convert(drawing)
    # converted as the model should see it: fitted to its box, with a pen in proportion to it
    np.testing.assert_array_equal(image, _convert(drawing.render_fitted()))
    assert image[:, 14].sum() > image[14, :].sum(), "a 1 is tall"


# --- where, how big, how thick ----------------------------------------------------------------


def test_small_off_centre_digit_gives_the_clean_digit(reference):
    small = _pen_coverage(3, (800, 800), (690, 640, 55, 95), 10)  # bottom-right corner
    _close(_convert(_layer(small)), reference, tolerance=0.05)


def test_huge_thick_digit_gives_the_clean_digit(reference):
    huge = _pen_coverage(3, (800, 800), (230, 30, 400, 720), 75)  # a 75 px brush
    _close(_convert(_on_white(huge)), reference, tolerance=0.04)


def test_hairline_digit_gives_the_clean_digit(reference):
    hairline = _pen_coverage(3, (800, 800), (230, 60, 330, 650), 2)  # pen: 0.3% of the height
    _close(_convert(_on_white(hairline)), reference, tolerance=0.07)


def test_fat_marker_is_eroded_but_keeps_its_thin_parts():
    box, cut = (150, 80, 300, 440), (np.arange(600) < 420)[:, None]
    fat = _pen_coverage(4, (600, 600), box, 150) * cut  # pen: 34% of the height ...
    thin_end = _pen_coverage(4, (600, 600), box, 12) * ~cut  # ... but a thin end to the stem
    image = _convert(_on_white(np.maximum(fat, thin_end)))
    assert stroke_width(image > 0.5) < 0.3 * 20  # thinner than drawn
    assert image[22:, 12:22].max() > 0.4  # the thin end of the stem is still there


def test_stroke_width_of_a_band():
    band = np.zeros((40, 300), bool)
    band[10:20, 5:295] = True
    assert stroke_width(band) == pytest.approx(10, rel=0.05)
    assert stroke_width(np.zeros((5, 5), bool)) == 0.0


# --- polarity, specks, nothing ----------------------------------------------------------------


def test_light_ink_on_dark_canvas(ink, reference):
    dark = np.rint(11 + ink * 229).astype(np.uint8)
    _close(_convert(dark), reference)
    _close(_convert(np.stack([dark] * 3, axis=2)), reference)


def test_specks_are_ignored(ink, reference):
    speckled = ink.copy()
    rng = np.random.default_rng(0)
    for _ in range(12):
        y, x = rng.integers(0, 600, 2)
        if 80 <= y < 520 and 160 <= x < 440:
            continue  # not on the digit
        speckled[y : y + 3, x : x + 3] = 1.0
    speckled[20:35, 20:35] = 1.0  # a pen-sized dot in a corner
    _close(_convert(_on_white(speckled)), reference)


def test_separate_strokes_of_one_digit_are_kept():
    def five(gap: int) -> np.ndarray:  # the body of a 5, and its top bar drawn apart
        image = Image.new("L", (600, 600), 255)
        draw = ImageDraw.Draw(image)
        draw.line(
            [(250, 100), (235, 290), (330, 270), (390, 360), (360, 470), (300, 500), (210, 470)],
            fill=0,
            width=22,
            joint="curve",
        )
        draw.line([(250 + gap, 100), (420, 100)], fill=0, width=22)
        return np.asarray(image)

    apart, joined = _convert(five(gap=40)), _convert(five(gap=0))
    assert apart[4:9, 14:24].max() > 0.5  # the bar is there, top right
    _close(apart, joined, tolerance=0.05)


@pytest.mark.parametrize(
    "array",
    [
        np.full((600, 600), 255, np.uint8),  # blank white
        np.zeros((600, 600), np.uint8),  # all ink (or a black canvas)
        np.full((600, 600, 3), 128, np.uint8),  # uniform grey
        np.zeros((600, 600, 4), np.uint8),  # fully transparent
        np.zeros((1, 1), np.uint8),
    ],
    ids=["white", "black", "grey", "transparent", "one-pixel"],
)
def test_nothing_drawn_is_no_digit(array):
    assert to_mnist(array) == Conversion(image=None, reason=EMPTY)


def test_a_dot_is_not_a_digit():
    yy, xx = np.mgrid[:600, :600]
    dot = np.where(np.hypot(yy - 300, xx - 280) < 15, 0, 255).astype(np.uint8)
    assert to_mnist(dot) == Conversion(image=None, reason=DOT)


def test_faint_noise_is_not_a_digit():
    noise = np.random.default_rng(0).normal(200, 3, (400, 400)).clip(0, 255).astype(np.uint8)
    assert to_mnist(noise) == Conversion(image=None, reason=FAINT)


# --- shortcuts give exactly what the general code gives -----------------------------------------


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.uint8, st.integers(1, 400), elements=st.integers(0, 255)))
def test_median_level_is_numpys_median(levels):
    assert conversion._median_level(levels) == float(np.median(levels))


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30)))
def test_crop_and_pad_are_numpys(mask):
    np.testing.assert_array_equal(conversion._pad(mask), np.pad(mask, 1))
    if mask.any():
        rows, cols = np.nonzero(mask)
        expected = mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        np.testing.assert_array_equal(conversion._crop_to_ink(mask), expected)


def _blobs() -> np.ndarray:
    """(60, 60) contrast: a digit-sized blob, a separate stroke beside it, a speck far away."""
    contrast = np.zeros((60, 60), np.float32)
    contrast[10:40, 10:30] = 0.9  # the digit
    contrast[10:14, 33:45] = 0.8  # a separate stroke, near: kept
    contrast[55:57, 55:57] = 0.9  # a speck, far: dropped
    return contrast


def test_kept_components_and_their_box():
    contrast = _blobs()
    keep, box = conversion._keep_components(contrast, 0.4, 0.9)
    expected = np.zeros_like(keep)
    expected[10:40, 10:30] = expected[10:14, 33:45] = True
    np.testing.assert_array_equal(keep, expected)
    rows, cols = np.nonzero(keep)
    assert box == (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
    # all components kept (the shortcut): the thresholded mask itself
    contrast[55:57, 55:57] = 0
    keep, box = conversion._keep_components(contrast, 0.4, 0.9)
    np.testing.assert_array_equal(keep, contrast > 0.2)
    assert box == (10, 40, 10, 45)


def test_components_touching_the_seeds():
    mask = _blobs() > 0.5
    seeds = np.zeros_like(mask)
    seeds[20, 20] = True  # on the digit only
    touching = conversion._components_touching(mask, seeds)
    np.testing.assert_array_equal(
        touching, mask & (np.arange(60) < 40)[:, None] & (np.arange(60) < 30)[None, :]
    )
    seeds[12, 40] = seeds[56, 56] = True  # on every component (the shortcut): the mask itself
    np.testing.assert_array_equal(conversion._components_touching(mask, seeds), mask)
    assert conversion._components_touching(mask, ~mask) is None  # on none
    assert conversion._components_touching(np.zeros_like(mask), seeds) is None  # no ink


@pytest.mark.parametrize("background", [1.0, 0.02, "map"])
def test_contrast_is_float32_and_as_computed_in_float64(background):
    rng = np.random.default_rng(0)
    grey = rng.random((50, 40), dtype=np.float32)
    if background == "map":  # a photo's background
        background = rng.uniform(0.0, 1.0, (50, 40)).astype(np.float32)
    contrast = conversion._contrast(background, grey)
    as_float64 = np.clip((np.float64(background) - grey) / np.maximum(background, 0.05), 0, 1)
    assert contrast.dtype == np.float32 and contrast.shape == grey.shape
    np.testing.assert_allclose(contrast, as_float64, atol=1e-6)


# --- property-based: odd arrays never crash ---------------------------------------------------

DTYPES = st.sampled_from(
    [np.uint8, np.uint16, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64, bool]
)


def _assert_valid(conversion: Conversion) -> None:
    assert isinstance(conversion, Conversion)
    if conversion.image is None:
        assert isinstance(conversion.reason, str) and conversion.reason
    else:
        assert conversion.reason is None
        assert conversion.image.shape == (28, 28) and conversion.image.dtype == np.float32
        assert np.isfinite(conversion.image).all()
        assert 0.0 <= conversion.image.min() and conversion.image.max() <= 1.0


def _is_image_shape(shape: tuple[int, ...]) -> bool:
    """(H, W), (H, W, C) or (C, H, W) with C in 1..4, after dropping leading 1s (a batch of
    one); or no pixels at all."""
    if 0 in shape:
        return True
    while len(shape) > 2 and shape[0] == 1:
        shape = shape[1:]
    return len(shape) == 2 or (len(shape) == 3 and (1 <= shape[-1] <= 4 or 1 <= shape[0] <= 4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=12)))
def test_any_array_converts_or_raises_image_error(array):
    if _is_image_shape(array.shape):
        _assert_valid(to_mnist(array))  # any values: NaN, infinities, negatives, huge
    else:
        with pytest.raises(ImageError, match="shape"):
            to_mnist(array)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 120),
    st.integers(1, 120),
    st.sampled_from([None, 1, 2, 3, 4]),
    st.integers(0, 2**32 - 1),
)
def test_random_images_give_a_digit_or_a_reason(height, width, channels, seed):
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    image = np.full(shape, 255, np.uint8)
    for _ in range(rng.integers(0, 4)):  # some random blobs and lines
        y, x = rng.integers(0, height), rng.integers(0, width)
        image[y : y + rng.integers(1, 40), x : x + rng.integers(1, 40)] = rng.integers(0, 256)
    _assert_valid(to_mnist(image))


def test_unexpected_bug_becomes_image_error(monkeypatch, caplog):
    def broken(*args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(conversion, "_locate", broken)
    with pytest.raises(ImageError, match="^could not convert this image; try another one$"):
        to_mnist(np.zeros((10, 10), np.uint8))
    assert "ZeroDivisionError: boom" in caplog.text, "the cause is logged for the owner"


# --- the way in: the steps kept -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["canvas", "dark", "layer", "drawing"])
def test_kept_steps_end_with_exactly_the_conversions_image(ink, kind):
    source = {
        "canvas": lambda: _on_white(ink),
        "dark": lambda: 255 - _on_white(ink),
        "layer": lambda: _layer(ink),
        "drawing": lambda: strokes.read_drawing(strokes.value_of([[(0.5, 0.1), (0.5, 0.9)]])),
    }[kind]()
    plain, kept = to_mnist(source), to_mnist(source, keep_steps=True)
    assert plain.steps == (), "the default path keeps nothing"
    np.testing.assert_array_equal(kept.image, plain.image)  # bit for bit
    captions = [step.caption for step in kept.steps]
    assert captions[0] == steps.SEEN and captions[1] == steps.INK and captions[2] == steps.CROPPED
    assert captions[3] in (steps.BOXED, steps.THINNED, steps.THICKENED)
    assert captions[4] == steps.CENTRED
    assert all(step.image.dtype == np.uint8 and step.image.ndim == 2 for step in kept.steps)
    np.testing.assert_array_equal(kept.steps[-1].image, to_pixels(plain.image))
    assert max(kept.steps[3].image.shape) == conversion.BOX_SIZE
    assert kept.steps[1].image.max() == 255 and kept.steps[2].image.max() == 255, "ink shown"


def test_the_box_says_whether_the_stroke_was_changed():
    fat = _pen_coverage(4, (600, 600), (150, 80, 300, 440), 150)  # pen: 34% of the height
    hairline = _pen_coverage(3, (800, 800), (230, 60, 330, 650), 2)  # 0.3%
    assert to_mnist(_on_white(fat), keep_steps=True).steps[3].caption == steps.THINNED
    assert to_mnist(_on_white(hairline), keep_steps=True).steps[3].caption == steps.THICKENED


def test_steps_stop_where_the_conversion_stopped():
    dot = np.full((200, 200), 255, np.uint8)
    dot[90:110, 90:110] = 0
    kept = to_mnist(dot, keep_steps=True)
    assert kept.reason == DOT and kept.image is None
    assert [s.caption for s in kept.steps] == [steps.SEEN, steps.INK, steps.CROPPED]
    empty = to_mnist(np.zeros((50, 50)), keep_steps=True)
    assert empty.reason == EMPTY and [s.caption for s in empty.steps] == [steps.SEEN]
