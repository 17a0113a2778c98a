"""digitpad.images: every way an image comes in (files, bytes, file objects, arrays, PIL images,
drawings) reads to the same pixels; unreadable input gets an ImageError that says why; originals
are kept as they came."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import strokes
from digitpad.images import (
    MAX_PIXELS,
    ImageError,
    array_to_image,
    as_image,
    load_image,
    original_bytes,
    to_uint8,
)


@pytest.fixture(scope="module")
def grey() -> np.ndarray:
    """A (300, 200) grey image with structure in it (a gradient and a bar)."""
    image = np.tile(np.linspace(0, 255, 200, dtype=np.uint8), (300, 1))
    image[100:120, 20:180] = 0
    return image


def pixels(source) -> np.ndarray:
    return np.asarray(as_image(source).convert("L"))


def test_paths_bytes_and_file_objects_read_the_same_pixels(grey, tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(grey).save(path)
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        np.testing.assert_array_equal(pixels(source), grey)


def test_pil_images_and_arrays_are_taken_as_they_are(grey):
    np.testing.assert_array_equal(pixels(Image.fromarray(grey)), grey)
    np.testing.assert_array_equal(pixels(grey), grey)
    np.testing.assert_array_equal(pixels(grey.tolist()), grey)  # nested lists too


@pytest.mark.parametrize(
    "make, mode",
    [
        (lambda g: g, "L"),
        (lambda g: g[..., None], "L"),
        (lambda g: g[None], "L"),  # a batch of one
        (lambda g: np.stack([g] * 3, axis=2), "RGB"),
        (lambda g: np.stack([g] * 3, axis=0), "RGB"),  # channels first
        (lambda g: np.dstack([g, g, g, np.full_like(g, 255)]), "RGBA"),
        (lambda g: np.dstack([g, np.full_like(g, 255)]), "LA"),
    ],
)
def test_array_shapes(grey, make, mode):
    image = array_to_image(make(grey))
    assert image.mode == mode and image.size == (200, 300)
    np.testing.assert_array_equal(np.asarray(image.convert("L")), grey)


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.array([0.0, 0.5, 1.0]), [0, 128, 255]),  # floats in [0, 1]
        (np.array([0.0, 127.6, 255.0]), [0, 128, 255]),  # floats in [0, 255]
        (np.array([0, 32768, 65535], np.uint16), [0, 128, 255]),  # 16 bits
        (np.array([-10, 0, 10]), [0, 128, 255]),  # anything else: min to max
        (np.array([False, True]), [0, 255]),
        (np.array([np.nan, 0.0, 1.0]), [0, 0, 255]),  # not finite: 0
        (np.array([3.0, 3.0]), [3, 3]),
    ],
)
def test_to_uint8(values, expected):
    assert to_uint8(values).tolist() == expected


def test_nothing_is_none():
    assert as_image(None) is None
    assert as_image(np.zeros((0, 5))) is None


def test_a_drawing_is_rendered_with_the_pad_pen():
    drawing = strokes.read_drawing(strokes.value_of([[(0.2, 0.5), (0.8, 0.5)]]))
    np.testing.assert_array_equal(pixels(drawing), drawing.render())


def test_exif_orientation_is_applied(grey, tmp_path):
    stored = Image.fromarray(grey).transpose(Image.Transpose.ROTATE_90)  # (200, 300) as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # viewers rotate 90 degrees clockwise
    path = tmp_path / "photo.jpg"
    stored.convert("RGB").save(path, quality=95, exif=exif)
    upright = load_image(path)
    assert upright.size == (200, 300)
    assert np.abs(np.asarray(upright.convert("L"), np.float32) - grey).mean() < 3
    assert Image.open(path).size == (300, 200), "an unopened PIL image is taken as stored"


def test_an_animation_gives_its_first_frame(grey, tmp_path):
    path = tmp_path / "animated.gif"
    Image.fromarray(grey).save(
        path, save_all=True, append_images=[Image.new("L", (200, 300), 255)], duration=100
    )
    assert np.abs(pixels(path).astype(np.int16) - grey).mean() < 3


def test_a_large_jpeg_is_decoded_at_reduced_scale(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (3000, 2000), (200, 200, 200)).save(path, quality=90)
    assert load_image(path).size == (3000, 2000)
    reduced = load_image(path, draft_size=1000)
    assert reduced.size == (1500, 1000) and reduced.mode == "L"
    assert max(as_image(path).size) < 3000, "the conversion's way in decodes it reduced"


def test_a_phone_photo_is_read_at_a_reduced_scale():
    """8000x6000 (48 megapixels, more than MAX_PIXELS) is a phone's photo: decoded at 1/8."""
    buffer = io.BytesIO()
    Image.new("RGB", (8000, 6000), (230, 225, 210)).save(buffer, "JPEG", quality=60)
    image = as_image(buffer.getvalue())
    assert image.size == (1000, 750)
    with pytest.raises(ImageError, match="more than 40,000,000 pixels"):
        load_image(buffer.getvalue())  # without reducing, it is refused as too large


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose header claims width x height pixels."""
    buffer = io.BytesIO()
    Image.new("L", (16, 16)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")  # start of frame: length (2), precision (1), height, width
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_a_jpeg_too_large_even_reduced_is_refused_from_its_header():
    with pytest.raises(ImageError, match="more than [0-9,]+ pixels; send a smaller image"):
        as_image(jpeg_claiming(65000, 65000))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with no pixel data worth decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize(
    "source, message",
    [
        (b"", "empty"),
        (b"this is not an image", "not a readable image"),
        (png_header(10_000, 10_000), "more than"),
        (png_header(200, 200), "not a readable image"),  # truncated pixel data
        (Path("/nonexistent/digit.png"), "no such file"),
        (42, "cannot read"),
        ({"composite": None}, "cannot read a dict"),
        (np.array(["a", "b"]), "cannot read"),
        (np.zeros((2, 3, 4, 5)), "shape"),
        (np.zeros((10, 10, 7)), "shape"),
    ],
    ids=[
        "empty",
        "text",
        "bomb",
        "truncated",
        "missing",
        "int",
        "dict",
        "strings",
        "4d",
        "7-channels",
    ],
)
def test_unreadable_input_raises_image_error(source, message):
    with pytest.raises(ImageError, match=message):
        as_image(source)


def test_an_empty_file_says_so(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(ImageError, match=f"{path}: the file is empty"):
        as_image(path)


def test_a_huge_array_is_refused_before_it_is_copied():
    huge = np.broadcast_to(np.uint8(255), (MAX_PIXELS // 1000 + 1, 1000))  # no memory used
    with pytest.raises(ImageError, match="more than"):
        as_image(huge)


# --- the original, as it is kept ----------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp"), ("GIF", ".gif")]
)
def test_web_files_are_kept_byte_for_byte(grey, tmp_path, fmt, suffix):
    path = tmp_path / f"given{suffix}"
    Image.fromarray(grey).save(path, format=fmt)
    for source in (path, path.read_bytes()):
        assert original_bytes(source) == (path.read_bytes(), suffix)


@pytest.mark.parametrize("kind", ["bmp", "tiff", "pil", "array", "drawing"])
def test_everything_else_is_kept_as_png(grey, tmp_path, kind):
    if kind in ("bmp", "tiff"):
        source = tmp_path / f"given.{kind}"
        Image.fromarray(grey).save(source)
    else:
        source = {
            "pil": Image.fromarray(grey),
            "array": grey,
            "drawing": strokes.read_drawing(strokes.value_of([[(0.5, 0.2), (0.5, 0.8)]])),
        }[kind]
    data, suffix = original_bytes(source)
    assert suffix == ".png" and data[:8] == b"\x89PNG\r\n\x1a\n"
    expected = source.render() if kind == "drawing" else grey
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("L")), expected)


@pytest.mark.parametrize(
    "source", [b"not an image", b"\x89PNG\r\n\x1a\n broken", None, np.zeros((5, 5, 7))]
)
def test_an_unreadable_original_is_refused(source):
    with pytest.raises(ImageError):
        original_bytes(source)
