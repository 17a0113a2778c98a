"""Any canvas, photo, array or file -> MNIST's 28x28 format.

MNIST digits were fitted into a 20x20 box (aspect ratio kept, anti-aliased), then placed in a
28x28 field so that their centre of mass is at the centre; white ink on black. ``to_mnist`` makes
the same thing out of whatever a person gives us, in two stages:

1. **Locate**, on a copy box-downsampled to a long side of about ``LOCATE_SIZE`` px: composite any
   transparency onto a contrasting backdrop, detect the polarity (dark ink on light paper, or a
   dark-mode canvas), estimate the background (flat for a canvas; a smooth local maximum for a
   photo, which removes lamp gradients and vignetting), threshold the contrast half-way to the
   ink's peak, label the connected components, drop specks and stray dots, and take the digit's
   bounding box.
2. **Render**, on the original pixels inside that box only: resample so that the digit's long
   side is ``WORK_SIZE`` px (4x MNIST's 20; finer for hairlines), threshold, bring a much too
   thick or too thin stroke to MNIST's width, then area-average the binary image down to the
   20 px box and centre it by mass. Binary at 4x and area-averaged is how MNIST got its grey
   edges (anti-aliased binary NIST scans).

Nothing runs over the full-resolution image except Pillow's C loops (convert, reduce, crop), so
an 800x800 canvas converts in a few milliseconds; JPEG photos are decoded at reduced scale with
``draft()``. Measured numbers: ``scripts/benchmark_conversion.py``.

The entry point is :func:`to_mnist` (returns a :class:`Conversion`); reading the input is
digitpad.images' job. ``to_mnist(source, keep_steps=True)`` also keeps the stages' intermediate
images, captioned (digitpad.steps): the way in, as a "Why this digit?" view shows it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops
from scipy import ndimage

from digitpad.images import MAX_PIXELS, ImageError, as_image, to_uint8
from digitpad.steps import Step, StepRecorder
from digitpad.strokes import Drawing

log = logging.getLogger(__name__)

IMAGE_SIZE = 28  # MNIST's field
BOX_SIZE = 20  # MNIST's digits fit a 20x20 box
WORK_SIZE = 4 * BOX_SIZE  # digit long side while thresholding and fixing the stroke width
LOCATE_SIZE = 160  # long side of the copy the digit is located on

MIN_CONTRAST = 0.12  # the ink's peak must be this much darker than its background (a fraction)
THRESHOLD_FLOOR = 0.06  # lowest contrast threshold ever used (paper texture, JPEG noise)
FLAT_FRACTION = 0.25  # a background with this share of pixels at one grey level is a canvas
BACKGROUND_WINDOW = 1 / 6  # closing window for a photo's background, of the long side
KEEP_FRACTION = 0.2  # a component with this share of the largest one's ink is kept anywhere
NEAR_FRACTION = 0.02  # a smaller one is kept only when it lies near the digit ...
NEAR_GAP = 0.25  # ... within this fraction of the digit's long side, and is not a dot:
SPECK_STROKES = 2.0  # round and at most this many stroke widths across
# Ink whose extent is under DOT_RATIO stroke widths is a dot, not a digit: a disk measures 1.5
# to 1.7; the blobbiest MNIST test digits (an 8 and a 6 written with a very fat pen) 2.2-2.4.
DOT_RATIO = 2.0
# A stroke thinner than MIN_WORK_STROKE working pixels is thresholded at up to MAX_FINE times the
# working resolution, so that it stays one connected line. Its width is estimated when locating
# as ink area / (INK_LENGTH * long side): MNIST's strokes are about 2.2 long sides long in all.
MIN_WORK_STROKE = 2.0
# Ink is where the contrast passes this fraction of the way from the paper to the ink's peak.
# 0.5 would be the exact edge of an anti-aliased stroke; lower keeps MNIST's soft fringes, which
# a round trip of MNIST's test digits reads best (docs/measurements.md, "Conversion constants").
INK_LEVEL = 0.35
MAX_FINE = 4
INK_LENGTH = 2.2
EIGHT_CONNECTED = np.ones((3, 3), bool)  # ndimage.label's structure: diagonal neighbours touch

# MNIST's stroke width relative to the digit's long side, measured with stroke_width() on its
# training digits upsampled 4x and thresholded at 0.5 as the render stage sees a digit
# (`python scripts/benchmark_conversion.py` prints the percentiles): the median, the 1st and the
# 99th percentile. Only strokes outside that range are changed: thinner than its 1st percentile
# are grown to the median, thicker than its 99th eroded half-way to it. The thick strokes inside
# the range are what the model learned from (the alternatives tried, and what they cost, are in
# docs/measurements.md, "Conversion constants").
MNIST_STROKE = 0.125
THIN_STROKE = 0.068
THICK_STROKE = 0.240

# Why there is no digit, as the user reads it.
EMPTY = "draw a digit"
FAINT = "no digit found: too little contrast"
DOT = "no digit found: only a dot"


@dataclass(frozen=True)
class Conversion:
    """The result of :func:`to_mnist`."""

    image: np.ndarray | None  # (28, 28) float32 in [0, 1], white ink on black; None: no digit
    reason: str | None  # None when image is set; else a short reason for the user
    steps: tuple[Step, ...] = ()  # with keep_steps: the stages' images, as far as they went


EMPTY_CONVERSION = Conversion(image=None, reason=EMPTY)


@dataclass(frozen=True)
class _Planes:
    """The input as 8-bit grey planes, at full resolution and reduced for locating."""

    luminance: Image.Image | None  # "L", premultiplied by alpha; None when colour says it all
    alpha: Image.Image | None  # "L"; None when opaque
    colour: float | None  # the one grey of every opaque pixel (a brush layer), in [0, 1]
    factor: int  # full-resolution pixels per reduced pixel
    small_luminance: Image.Image | None  # the same planes reduced by factor
    small_alpha: Image.Image | None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) at full resolution."""
        return (self.alpha if self.alpha is not None else self.luminance).size


