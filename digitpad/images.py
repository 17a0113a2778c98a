"""One way in for every input: files, bytes, file objects, arrays, PIL images and drawings.

:func:`as_image` turns anything a person or a script gives the app into a PIL image (or None when
there is nothing), and :func:`load_image` reads an image file safely: the size is checked from
the header before decoding (decompression bombs), the first frame of an animation is taken, the
EXIF orientation applied, and large JPEGs are decoded at a reduced scale. Everything unreadable
raises :class:`ImageError` with a message that says what to send instead.

The conversion (digitpad.conversion), the collection (digitpad.collection) and through them the
app, the command line, the trainer's data and the tests all read images here. A drawing from the
pad (:class:`digitpad.strokes.Drawing`) comes in through the same door: it is rendered with the pad's
pen and read like any other picture.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from digitpad.strokes import Drawing

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # the most pixels ever decoded; larger images are refused from the header
# A JPEG is decoded at a reduced scale (1/2, 1/4 or 1/8) where it may be, so a phone's photo of up
# to 200 megapixels is read at a few megapixels; one that would still decode to more than
# MAX_PIXELS is refused from its header all the same (a decompression bomb).
MAX_JPEG_PIXELS = 8 * 8 * MAX_PIXELS
JPEG_DRAFT_SIZE = 1000  # JPEGs are decoded at the smallest 1/2^n scale with a long side >= this
# Pillow's own bomb check stops at twice its limit, before ours can look at a JPEG's scale: ours
# decide (MAX_PIXELS, MAX_JPEG_PIXELS), so Pillow's limit is raised to let them.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_JPEG_PIXELS // 2)
# Image files kept byte for byte when saved, by the format PIL reads in them: their suffix.
KEPT_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}


class ImageError(ValueError):
    """Not a readable image: the message says what is wrong and what to give instead."""


def load_image(source: object, *, draft_size: int | None = None) -> Image.Image:
    """A file path, bytes or binary file object -> a loaded PIL image.

    The first frame of an animation, EXIF orientation applied. With ``draft_size``, a JPEG larger
    than that is decoded in grey at the smallest 1/2, 1/4 or 1/8 scale whose long side is still
    at least ``draft_size`` (several times faster, and how a phone's 48-200 megapixel photo is
    read). What would still decode to more than MAX_PIXELS is refused from its header, before
    decoding (:func:`reduce_to`). Raises :class:`ImageError` with a message that says what to do.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        fp, prefix = io.BytesIO(source), ""
        if len(source) == 0:
            raise ImageError("the file is empty; send a PNG or JPEG image")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        fp, prefix = path, f"{path}: "
        if not path.is_file():
            raise ImageError(f"{prefix}no such file")
        if path.stat().st_size == 0:
            raise ImageError(f"{prefix}the file is empty; send a PNG or JPEG image")
    elif hasattr(source, "read"):
        name = getattr(source, "name", None)
        fp, prefix = source, f"{name}: " if isinstance(name, str) else ""
    else:
        raise ImageError(f"cannot read a {type(source).__name__} as an image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(fp) as image:  # reads the header only
                reduce_to(image, draft_size, prefix)
                image.load()
                try:
                    return ImageOps.exif_transpose(image)  # a copy, upright: the file can close
                except Exception as error:  # a malformed EXIF block: keep the pixels as stored
                    log.warning("%signoring an unreadable EXIF orientation: %s", prefix, error)
                    return image.copy()
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageError(
            f"{prefix}more than {MAX_PIXELS:,} pixels; send a smaller image"
        ) from error
    except Exception as error:  # Pillow's decoders raise many kinds for malformed data
        log.info("%snot a readable image: %r", prefix, error)
        raise ImageError(f"{prefix}not a readable image; send a PNG or JPEG file") from error


def reduce_to(image: Image.Image, draft_size: int | None, prefix: str = "") -> None:
    """Before decoding: have a JPEG decoded at the smallest scale whose long side is still at
    least ``draft_size``; refuse (ImageError) an image that would decode to more than
    MAX_PIXELS, or a JPEG of more than MAX_JPEG_PIXELS."""
    width, height = image.size
    reducible = bool(draft_size) and image.format == "JPEG"
    limit = MAX_JPEG_PIXELS if reducible else MAX_PIXELS
    if width * height <= limit and reducible and max(width, height) > draft_size:
        scale = draft_size / max(width, height)
        image.draft(
            "L" if image.mode in ("L", "RGB") else None,
            (math.ceil(width * scale), math.ceil(height * scale)),
        )
    decoded = image.size[0] * image.size[1]
    if width * height > limit or decoded > MAX_PIXELS:
        raise ImageError(
            f"{prefix}{width}x{height}: more than {limit:,} pixels; send a smaller image"
        )


def as_image(source: object) -> Image.Image | None:
    """Any accepted form -> a PIL image, or None when there is nothing (None, an empty array)."""
    if source is None:
        return None
    if isinstance(source, Drawing):
        return Image.fromarray(source.render())
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return array_to_image(source)
    if isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        return load_image(source, draft_size=JPEG_DRAFT_SIZE)
    if hasattr(source, "read"):  # a binary file object
        return load_image(source, draft_size=JPEG_DRAFT_SIZE)
    if isinstance(source, (list, tuple)):
        try:
            array = np.asarray(source)
        except (ValueError, TypeError) as error:
            raise ImageError(f"cannot read this {type(source).__name__} as an image") from error
        return array_to_image(array)
    raise ImageError(
        f"cannot read a {type(source).__name__} as an image; give a file path, bytes, "
        f"a PIL image, a numpy array or a drawing"
    )


ARRAY_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def array_to_image(array: np.ndarray) -> Image.Image | None:
    """(H, W) or (H, W, C) with C in 1..4, any real dtype, [0, 1] or [0, 255] or wider."""
    if array.dtype.kind not in "biuf":
        raise ImageError(f"cannot read an array of {array.dtype} as an image; use numbers")
    if array.size == 0:
        return None
    while array.ndim > 2 and array.shape[0] == 1:  # (1, H, W[, C]) batch of one
        array = array[0]
    if array.ndim == 3 and array.shape[-1] not in ARRAY_MODES and array.shape[0] in ARRAY_MODES:
        array = np.moveaxis(array, 0, -1)  # channels first
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in ARRAY_MODES):
        raise ImageError(
            f"cannot read an array of shape {array.shape} as an image; "
            f"give (H, W) or (H, W, C) with 1 to 4 channels"
        )
    height, width = array.shape[:2]
    if height * width > MAX_PIXELS:
        raise ImageError(f"{width}x{height} pixels: more than {MAX_PIXELS:,}; send a smaller image")
    return Image.fromarray(np.ascontiguousarray(to_uint8(array)))  # L, LA, RGB or RGBA


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Scale to 0..255: bool, [0, 1] floats, [0, 255], 16-bit, else min-max."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    values = array.astype(np.float64) if array.dtype.kind == "f" else array
    if values.dtype.kind == "f":
        values = np.where(np.isfinite(values), values, 0.0)
    low, high = float(values.min()), float(values.max())
    if low >= 0 and high <= 1 and array.dtype.kind == "f":
        scaled = values * 255.0
    elif low >= 0 and high <= 255:
        scaled = values
    elif low >= 0 and high <= 65535:
        scaled = values / 257.0
    elif high > low:
        scaled = (values.astype(np.float64) - low) * (255.0 / (high - low))
    else:
        scaled = np.zeros(values.shape)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


