"""Every bad input of issue 6, through the handlers and through the running server's API.

tests/test_preprocessing.py covers the conversion of each PIL mode and array form and its
ImageError messages; tests/test_app.py the handlers on random canvases and unreadable uploads.
Here the same kinds of input arrive as files and sketchpad values the way users send them, at the
handler and at a real server, and each must get a clear line (a verdict, "not sure", the
no-digit reason, or "Can't read that image: ..."), with the server still serving afterwards.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR, app

needs_model = pytest.mark.skipif(not DEFAULT_MODEL_PATH.is_file(),
                                 reason=f"no shipped model at {DEFAULT_MODEL_PATH}")
CANVAS_7 = REPO_DIR / "assets" / "examples" / "canvas_7.png"
VERDICT = re.compile(r"^(\d, \d+% sure|not sure: \d or \d\?)$")
CANT_READ = "Can't read that image: "


def png(width: int, height: int, rows: bytes | None = None, bit_depth: int = 1) -> bytes:
    """A valid greyscale PNG of width x height, all black unless ``rows`` is given; tiny on disk
    however large it decodes (a decompression bomb when large)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" + b"\0" * ((width * bit_depth + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


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
    return encoded(first, "GIF", save_all=True, append_images=[Image.new("P", first.size, 255)],
                   duration=100, loop=0)


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


def check(outputs, expected, name: str) -> None:
    label, verdict, seen = outputs
    assert isinstance(verdict, str) and verdict, name
    if expected == "unreadable":
        assert verdict.startswith(CANT_READ) and seen is None, (name, verdict)
        assert not label or not label.get("confidences"), name  # the client gives {} for None
        assert "/tmp" not in verdict and "Traceback" not in verdict
    elif expected == "no digit":
        assert not label or not label.get("confidences"), (name, verdict)
        assert not verdict.startswith(CANT_READ) and not VERDICT.match(verdict), (name, verdict)
    else:
        assert VERDICT.match(verdict), (name, verdict)
        top = label["label"] if "label" in label else max(label, key=label.get)
        assert int(top) == expected, (name, verdict)


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
    check(app.predict_image(predictor, str(bad_files[name])), FILES[name][1], name)


def test_the_bomb_is_small_on_disk():
    assert len(FILES["20000x20000"][0]) < 200_000 and len(FILES["bomb"][0]) < 2_000_000


# --- sketchpad values ---------------------------------------------------------------------------


def sketch(alpha: np.ndarray) -> dict:
    layer = np.zeros((*alpha.shape, 4), np.uint8)
    layer[..., 3] = alpha
    composite = np.full((*alpha.shape, 4), 255, np.uint8)
    composite[..., :3] = 255 - alpha[..., None]
    return {"background": None, "layers": [layer], "composite": composite}


def scribble() -> np.ndarray:
    rng = np.random.default_rng(6)
    alpha = np.zeros((196, 196), np.uint8)
    for _ in range(14):  # random long strokes all over: no digit's shape
        (x0, y0), (x1, y1) = rng.integers(10, 186, size=(2, 2))
        for t in np.linspace(0, 1, 200):
            x, y = int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0))
            alpha[max(0, y - 5):y + 5, max(0, x - 5):x + 5] = 255
    return alpha


def dot() -> np.ndarray:
    alpha = np.zeros((196, 196), np.uint8)
    alpha[96:101, 96:101] = 255
    return alpha


SKETCHES = {
    "empty-canvas": (np.zeros((196, 196), np.uint8), "no digit"),
    "all-ink": (np.full((196, 196), 255, np.uint8), "no digit"),
    "dot": (dot(), "no digit"),
    "scribble": (scribble(), "not sure"),
}


def check_sketch(outputs, expected, name):
    label, verdict, seen = outputs
    assert isinstance(verdict, str) and verdict, name
    if expected == "not sure":
        assert verdict.startswith("not sure") or not label or not label.get("confidences", label), (
            name, verdict)
    else:
        check(outputs, expected, name)


SCRIBBLE_XFAIL = pytest.mark.xfail(
    reason="issue 6 finding: the shipped model reads this random scribble as '4, 100% sure'; "
           "the 'sure' rule cannot catch an out-of-distribution input the model is confident on",
    strict=False)


@pytest.mark.parametrize("name", [pytest.param(n, marks=SCRIBBLE_XFAIL) if n == "scribble" else n
                                  for n in SKETCHES])
def test_sketches_through_the_handler(predictor, name):
    alpha, expected = SKETCHES[name]
    check_sketch(app.predict_sketch(predictor, sketch(alpha)), expected, name)


# --- property tests over the handlers ---------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=2048) | st.builds(lambda b: b"\x89PNG\r\n\x1a\n" + b, st.binary(max_size=512)))
def test_any_bytes_uploaded_give_a_line_never_an_exception(predictor, tmp_path_factory, content):
    path = tmp_path_factory.mktemp("any") / "upload.png"
    path.write_bytes(content)
    label, verdict, seen = app.predict_image(predictor, str(path))
    assert isinstance(verdict, str) and verdict and (label is None) == (seen is None)


LAYER_VALUES = st.one_of(
    st.none(),
    arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3, 4]))),
    arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 20)),
           elements=st.floats(width=32)),  # NaN and inf too
    st.text(max_size=20), st.integers(), st.lists(st.integers(), max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.fixed_dictionaries(
    {}, optional={"background": LAYER_VALUES, "layers": st.lists(LAYER_VALUES, max_size=3),
                  "composite": LAYER_VALUES}))
def test_any_sketchpad_value_gives_a_line_never_an_exception(predictor, value):
    label, verdict, seen = app.predict_sketch(predictor, value)
    assert isinstance(verdict, str) and verdict and (label is None) == (seen is None)


# --- through the running server --------------------------------------------------------------


@pytest.fixture(scope="module")
def client(predictor):
    import socket

    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = app.build_app(predictor)
    url = app.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True)
    yield Client(url, verbose=False)
    demo.close()


@needs_model
def test_bad_files_through_the_server(client, bad_files):
    from gradio_client import handle_file

    for name, (_, expected) in FILES.items():
        check(client.predict(handle_file(str(bad_files[name])), api_name="/predict_image"),
              expected, name)
    label, _, _ = client.predict(handle_file(str(CANVAS_7)), api_name="/predict_image")
    assert label["label"] == "7"  # still serving


@needs_model
def test_bad_sketches_through_the_server(client, tmp_path):
    from gradio_client import handle_file

    for name, (alpha, expected) in SKETCHES.items():
        layer, composite = tmp_path / f"{name}-layer.png", tmp_path / f"{name}-composite.png"
        value = sketch(alpha)
        Image.fromarray(value["layers"][0], "RGBA").save(layer)
        Image.fromarray(value["composite"], "RGBA").save(composite)
        outputs = client.predict({"background": None, "layers": [handle_file(str(layer))],
                                  "composite": handle_file(str(composite))},
                                 api_name="/predict_sketch")
        if name == "scribble":  # a clear line, whatever it says (see SCRIBBLE_XFAIL)
            assert isinstance(outputs[1], str) and outputs[1]
        else:
            check_sketch(outputs, expected, name)
    label, _, _ = client.predict(handle_file(str(CANVAS_7)), api_name="/predict_image")
    assert label["label"] == "7"