@dataclass(frozen=True)
class _Located:
    """What the locate stage found."""

    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the digit, full resolution
    keep: np.ndarray  # (h, w) bool, reduced resolution: the kept components, dilated
    background: np.ndarray | float  # (h, w) float32 or one grey, after any flip
    backdrop: float  # grey that transparent pixels are composited onto, in [0, 1]
    flip: bool  # light ink on dark: invert after compositing
    stroke: float  # estimated stroke width, full-resolution px


def to_mnist(source: object, *, keep_steps: bool = False) -> Conversion:
    """Any image -> :class:`Conversion` with MNIST's (28, 28) float32 image, or why not.

    ``source``: anything :func:`digitpad.images.as_image` reads: a drawing from the pad
    (:class:`digitpad.strokes.Drawing`, drawn fitted to its own box with a pen in proportion to it:
    :func:`digitpad.strokes.render_fitted`), a PIL image in any mode, a numpy array ((H, W),
    (H, W, 1|2|3|4); bool, int or float in [0, 1] or [0, 255]), a file path, bytes or a binary
    file object. Files get their EXIF orientation applied; PIL images and arrays are taken as
    they are.

    With ``keep_steps``, the Conversion also holds the stages' own intermediate images, as far
    as they went (digitpad.steps); the image is the same either way.

    Raises :class:`ImageError` when ``source`` is not a readable image; never anything else.
    """
    try:
        image = _drawn(source) if isinstance(source, Drawing) else as_image(source)
        if image is None:
            return EMPTY_CONVERSION
        if not keep_steps:
            return _convert(image)
        recorder = StepRecorder()
        conversion = _convert(image, recorder)
        return Conversion(conversion.image, conversion.reason, tuple(recorder.steps))
    except ImageError:
        raise
    except MemoryError as error:
        raise ImageError("the image is too large to convert; send a smaller one") from error
    except Exception as error:  # a bug must not take the app down; say so and log it
        log.exception("conversion failed")
        raise ImageError("could not convert this image; try another one") from error


