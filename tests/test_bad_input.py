"""Every bad input of issue 6, through the reading core and through the running server's API.

tests/test_images.py and tests/test_conversion.py cover reading and converting each PIL mode
and array form and their ImageError messages; tests/test_reading.py the readings.
Here the same kinds of input arrive as files and drawing-pad values the way users send them, at the
handler and at a real server, and each must get a clear line (a verdict, "not sure", the
no-digit reason, or "Can't read that image: ..."), with the server still serving afterwards.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digitpad import REPO_DIR, reading, strokes
from digitpad.training import outliers

CANVAS_7 = REPO_DIR / "assets" / "examples" / "canvas_7.png"
VERDICT = re.compile(r"^(\d, \d+% sure|not sure( it is a digit)?: \d or \d\?)$")
CANT_READ = "Can't read that image: "


def png(width: int, height: int, rows: bytes | None = None, bit_depth: int = 1) -> bytes:
    """A valid greyscale PNG of width x height, all black unless ``rows`` is given; tiny on disk
    however large it decodes (a decompression bomb when large)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\0" + b"\0" * ((width * bit_depth + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def seven() -> Image.Image:
    return Image.open(CANVAS_7).convert("L")


def transparent_black() -> bytes:
    """RGBA, black everywhere; only the ink is opaque, so the digit is in the alpha alone."""
    ink = 255 - np.asarray(seven())
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = np.where(ink > 128, 255, 0)
    return encoded(Image.fromarray(rgba, "RGBA"), "PNG")


def rotated_photo() -> bytes:
    """The 7 stored on its side, with EXIF orientation 6 (rotate 90 degrees clockwise to view)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(seven().convert("RGB").rotate(90, expand=True), "JPEG", exif=exif, quality=95)


def animated() -> bytes:
    first = seven().convert("P")
    return encoded(
        first,
        "GIF",
        save_all=True,
        append_images=[Image.new("P", first.size, 255)],
        duration=100,
        loop=0,
    )


# name -> (file bytes, what the verdict must be: a digit, "verdict" (any), "no digit", "unreadable")
FILES = {
    "non-image": (b"GIF89a? no, just text pretending", "unreadable"),
    "empty": (b"", "unreadable"),
    "truncated-png": (encoded(seven(), "PNG")[:200], "unreadable"),
    "animated-gif": (animated(), 7),
    "16-bit": (encoded(seven().convert("I;16"), "PNG"), 7),
    "cmyk": (encoded(seven().convert("CMYK"), "JPEG", quality=95), 7),
    "palette": (encoded(seven().convert("P"), "PNG"), 7),
    "1-bit": (encoded(seven().convert("1"), "PNG"), 7),
    "transparent-black": (transparent_black(), 7),
    "exif-rotated": (rotated_photo(), 7),
    "1x1": (encoded(Image.new("L", (1, 1), 0), "PNG"), "no digit"),
    "20000x20000": (png(20000, 20000), "unreadable"),
    "bomb": (png(60000, 60000), "unreadable"),
}
SUFFIX = {"animated-gif": ".gif", "cmyk": ".jpg", "exif-rotated": ".jpg"}


def check(result, expected, name: str) -> None:
    """``result``: a handler's Reading or what the API returned for it (the same, as data)."""
    if not isinstance(result, dict):
        result = result.as_json()
    verdict = result["verdict"]
    assert isinstance(verdict, str) and verdict, name
    if expected == "unreadable":
        assert verdict.startswith(CANT_READ) and result["image28"] is None, (name, verdict)
        assert result["probabilities"] is None and result["digit"] is None, name
        assert "/tmp" not in verdict and "Traceback" not in verdict and "Error" not in verdict
    elif expected == "no digit":
        assert result["probabilities"] is None and result["digit"] is None, (name, verdict)
        assert not verdict.startswith(CANT_READ) and not VERDICT.match(verdict), (name, verdict)
    else:
        assert VERDICT.match(verdict), (name, verdict)
        assert result["digit"] == expected, (name, verdict)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    paths = {}
    for name, (content, _) in FILES.items():
        paths[name] = folder / f"{name}{SUFFIX.get(name, '.png')}"
        paths[name].write_bytes(content)
    return paths


@pytest.mark.parametrize("name", FILES)
def test_files_through_the_handler(predictor, bad_files, name):
    check(reading.read_image(predictor, str(bad_files[name])), FILES[name][1], name)


def test_the_bomb_is_small_on_disk():
    assert len(FILES["20000x20000"][0]) < 200_000 and len(FILES["bomb"][0]) < 2_000_000


# --- drawings: the drawing pad's value (strokes), as the page or a script sends it ---------------


def scribble() -> list[np.ndarray]:
    """12 random zigzags all over the pad: no digit's shape."""
    return outliers.scribble(np.random.default_rng(3))


def zigzag() -> list[list[tuple[float, float]]]:
    """One stroke back and forth over the whole pad: all ink."""
    return [[p for y in np.arange(0, 1.05, 0.05) for p in ((0.0, float(y)), (1.0, float(y)))]]


