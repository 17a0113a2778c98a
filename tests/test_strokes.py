"""digitpad.strokes: the drawing pad's value (strokes) is read within bounds and rendered as drawn.

tests/app/test_events.py checks that the page's canvas and :func:`digitpad.strokes.render` draw the same
thing; tests/test_bad_input.py sends hostile values through the handler and the server;
tests/app/test_page.py that the page's script draws with the same pen.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitpad import strokes


def test_value_round_trips():
    lines = [[(0.1, 0.2), (0.3, 0.4)], [(0.5, 0.5)]]
    read = strokes.read_strokes(strokes.value_of(lines))
    assert [s.tolist() for s in read] == [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.5]]]
    assert all(s.dtype == np.float64 and s.shape[1] == 2 for s in read)
    # the parsed dict works too (what a script may hand the handler directly)
    assert [s.tolist() for s in strokes.read_strokes({"strokes": lines})] == [
        s.tolist() for s in read
    ]


@pytest.mark.parametrize("value", [None, "", "   ", '{"strokes": []}', {"strokes": []}])
def test_empty_pad(value):
    assert strokes.read_strokes(value) == []
    assert strokes.read_drawing(value) is None


def test_points_off_the_pad_are_clipped():
    (stroke,) = strokes.read_strokes('{"strokes": [[[-0.5, 0.5], [1.5, 2], [0.25, 0.75]]]}')
    assert stroke.tolist() == [[0.0, 0.5], [1.0, 1.0], [0.25, 0.75]]


@pytest.mark.parametrize(
    "value, reason",
    [
        ("{nope", "not JSON"),
        ("[" * 50_000, "not JSON"),
        ("[]", '{"strokes"'),
        ('{"strokes": {}}', '{"strokes"'),
        ('{"strokes": [[]]}', "non-empty list"),
        ('{"strokes": [7]}', "non-empty list"),
        ('{"strokes": [[[1]]]}', "two numbers"),
        ('{"strokes": [[[1, 2, 3]]]}', "two numbers"),
        ('{"strokes": [[["1", 2]]]}', "two numbers"),
        ('{"strokes": [[[true, 0]]]}', "two numbers"),
        ('{"strokes": [[[NaN, 0]]]}', "finite"),
        ('{"strokes": [[[0, -Infinity]]]}', "finite"),
        ('{"strokes": [[[1e400, 0]]]}', "finite"),
        (
            strokes.value_of([[(0, 0)]] * (strokes.MAX_STROKES + 1)),
            f"at most {strokes.MAX_STROKES}",
        ),
        (
            strokes.value_of([[(0, 0)] * (strokes.MAX_POINTS + 1)]),
            f"over {strokes.MAX_POINTS:,} points",
        ),
        ('{"strokes": []' + " " * strokes.MAX_VALUE_CHARS + "}", "characters"),
        (12, '{"strokes"'),
    ],
)
def test_what_is_not_a_drawing_is_refused_with_a_reason(value, reason):
    with pytest.raises(ValueError, match="^the drawing") as error:
        strokes.read_strokes(value)
    assert reason in str(error.value)


def test_render_draws_black_ink_with_the_pen_on_white_paper():
    size = strokes.RENDER_SIZE
    image = strokes.render(strokes.read_strokes(strokes.value_of([[(0.5, 0.5)]])))
    assert image.shape == (size, size) and image.dtype == np.uint8
    assert image[0, 0] == strokes.PAPER and image[size // 2, size // 2] == strokes.INK
    # a dot is a disc of the pen's radius
    area = (image < 128).sum()
    assert area == pytest.approx(np.pi * (strokes.PEN_RADIUS * size) ** 2, rel=0.1)


def test_render_a_line_with_round_caps():
    size = strokes.RENDER_SIZE
    image = strokes.render([np.array([[0.2, 0.5], [0.8, 0.5]])]) < 128
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    radius = strokes.PEN_RADIUS * size
    assert rows[-1] - rows[0] + 1 == pytest.approx(2 * radius, abs=2)  # the pen's width
    assert cols[0] == pytest.approx(0.2 * size - radius, abs=2)  # caps reach past the ends
    assert cols[-1] == pytest.approx(0.8 * size + radius, abs=2)
    assert (
        image[
            size // 2 - int(radius) + 1 : size // 2 + int(radius) - 1, cols[0] : cols[-1] + 1
        ].mean()
        > 0.9
    )


def test_value_of_is_what_the_page_sends():
    value = strokes.value_of([[(0.123456, 0.5)]])
    assert json.loads(value) == {"strokes": [[[0.1235, 0.5]]]}  # 4 decimals, as the page rounds


def test_a_drawing_renders_and_keeps_its_strokes():
    value = strokes.value_of([[(0.2, 0.2), (0.8, 0.8)], [(0.8, 0.2), (0.2, 0.8)]])
    drawing = strokes.read_drawing(value)
    assert isinstance(drawing, strokes.Drawing) and len(drawing.strokes) == 2
    np.testing.assert_array_equal(drawing.render(), strokes.render(strokes.read_strokes(value)))
    assert drawing.render(56).shape == (56, 56)
    assert drawing.as_lists() == json.loads(value)["strokes"]
    with pytest.raises(ValueError, match="^the drawing"):
        strokes.read_drawing("{nope")


def test_the_pen_draws_mnist_like_strokes():
    """A digit drawn over 3/4 of the pad with the pen has MNIST's stroke/height ratio, within the
    range the conversion leaves alone."""
    from digitpad.conversion import MNIST_STROKE, THICK_STROKE, THIN_STROKE, stroke_width
    from harness import pad_value

    assert abs(2 * strokes.PEN_RADIUS / 0.75 - MNIST_STROKE) < 0.01
    ink = strokes.read_drawing(pad_value(7)).render() < 128
    rows = np.flatnonzero(ink.any(axis=1))
    assert THIN_STROKE < stroke_width(ink) / (rows[-1] - rows[0] + 1) < THICK_STROKE


def test_the_model_sees_a_drawing_fitted_with_a_pen_in_proportion():
    """render_fitted: the strokes' box fills the field, the pen MNIST's ratio of its long side,
    whatever size the digit was drawn at: a small digit and a large one give the same image."""
    from digitpad.conversion import MNIST_STROKE, stroke_width

    assert strokes.FITTED_STROKE == MNIST_STROKE
    seven = [np.array([[0.2, 0.2], [0.8, 0.2], [0.45, 0.9]])]
    small = [0.5 + 0.2 * (s - 0.5) for s in seven]  # a fifth of the size
    large_ink, small_ink = strokes.render_fitted(seven) < 128, strokes.render_fitted(small) < 128
    assert (large_ink != small_ink).mean() < 0.01
    rows = np.flatnonzero(large_ink.any(axis=1))
    assert stroke_width(large_ink) / (rows[-1] - rows[0] + 1) == pytest.approx(
        MNIST_STROKE, rel=0.2
    )
    assert (rows[-1] - rows[0] + 1) > 0.7 * strokes.RENDER_SIZE  # fills the field
    # the page's pen on the small one: strokes over twice as thick for its size
    page = strokes.render(small) < 128
    page_rows = np.flatnonzero(page.any(axis=1))
    assert stroke_width(page) / (page_rows[-1] - page_rows[0] + 1) > 2 * MNIST_STROKE
    # the original the page shows is still its own pen's
    np.testing.assert_array_equal(strokes.Drawing(tuple(small)).render(), strokes.render(small))
    np.testing.assert_array_equal(
        strokes.Drawing(tuple(small)).render_fitted(), strokes.render_fitted(small)
    )


def test_a_dot_stays_a_dot_when_fitted():
    image = strokes.render_fitted([np.array([[0.5, 0.5]])]) < 128
    assert 0 < image.mean() < 0.05  # not blown up to fill the field
    assert not (strokes.render_fitted([]) < 128).any()