def _drawn(drawing: Drawing) -> Image.Image:
    """A drawing as the model should see it: fitted to its own box, with a pen in proportion to
    it (digitpad.strokes.render_fitted), so that a digit reads the same at any size. (What the page
    shows, and what is kept as the original, is its own pen: Drawing.render.)"""
    return Image.fromarray(drawing.render_fitted())


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width, in pixels, of a (H, W) bool image of strokes; 0 when empty."""
    if not mask.any():
        return 0.0
    return _width_from_distance(ndimage.distance_transform_edt(_pad(mask)), mask)


def _width_from_distance(distance: np.ndarray, mask: np.ndarray) -> float:
    """Across a band w pixels wide, the distances to the background run 1, 2, ..., 2, 1, whose
    mean is w/4 + 1/2: so w = 4 * mean - 2 (exact for bands, consistent for strokes).
    ``distance`` is the Euclidean distance transform of ``mask`` padded by one pixel."""
    return max(1.0, 4.0 * float(distance[1:-1, 1:-1][mask].mean()) - 2.0)


def _planes(image: Image.Image, locate_size: int = LOCATE_SIZE) -> _Planes | None:
    """Any PIL mode -> grey planes (reduced to a long side of about ``locate_size`` for locating);
    None when fully transparent."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = Image.fromarray(to_uint8(np.asarray(image)))
    elif mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("PA", "La", "RGBa"):
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        try:
            image = image.convert("RGB")  # CMYK, YCbCr, RGBX, HSV ...
        except (ValueError, OSError) as error:
            raise ImageError(f"cannot convert an image of mode {mode} to grey levels") from error
    factor = max(1, math.ceil(max(image.size) / locate_size))
    if image.mode in ("L", "RGB"):
        luminance = image.convert("L") if image.mode == "RGB" else image
        return _Planes(luminance, None, None, factor, luminance.reduce(factor), None)

    alpha = image.getchannel("A")
    small_alpha = alpha.reduce(factor)
    low, high = small_alpha.getextrema()
    if high == 0:
        return None
    if low >= 250:  # opaque
        luminance = image.convert("L")
        return _Planes(luminance, None, None, factor, luminance.reduce(factor), None)
    # A brush layer has one colour under all its opaque pixels: then alpha alone is the ink, and
    # the colour under transparent pixels (often black, whatever the brush) cannot leak in.
    # Checked on a nearest-neighbour sample, which costs next to nothing.
    sample = np.asarray(image.resize(small_alpha.size, Image.Resampling.NEAREST).convert("LA"))
    opaque = sample[..., 0][sample[..., 1] >= 230]  # (n,) uint8 grey levels
    if opaque.size and int(opaque.max()) - int(opaque.min()) <= 24:
        colour = _median_level(opaque) / 255
        return _Planes(None, alpha, colour, factor, None, small_alpha)
    luminance = image.convert("L") if image.mode == "RGBA" else image.getchannel("L")
    premultiplied = ImageChops.multiply(luminance, alpha)
    return _Planes(premultiplied, alpha, None, factor, premultiplied.reduce(factor), small_alpha)


def _median_level(levels: np.ndarray) -> float:
    """``np.median`` of uint8 values, exactly, from their counts (no sort: 9 vs 14 us)."""
    cumulative = np.cumsum(np.bincount(levels, minlength=256))
    middle = (levels.size - 1) / 2  # the mean of the values at these two ranks (one when odd)
    low = int(np.searchsorted(cumulative, math.floor(middle), side="right"))
    high = int(np.searchsorted(cumulative, math.ceil(middle), side="right"))
    return (low + high) / 2


def _grey(
    luminance: Image.Image | None, alpha: Image.Image | None, colour: float | None, backdrop: float
) -> np.ndarray:
    """Grey planes -> (H, W) float32 grey in [0, 1], transparency composited onto backdrop."""
    # uint8 * float32 scalar: converted and scaled in one pass (the same values as converting
    # to float32 first)
    if alpha is None:
        return np.asarray(luminance) * np.float32(1 / 255)
    coverage = np.asarray(alpha) * np.float32(1 / 255)
    if colour is not None:
        grey = coverage * np.float32(colour - backdrop)
        grey += np.float32(backdrop)
        return grey
    premultiplied = np.asarray(luminance) * np.float32(1 / 255)
    return premultiplied + (1.0 - coverage) * np.float32(backdrop)


# --- the conversion ---------------------------------------------------------------------------