SKETCHES = {
    "empty-canvas": ([], "no digit"),
    # Drawn for the model fitted to its box (digitpad.strokes.render_fitted): a filled block on
    # paper, never a digit, whether it reads as no ink at all or as no digit
    "all-ink": (zigzag(), "not sure"),
    "dot": ([[(0.5, 0.5)]], "no digit"),
    "scribble": (scribble(), "not sure"),
}
NOT_DRAWINGS = {  # values a hostile or broken client may send instead of the pad's strokes
    # name: (value, what the one line must say is wrong)
    "not-json": ("{strokes: [", "the drawing is not JSON"),
    "a-list": ("[[0.5, 0.5]]", 'the drawing must be {"strokes": [[[x, y], ...], ...]}'),
    "no-strokes-key": ('{"lines": []}', 'the drawing must be {"strokes":'),
    "strokes-not-a-list": ('{"strokes": 7}', 'the drawing must be {"strokes":'),
    "empty-stroke": ('{"strokes": [[]]}', "strokes must each be a non-empty list of [x, y] points"),
    "three-numbers": (
        '{"strokes": [[[0.1, 0.2, 0.3]]]}',
        "points must each be [x, y], two numbers",
    ),
    "text-point": ('{"strokes": [[["a", "b"]]]}', "points must each be [x, y], two numbers"),
    "boolean-point": ('{"strokes": [[[true, false]]]}', "points must each be [x, y], two numbers"),
    "nan": ('{"strokes": [[[NaN, 0.5], [0.5, 0.5]]]}', "a point that is not a finite number"),
    "infinity": ('{"strokes": [[[Infinity, 0.5]]]}', "a point that is not a finite number"),
    "too-many-strokes": (
        strokes.value_of([[(0.5, 0.5)]] * (strokes.MAX_STROKES + 1)),
        f"{strokes.MAX_STROKES + 1} strokes; at most {strokes.MAX_STROKES}",
    ),
    "too-many-points": (
        strokes.value_of([[(0.5, 0.5)] * (strokes.MAX_POINTS + 1)]),  # short enough to be read
        f"over {strokes.MAX_POINTS:,} points",
    ),
    "too-long": (
        '{"strokes": []' + " " * strokes.MAX_VALUE_CHARS + "}",
        f"over {strokes.MAX_VALUE_CHARS:,} characters",
    ),
    "deep-nesting": ("[" * 100_000 + "]" * 100_000, "the drawing is not JSON"),
}


def check_sketch(result, expected, name):
    if not isinstance(result, dict):
        result = result.as_json()
    if expected == "not sure":
        assert result["verdict"].startswith("not sure") or result["digit"] is None, (name, result)
        assert not result["sure"], name
    else:
        check(result, expected, name)


@pytest.mark.parametrize("name", SKETCHES)
def test_sketches_through_the_handler(predictor, name):
    lines, expected = SKETCHES[name]
    check_sketch(reading.read_sketch(predictor, strokes.value_of(lines)), expected, name)


@pytest.mark.parametrize("name", NOT_DRAWINGS)
def test_values_that_are_no_drawing_are_explained(predictor, name):
    value, why = NOT_DRAWINGS[name]
    outcome = reading.read_sketch(predictor, value)
    assert outcome.prediction is None and outcome.image is None and outcome.problem
    assert outcome.message.startswith("Can't read that drawing: ") and why in outcome.message
    assert outcome.message.endswith(".") and "\n" not in outcome.message, outcome.message


def test_pen_lifted_past_the_edge_is_clipped(predictor):
    inside = reading.read_sketch(predictor, strokes.value_of([[(0.5, 0.1), (0.5, 1.0)]]))
    beyond = reading.read_sketch(predictor, strokes.value_of([[(0.5, 0.1), (0.5, 1.7)]]))
    assert inside.message == beyond.message
    np.testing.assert_array_equal(inside.prediction.probabilities, beyond.prediction.probabilities)


# --- property tests over the reading core--------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=2048)
    | st.builds(lambda b: b"\x89PNG\r\n\x1a\n" + b, st.binary(max_size=512))
)
def test_any_bytes_uploaded_give_a_line_never_an_exception(predictor, tmp_path_factory, content):
    path = tmp_path_factory.mktemp("any") / "upload.png"
    path.write_bytes(content)
    outcome = reading.read_image(predictor, str(path))
    label, verdict, seen = outcome.prediction, outcome.message, outcome.image
    assert isinstance(verdict, str) and verdict and (label is None) == (seen is None)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=30,
)
POINTS = st.lists(
    st.lists(st.floats(-2, 3) | st.integers(-5, 5), min_size=2, max_size=2), min_size=1, max_size=30
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(
        st.text(max_size=200),
        JSON.map(json.dumps),
        st.lists(POINTS, max_size=6).map(lambda strokes: json.dumps({"strokes": strokes})),
        st.fixed_dictionaries({"strokes": st.lists(POINTS, max_size=4)}),
    )
)
def test_any_pad_value_gives_a_line_never_an_exception(predictor, value):
    outcome = reading.read_sketch(predictor, value)
    label, verdict, seen = outcome.prediction, outcome.message, outcome.image
    assert isinstance(verdict, str) and verdict and (label is None) == (seen is None)


# --- through the running server --------------------------------------------------------------


@pytest.mark.e2e
def test_bad_files_through_the_server(client, bad_files):
    from gradio_client import handle_file

    for name, (_, expected) in FILES.items():
        check(
            client.predict(handle_file(str(bad_files[name])), api_name="/predict_image"),
            expected,
            name,
        )
    assert client.predict(handle_file(str(CANVAS_7)), api_name="/predict_image")["digit"] == 7


@pytest.mark.e2e
def test_bad_sketches_through_the_server(client):
    from gradio_client import handle_file

    for name, (lines, expected) in SKETCHES.items():
        outputs = client.predict(strokes.value_of(lines), api_name="/predict_sketch")
        check_sketch(outputs, expected, name)
    for name, (value, why) in NOT_DRAWINGS.items():
        if len(value) > 2**20:
            continue  # over Gradio's request limits before it reaches the handler
        verdict = client.predict(value, api_name="/predict_sketch")["verdict"]
        assert verdict.startswith("Can't read that drawing: ") and why in verdict, (name, verdict)
    assert client.predict(handle_file(str(CANVAS_7)), api_name="/predict_image")["digit"] == 7