# --- writing what was read ------------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    """A PIL image as PNG bytes (modes PNG cannot hold are converted to RGB or RGBA)."""
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):  # e.g. F, CMYK
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def original_bytes(source: object) -> tuple[bytes, str]:
    """What to keep as the original of ``source``: (file contents, suffix).

    A file or bytes in a web format (PNG, JPEG, WebP, GIF) is kept as it is, so a phone photo
    keeps its quality and EXIF; anything else (an array, a drawing, a TIFF) is stored as PNG.
    Raises :class:`ImageError` when ``source`` is not a readable image.
    """
    data = None
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            data = Path(source).read_bytes()
        except OSError as error:
            raise ImageError(f"cannot read the image ({error.strerror})") from error
    if data is not None:
        image = load_image(data, draft_size=JPEG_DRAFT_SIZE)  # ImageError unless it all decodes
        kept = KEPT_FORMATS.get(_format_of(data))
        return (data, kept) if kept else (png_bytes(image), ".png")
    image = as_image(source)
    if image is None:
        raise ImageError("there is no image to keep (it is empty)")
    return png_bytes(image), ".png"


def _format_of(data: bytes) -> str | None:
    """The format PIL reads in ``data`` (from its header only)."""
    with Image.open(io.BytesIO(data)) as image:
        return image.format


def to_pixels(image: np.ndarray) -> np.ndarray:
    """(28, 28) float in [0, 1] -> (28, 28) uint8, white ink on black as MNIST and the model see
    it."""
    return np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def png_data_url(pixels: np.ndarray) -> str:
    """A small uint8 image as a PNG ``data:`` URL (a few hundred bytes for 28x28)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