def _convert(image: Image.Image, recorder: StepRecorder | None = None) -> Conversion:
    """``recorder``: None (the default path), or where the stages leave their images."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(f"{width}x{height} pixels: more than {MAX_PIXELS:,}; send a smaller image")
    if width == 0 or height == 0:
        return EMPTY_CONVERSION
    planes = _planes(image)
    if planes is None:
        return EMPTY_CONVERSION
    if recorder is not None:
        backdrop = _backdrop(planes)  # the same grey _measure composites onto
        recorder.seen(_grey(planes.small_luminance, planes.small_alpha, planes.colour, backdrop))
    located = _locate(planes, recorder)
    if isinstance(located, str):
        return Conversion(image=None, reason=located)
    return _render(planes, located, recorder)


def _backdrop(planes: _Planes) -> float:
    """Transparent pixels are background: composite them onto a grey that contrasts with the
    opaque ones (dark strokes onto white, light strokes onto black), so a transparent PNG works
    whatever colour its hidden pixels have."""
    if planes.alpha is None:
        return 1.0
    if planes.colour is not None:
        return 1.0 if planes.colour < 0.5 else 0.0
    coverage = np.asarray(planes.small_alpha, dtype=np.float32)
    premultiplied = np.asarray(planes.small_luminance, dtype=np.float32)
    opaque = coverage >= 128
    if not opaque.any():
        opaque = coverage > 0
    colour = float(np.median(premultiplied[opaque] / coverage[opaque]))
    return 1.0 if colour < 0.5 else 0.0


@dataclass(frozen=True)
class _Contrast:
    """The reduced copy measured: how much darker than the paper each pixel is, and where the
    ink begins."""

    contrast: np.ndarray  # (h, w) float32 in [0, 1], ink > 0, after any flip
    threshold: float  # ink is above this (grown by hysteresis down to half of it)
    peak: float  # the ink's strongest contrast
    background: np.ndarray | float  # (h, w) float32 or one grey, after any flip
    backdrop: float
    flip: bool


def _measure(planes: _Planes) -> _Contrast | str:
    """The reduced copy's contrast against its paper, and the ink's threshold; or why there is
    no ink (EMPTY, FAINT)."""
    backdrop = _backdrop(planes)
    grey = _grey(planes.small_luminance, planes.small_alpha, planes.colour, backdrop)  # (h, w)
    histogram = _histogram(grey)
    nonzero = np.flatnonzero(histogram)
    if nonzero[-1] - nonzero[0] <= 4:  # one grey: an empty or all-ink canvas
        return EMPTY
    flat = _flat_level(histogram)
    flip, background = _polarity_and_background(grey, flat)
    if flip:
        grey = 1.0 - grey
    contrast = _contrast(background, grey)  # (h, w), ink > 0
    if contrast.max() < MIN_CONTRAST:
        return FAINT
    threshold, peak = _half_peak(contrast)
    return _Contrast(contrast, max(threshold, THRESHOLD_FLOOR), peak, background, backdrop, flip)


@dataclass(frozen=True)
class InkMask:
    """Where the ink is in an image, found as :func:`to_mnist` finds it (before it picks the
    digit): on a copy reduced by ``factor``."""

    mask: np.ndarray  # (h, w) bool, reduced resolution: every pixel of ink (specks included)
    factor: int  # full-resolution pixels per reduced pixel
    size: tuple[int, int]  # (width, height) of the image, full resolution


def ink_mask(image: Image.Image, locate_size: int = LOCATE_SIZE) -> InkMask | str:
    """A PIL image -> :class:`InkMask` (the conversion's own polarity, background and threshold,
    on a copy with a long side of about ``locate_size``), or why there is no ink (a reason as
    :class:`Conversion` gives one). For splitting an image of several digits into one per digit
    (digitpad.numbers)."""
    planes = _planes(image, locate_size)
    if planes is None:
        return EMPTY
    measured = _measure(planes)
    if isinstance(measured, str):
        return measured
    contrast, threshold = measured.contrast, measured.threshold
    labels, count = ndimage.label(contrast > threshold / 2, structure=EIGHT_CONNECTED)
    inked = np.zeros(count + 1, bool)
    inked[labels[contrast > threshold]] = True  # hysteresis: components that reach the threshold
    inked[0] = False
    return InkMask(inked[labels], planes.factor, planes.size)


def _locate(planes: _Planes, recorder: StepRecorder | None = None) -> _Located | str:
    """Find the digit on the reduced copy: its box, the components kept, the background."""
    measured = _measure(planes)
    if isinstance(measured, str):
        return measured
    contrast, peak = measured.contrast, measured.peak
    background, backdrop, flip = measured.background, measured.backdrop, measured.flip
    kept = _keep_components(contrast, measured.threshold, peak)
    if kept is None:
        return FAINT

    keep, (top, bottom, left, right) = kept  # reduced px
    if recorder is not None:
        recorder.ink(keep)
    factor = planes.factor
    width, height = planes.size
    box = (left * factor, top * factor, min(right * factor, width), min(bottom * factor, height))
    ink_area = float(contrast[keep].sum()) / peak * factor**2  # full-resolution px
    stroke = ink_area / (INK_LENGTH * max(box[2] - box[0], box[3] - box[1]))
    keep = _grow(keep)  # a pixel of slack
    return _Located(
        box=box, keep=keep, background=background, backdrop=backdrop, flip=flip, stroke=stroke
    )


def _grow(mask: np.ndarray) -> np.ndarray:
    """Dilation by a 3x3 square, as two shifted ORs (a tenth of ndimage's time here)."""
    tall = mask.copy()
    tall[1:] |= mask[:-1]
    tall[:-1] |= mask[1:]
    grown = tall.copy()
    grown[:, 1:] |= tall[:, :-1]
    grown[:, :-1] |= tall[:, 1:]
    return grown


def _contrast(background: np.ndarray | float, grey: np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how much darker than its background each pixel of ``grey`` is,
    as a fraction of the background (a floor of 0.05 keeps a black background finite).

    Kept in float32: a canvas's background is one Python float, and dividing by
    ``np.maximum(background, 0.05)``, a float64 scalar, would turn the whole map into float64
    (twice the memory traffic, for precision far below the 1/255 the thresholds work at)."""
    if isinstance(background, np.ndarray):  # a photo's (H, W) float32 map
        floor = np.maximum(background, np.float32(0.05))
    else:
        background = np.float32(background)
        floor = max(background, np.float32(0.05))
    contrast = background - grey
    contrast /= floor
    return np.clip(contrast, 0, 1, out=contrast)


def _levels(grey: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> 0..255 uint8."""
    levels = grey * 255
    levels += 0.5  # in place: one temporary fewer
    return levels.astype(np.uint8)


def _flat_level(histogram: np.ndarray) -> float | None:
    """A canvas has one background grey, shared by a large share of its pixels: that grey, in
    [0, 1]; None for anything else (a photo)."""
    mode = int(np.argmax(histogram))
    if histogram[max(mode - 1, 0) : mode + 2].sum() >= FLAT_FRACTION * histogram.sum():
        return mode / 255
    return None


def _polarity_and_background(
    grey: np.ndarray, flat: float | None
) -> tuple[bool, np.ndarray | float]:
    """Is the ink light on a dark background? And the background's grey under the ink, after
    flipping to dark ink on light: one grey for a canvas, a (h, w) map for a photo.

    The ink is on whichever side of the background holds more contrast (pixels lighter vs
    darker than it, summed beyond a noise margin). On a canvas the background is its one grey.
    On a photo the lighting varies, so the reference is a local median on a coarse copy: ink is
    a minority everywhere, and the paper inside a 0 is still paper. Then a morphological closing
    (a local maximum, then a local minimum, over a window wider than a stroke) removes the ink
    and keeps the shading: smoothed, that is the background."""
    if flat is not None:
        difference = grey - flat  # (h, w) float32, > 0 where lighter than the background
        darker = float(np.clip(-0.05 - difference, 0, None).sum())
        lighter = float(np.clip(difference - 0.05, 0, None).sum())
        return lighter > darker, (1.0 - flat if lighter > darker else flat)
    coarse = Image.fromarray(grey).reduce(4)
    size = max(3, round(BACKGROUND_WINDOW * max(coarse.size)) | 1)
    local = ndimage.median_filter(np.asarray(coarse), size=size, mode="nearest")
    local = np.asarray(Image.fromarray(local).resize(grey.shape[::-1], Image.Resampling.BILINEAR))
    darker = float(np.clip(local - grey - 0.05, 0, None).sum())
    lighter = float(np.clip(grey - local - 0.05, 0, None).sum())
    flip = lighter > darker
    ink_dark = 1.0 - grey if flip else grey
    size = max(3, round(BACKGROUND_WINDOW * max(grey.shape)))
    closed = ndimage.grey_closing(ink_dark, size=size, mode="nearest")
    return flip, ndimage.uniform_filter(closed, size=max(3, size // 2), mode="nearest")


def _half_peak(contrast: np.ndarray) -> tuple[float, float]:
    """Half-way between the paper (the median contrast) and the ink (the mean of the strongest
    0.2% of pixels, at least 8): the edge of an anti-aliased stroke on a clean canvas, and above
    paper texture on a photo, where Otsu's threshold would split the texture instead."""
    counts = _histogram(contrast)
    strongest = min(contrast.size, max(8, contrast.size // 500))
    from_top = np.cumsum(counts[::-1])
    taken = np.clip(strongest - (from_top - counts[::-1]), 0, counts[::-1])  # per level, top down
    peak = float(taken @ np.arange(255, -1, -1)) / strongest / 255
    paper = _quantile(counts, 0.5)
    return paper + 0.5 * (peak - paper), peak


def _histogram(values: np.ndarray) -> np.ndarray:
    """Counts of values in [0, 1] at 256 levels: quantiles at a 1/255 precision, and an order of
    magnitude faster than sorting."""
    return np.bincount(_levels(values).ravel(), minlength=256)


def _quantile(counts: np.ndarray, q: float) -> float:
    cumulative = np.cumsum(counts)
    return float(np.searchsorted(cumulative, q * cumulative[-1])) / 255


def _keep_components(
    contrast: np.ndarray, threshold: float, peak: float
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The digit's pixels, (h, w) bool, and their bounding box (top, bottom, left, right; stops
    exclusive): 8-connected components of the thresholded contrast, grown by hysteresis (down to
    half the threshold) so a thin stroke is not cut into pieces.

    The largest component is the digit. Another is kept when it holds a good share of the
    digit's ink (a separate stroke: the bar of a 4, the top of a 5), or a smaller share but lies
    near the digit, unless it is a dot: round and no wider than a couple of strokes (a stray tap
    of the pen, a speck of dust)."""
    labels, count = ndimage.label(contrast > threshold / 2, structure=EIGHT_CONNECTED)
    if count == 0:
        return None
    # Each component's ink: its contrast summed over the pixels above the threshold (only those,
    # a tenth of the image: the same sums, in the same order, as over all pixels with zeros).
    above = contrast > threshold
    mass = np.bincount(labels[above], weights=contrast[above], minlength=count + 1)[1:]  # (count,)
    order = [int(i) for i in np.argsort(mass)[::-1] if mass[i] > 0]
    if not order:
        return None
    boxes = ndimage.find_objects(labels)
    largest = mass[order[0]]
    rows, cols = boxes[order[0]]
    top, bottom, left, right = rows.start, rows.stop, cols.start, cols.stop
    stroke = largest / peak / (INK_LENGTH * max(bottom - top, right - left))  # reduced px

    def is_dot(i: int) -> bool:
        rows, cols = boxes[i]
        long, short = sorted((rows.stop - rows.start, cols.stop - cols.start), reverse=True)
        return long <= max(2.0, SPECK_STROKES * stroke) and long <= 1.6 * short

    kept = {order[0]}
    changed = True
    while changed:  # a stroke kept may bring another one near
        changed = False
        for i in order[1:]:
            if i in kept or mass[i] < NEAR_FRACTION * largest:
                continue
            rows, cols = boxes[i]
            gap = max(top - rows.stop, rows.start - bottom, left - cols.stop, cols.start - right, 0)
            near = gap <= NEAR_GAP * max(bottom - top, right - left)
            if mass[i] >= KEEP_FRACTION * largest or (near and not is_dot(i)):
                kept.add(i)
                top, bottom = min(top, rows.start), max(bottom, rows.stop)
                left, right = min(left, cols.start), max(right, cols.stop)
                changed = True
    if len(kept) == count:  # all of them (a clean canvas): skip the lookup
        return labels > 0, (top, bottom, left, right)
    lookup = np.zeros(count + 1, bool)
    lookup[np.fromiter(kept, int) + 1] = True
    return lookup[labels], (top, bottom, left, right)  # the box: the kept boxes' union


def _working_box(planes: _Planes, located: _Located) -> tuple[tuple, tuple, int, int]:
    """Where to crop the original pixels (the digit's box with a margin), the size to resample
    that crop to, the fine factor (threshold at up to MAX_FINE x the working resolution, for
    thin strokes) and the resampling filter."""
    left, top, right, bottom = located.box
    width, height = planes.size
    long_side = max(right - left, bottom - top)
    work_stroke = located.stroke * WORK_SIZE / long_side
    fine = min(MAX_FINE, max(1, math.ceil(MIN_WORK_STROKE / max(work_stroke, 1e-3))))
    scale = fine * WORK_SIZE / long_side
    margin = math.ceil(0.15 * long_side) + planes.factor
    crop = (
        max(left - margin, 0),
        max(top - margin, 0),
        min(right + margin, width),
        min(bottom + margin, height),
    )
    size = (max(1, round((crop[2] - crop[0]) * scale)), max(1, round((crop[3] - crop[1]) * scale)))
    filter_ = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return crop, size, fine, filter_


def _render(planes: _Planes, located: _Located, recorder: StepRecorder | None = None) -> Conversion:
    """Crop the original pixels to the digit, threshold at 4x MNIST's scale (finer for thin
    strokes), fix the stroke width, area-average into the 20 px box, centre by mass in 28x28."""
    crop, size, fine, filter_ = _working_box(planes, located)

    def resample(plane: Image.Image | None) -> Image.Image | None:
        return None if plane is None else plane.resize(size, filter_, box=crop, reducing_gap=3.0)

    alpha = resample(planes.alpha)
    grey = _grey(resample(planes.luminance), alpha, planes.colour, located.backdrop)
    if located.flip:
        grey = 1.0 - grey  # (H, W) at working resolution
    background = located.background
    if isinstance(background, np.ndarray):
        background = _resize_map(background, planes.factor, crop, size, Image.Resampling.BILINEAR)
    contrast = _contrast(background, grey)

    keep = located.keep.view(np.uint8)
    near = _resize_map(keep, planes.factor, crop, size, Image.Resampling.NEAREST) > 0
    # INK_LEVEL of the way from the paper to the ink's peak: about the edge of an anti-aliased
    # stroke, and for strokes thinner than a working pixel, still their path. The paper's
    # histogram is all pixels' minus the ink's (exact counts; one boolean gather fewer).
    levels = _levels(contrast)
    ink_counts = np.bincount(levels[near], minlength=256)
    paper_counts = np.bincount(levels.ravel(), minlength=256) - ink_counts
    paper = _quantile(paper_counts, 0.5) if paper_counts.any() else 0.0
    peak = _quantile(ink_counts, 0.98) if ink_counts.any() else 0.0
    threshold = max(paper + INK_LEVEL * (peak - paper), THRESHOLD_FLOOR)
    ink = _components_touching(contrast > threshold, near)  # not the specks dropped when locating
    if ink is None:
        return Conversion(image=None, reason=FAINT)
    if fine > 1:  # back to the working resolution, keeping every pixel a thin line touches
        ink = np.asarray(Image.fromarray(ink.view(np.uint8) * 255).reduce(fine)) > 0
    ink = _crop_to_ink(ink)
    if recorder is not None:
        recorder.cropped(ink)
    distance = ndimage.distance_transform_edt(_pad(ink))  # to the background, padded
    width_px = _width_from_distance(distance, ink)
    if max(ink.shape) < DOT_RATIO * width_px:
        return Conversion(image=None, reason=DOT)
    normalised = _normalise_stroke(ink, distance, width_px)
    box = _fit(normalised)
    image = _centre(box)
    if recorder is not None:
        recorder.boxed(box, _stroke_change(ink, normalised, width_px))
        recorder.centred(image)
    return Conversion(image=image, reason=None)


def _stroke_change(ink: np.ndarray, normalised: np.ndarray, width_px: float) -> int:
    """What :func:`_normalise_stroke` did: 0 nothing, +1 grew a thin stroke, -1 eroded one."""
    if normalised is ink:
        return 0
    return 1 if width_px / max(ink.shape) < THIN_STROKE else -1


def _resize_map(values: np.ndarray, factor: int, crop: tuple, size: tuple, filter_) -> np.ndarray:
    """A reduced-resolution map (float32 or uint8), cut to ``crop`` (a full-resolution box) and
    resized to ``size``."""
    image = Image.fromarray(values.astype(np.float32) if values.dtype != np.uint8 else values)
    return np.asarray(image.resize(size, filter_, box=tuple(c / factor for c in crop)))


def _pad(mask: np.ndarray) -> np.ndarray:
    """``np.pad(mask, 1)`` for a 2-D array, without its generic machinery (a tenth of its time):
    (H, W) -> (H + 2, W + 2) with a border of zeros."""
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), mask.dtype)
    padded[1:-1, 1:-1] = mask
    return padded


def _components_touching(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray | None:
    """The 8-connected components of ``mask`` that overlap ``seeds``; None if there are none."""
    labels, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
    touched = np.zeros(count + 1, bool)
    touched[labels[seeds & mask]] = True  # repeated labels just set True again: no np.unique
    touched[0] = False
    if count and touched[1:].all():  # every component (the usual case): the mask itself
        return mask
    return touched[labels] if touched.any() else None


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(ink.any(axis=1))  # two reductions: a third of np.nonzero's time
    cols = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _normalise_stroke(ink: np.ndarray, distance: np.ndarray, width_px: float) -> np.ndarray:
    """Bring a much too thin or too thick stroke towards MNIST's width, relative to the digit.

    Too thin: grow the strokes to MNIST's median width. Too thick: erode half-way towards it,
    and only where the stroke is thick: ink the erosion would delete entirely (a thin tail, a
    thin bar) stays as it was drawn. ``distance``: the distance transform of ``ink`` padded by
    one pixel."""
    long_side = max(ink.shape)
    ratio = width_px / long_side
    target = MNIST_STROKE * long_side
    if ratio < THIN_STROKE:
        grow = (target - width_px) / 2
        padded = np.pad(ink, math.ceil(grow) + 1)
        return _crop_to_ink(ndimage.distance_transform_edt(~padded) <= grow)
    if ratio > THICK_STROKE:
        erode = (width_px - target) / 4  # each side loses a quarter of the excess
        core = distance > erode
        thick_parts = ndimage.distance_transform_edt(~core) <= erode  # the core, grown back
        return _crop_to_ink(core | (_pad(ink) & ~thick_parts))
    return ink


def _fit(ink: np.ndarray) -> np.ndarray:
    """Binary ink -> area-averaged into the 20 px box, aspect kept: (h, w) float32 in [0, 1]."""
    height, width = ink.shape
    scale = BOX_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(ink.view(np.uint8) * 255)  # bool -> 0/255 in one pass
    return np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float32) / 255


def _centre(box: np.ndarray) -> np.ndarray:
    """The 20 px box placed in 28x28 by its centre of mass: (28, 28) float32."""
    total = box.sum()
    rows = np.arange(box.shape[0], dtype=np.float32)
    cols = np.arange(box.shape[1], dtype=np.float32)
    centre_row = float(box.sum(axis=1) @ rows / total)
    centre_col = float(box.sum(axis=0) @ cols / total)
    # MNIST's centres of mass lie in [13.5, 14.5] (index coordinates): integer shift to 14.
    top = math.floor(IMAGE_SIZE / 2 - centre_row + 0.5)
    left = math.floor(IMAGE_SIZE / 2 - centre_col + 0.5)
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    src_top, src_left = max(0, -top), max(0, -left)
    dst_top, dst_left = max(0, top), max(0, left)
    h = min(box.shape[0] - src_top, IMAGE_SIZE - dst_top)
    w = min(box.shape[1] - src_left, IMAGE_SIZE - dst_left)
    if h > 0 and w > 0:
        out[dst_top : dst_top + h, dst_left : dst_left + w] = box[
            src_top : src_top + h, src_left : src_left + w
        ]
    return out
