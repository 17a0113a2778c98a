"""Numbers: a drawing or a photo of several digits, split into one piece per digit, and read.

The model reads one digit per image. A number is split into its digits, left to right, in
three steps shared by drawings and photos:

1. **Atoms**: the marks that surely belong together. On the pad these are strokes, on paper
   the ink's connected components (digitpad.conversion.ink_mask, the conversion's own ink
   finding); marks whose horizontal extents overlap substantially are one atom (a 4 in two
   strokes, a crossed 7, a slashed zero, a 5's bar). An atom much wider than a digit may be
   touching digits written without lifting the pen (or, in a photo, joined by a thick pen): it
   is cut into slices, and the slices are atoms. On the pad the cuts are columns the strokes
   cross least; in a photo, seams: paths from the blob's top to its bottom through the least
   ink, free to bend round slanted digits. Each cut costs for every stroke it goes through.
2. **Blocks**: atoms separated by a clear gap are different digits, whatever the model says.
3. **The model judges the rest**: within a block, every run of up to MAX_GROUP neighbouring
   atoms is a candidate digit, converted by digitpad.conversion.to_mnist exactly as a single
   digit is, and all candidates are read in one batched call. The split chosen is the one whose
   digits read best (the sum of the log of each piece's top probability, less a cost per piece,
   per cut, for a piece much lower than the line's digits (the flag of a 1, a 7's bar), much
   wider than a digit, or read as no digit). The
   model was trained to spread its probability over the digits for marks that are no digit, so
   fragments and two digits read as one score badly.

A piece that still reads as no digit (no ink found, or a top probability under
digitpad.verdict.DIGIT_LIKE) is kept in its place and read as "?", not guessed.

Entry points: :func:`read_number` (a drawing or an image -> :class:`NumberReading`), and
:func:`split_drawing` / :func:`split_image` (-> :class:`Piece` list). Independent of the app.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Protocol

import numpy as np
from PIL import Image
from scipy import ndimage

from digitpad.conversion import EIGHT_CONNECTED, InkMask, ink_mask, stroke_width, to_mnist
from digitpad.images import as_image
from digitpad.strokes import Drawing
from digitpad.verdict import DIGIT_LIKE, Prediction


class Predictor(Protocol):
    """What the splitter needs of digitpad.predictor.Predictor (which imports this module)."""

    def predict_with_features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1)

MAX_DIGITS = 12  # the most digits read in one number
MAX_GROUP = 3  # the most neighbouring atoms one digit may be made of
MAX_ATOMS = 48  # more atoms than this (a hatched page, a photo of text): not a number
NO_DIGIT = "?"  # the text of a piece that is no digit
TOO_MANY = f"more than {MAX_DIGITS} digits: write at most {MAX_DIGITS}"
NOTHING = "write a number"

# Geometry, in fractions of the line's height (the typical digit's height):
SAME_DIGIT = 0.4  # marks overlapping horizontally this much of the narrower one: one atom ...
NARROWEST = 0.3  # ... a mark counted at least this wide (a dot, a 1's stem) when comparing
CLEAR_GAP = 0.12  # a horizontal gap wider than this separates two digits ...
REACH = 0.5  # ... unless narrower than this and a fragment lies on one side of it
WIDE = 1.1  # an atom wider than this may be touching digits: cut into slices
MIN_SLICE = 0.3  # slices are at least this wide
CUTS_PER_LINE = 2.0  # cuts tried in one wide atom: this many per line's height of its width
WIDE_PIECE = 1.5  # a piece wider than this is likely more than one digit ...
WIDTH_COST = 2.0  # ... and costs this much for each line's height of width beyond it
WIDEST_RUN = 2.2  # candidate digits of several atoms are at most this wide (or a whole mark)
WIDE_INK = 0.7  # photos: a component wider than this may be touching digits (a thick pen joins)
SEAM_MINIMA = False  # photos: cuts at the least ink anywhere, not only at local minima
SEAM_STEP = 0.05  # photos: a cut's side step costs this share of a pixel of ink crossed
TALL_SHARE = 0.5  # atoms at least this share of the tallest one's height set the line's height

# Judging a split, in the units of the log of the top probability:
PIECE_COST = 0.25  # each piece: a split must read better by this much than the merge
TALL_ATOM = 0.6  # of the line's height: two atoms this tall side by side are likely two digits ...
MERGE_COST = 0.5  # ... and read as one, cost this much more (each one past the first)
FRAGMENT = 0.45  # a piece lower than this share of the line's height ...
FRAGMENT_COST = 2.0  # ... costs this much more (a flag, a bar, a dot on its own)
CUT_COST = 1.0  # each time a cut goes through a stroke of the pad
INK_CUT_COST = 0.6  # each stroke's width of ink a photo's cut goes through (tuned on seeds 1, 7)
NOT_DIGIT_COST = 1.0  # a piece that reads as no digit (under DIGIT_LIKE)
CLEAR_SPLIT = 1.0  # a number is sure only where no other split came within this of the best
FLOOR = 1e-4  # probabilities are floored here before the log; no ink found counts as this

# Photos:
LOCATE_SIZE = 480  # long side of the copy the ink is found on (finer than for one digit)
SPECK = 0.15  # ink this small (of the line's height) and ...
SPECK_SHARE = 0.05  # ... this share of the largest component's ink is a speck: dropped
CROP_MARGIN = 0.2  # a piece's crop reaches this share of its long side past its ink
PAINT_OUT = 2  # reduced px: the other digits' ink is painted out this much beyond its edge


@dataclass(frozen=True)
class Piece:
    """One digit of a number (or a mark that is no digit), as read."""

    box: Box  # in the input's coordinates: pad fractions for a drawing, pixels for an image
    source: Drawing | Image.Image = field(repr=False)  # what was converted: strokes, or a crop
    image: np.ndarray | None = field(repr=False)  # (28, 28) float32 read; None: no ink found
    prediction: Prediction | None = field(repr=False)  # None when no ink was found
    clear: bool = True  # the split around it beat the next best by CLEAR_SPLIT

    def __repr__(self) -> str:
        return f"Piece({self.text!r}, box={tuple(round(float(c), 3) for c in self.box)})"

    @property
    def is_digit(self) -> bool:
        """Whether the model reads it as a digit at all (top probability >= DIGIT_LIKE)."""
        return self.prediction is not None and self.prediction.confidence >= DIGIT_LIKE

    @property
    def text(self) -> str:
        """The digit, or NO_DIGIT ("?") for a mark that is no digit."""
        return str(self.prediction.digit) if self.is_digit else NO_DIGIT

    @property
    def sure(self) -> bool:
        """Sure of the digit (digitpad.verdict's rule) and of where it begins and ends."""
        return self.is_digit and self.prediction.sure and self.clear


@dataclass(frozen=True)
class NumberReading:
    """A number read: its pieces left to right, or why there is no number."""

    pieces: tuple[Piece, ...]
    reason: str | None = None  # None when there are pieces

    @property
    def text(self) -> str | None:
        """ "2026", with "?" for a mark that is no digit; None when nothing was read."""
        return "".join(p.text for p in self.pieces) if self.pieces else None

    @property
    def sure(self) -> bool:
        """Sure only when every digit is."""
        return bool(self.pieces) and all(p.sure for p in self.pieces)


class TooManyDigits(ValueError):
    """The input has more than MAX_DIGITS digits (or too many marks to judge)."""


@dataclass(frozen=True, eq=False)  # compared by identity: atoms hold arrays
class _Atom:
    """Marks that surely belong to one digit."""

    box: Box  # in the splitter's coordinates (pad fractions; reduced pixels for an image)
    parts: tuple  # strokes ((N, 2) arrays), or one (h, w) bool mask of ink
    origin: int = 0  # slices of one cut atom share a number > 0; 0: not cut
    cut: float = 0.0  # a slice: the cost of the cut at its left edge (CUT_COST, INK_CUT_COST)
    joined: bool = False  # a slice the pen reached from its left neighbour by one line only


def read_number(predictor: Predictor, source: object) -> NumberReading:
    """A drawing (:class:`digitpad.strokes.Drawing`) or any image digitpad.images.as_image reads
    -> :class:`NumberReading`. Raises digitpad.images.ImageError for an unreadable image."""
    try:
        if isinstance(source, Drawing):
            pieces = split_drawing(predictor, source)
        else:
            image = as_image(source)
            pieces = [] if image is None else split_image(predictor, image)
    except TooManyDigits as error:
        return NumberReading((), str(error))
    return NumberReading(tuple(pieces), None if pieces else NOTHING)


# --- the pad ----------------------------------------------------------------------------------


def split_drawing(predictor: Predictor, drawing: Drawing) -> list[Piece]:
    """A drawing -> its digits, left to right (see the module's docstring). Raises
    :class:`TooManyDigits`."""
    atoms = [_stroke_atom([s]) for s in drawing.strokes if len(s)]
    if not atoms:
        return []
    atoms = _merge_overlapping(atoms, _line_height(atoms), _join_strokes)
    line = _digit_height(atoms, _line_height(atoms))  # of the digits, not of their strokes
    atoms = [slice_ for atom in atoms for slice_ in _cut_strokes(atom, line)]
    return _judge(predictor, atoms, line, _group_drawing, lambda box: box)


def _stroke_atom(strokes: Sequence[np.ndarray]) -> _Atom:
    points = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    low, high = points.min(axis=0), points.max(axis=0)
    return _Atom((low[0], low[1], high[0], high[1]), tuple(strokes))


def _join_strokes(atoms: Sequence[_Atom]) -> _Atom:
    return _stroke_atom([s for atom in atoms for s in atom.parts])


def _group_drawing(atoms: Sequence[_Atom]) -> Drawing:
    return Drawing(tuple(s for atom in atoms for s in atom.parts))


def _cut_strokes(atom: _Atom, line: float) -> list[_Atom]:
    """A stroke group much wider than a digit -> slices cut at the columns where the least ink
    crosses (touching digits written without lifting the pen); else the atom itself."""
    x0, _, x1, _ = atom.box
    if x1 - x0 <= WIDE * line:
        return [atom]
    bins = 64
    columns = np.linspace(x0, x1, bins + 1)
    drawn = np.zeros(bins)
    for stroke in atom.parts:  # ink per column: the strokes' length in it, densely sampled
        dense = _densify(stroke, (x1 - x0) / bins / 2)
        drawn += np.histogram(dense[:, 0], bins=columns)[0]
    cuts = _cut_columns(drawn, columns, line)
    if not cuts:
        return [atom]
    edges = [-math.inf, *cuts, math.inf]
    crossings = [0.0, *(_crossings(atom.parts, x) for x in cuts)]
    slices = []
    for (left, right), crossed in zip(pairwise(edges), crossings):
        parts = [p for s in atom.parts for p in _clip_stroke(s, left, right)]
        if parts:
            cut = replace(_stroke_atom(parts), origin=id(atom), cut=CUT_COST * crossed)
            slices.append(replace(cut, joined=crossed == 1))
    return slices


def _crossings(strokes: Sequence[np.ndarray], x: float) -> float:
    """How many times the strokes cross the vertical line at ``x``."""
    sides = [np.asarray(s, np.float64).reshape(-1, 2)[:, 0] >= x for s in strokes]
    return float(sum(np.count_nonzero(side[1:] != side[:-1]) for side in sides))


def _densify(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline no further apart than ``step``: (M, 2)."""
    stroke = np.asarray(stroke, np.float64).reshape(-1, 2)
    if len(stroke) < 2:
        return stroke
    out = [stroke[:1]]
    for a, b in pairwise(stroke):
        n = max(1, math.ceil(float(np.hypot(*(b - a))) / max(step, 1e-6)))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def _clip_stroke(stroke: np.ndarray, left: float, right: float) -> list[np.ndarray]:
    """The runs of a polyline whose points lie in [left, right) in x (densified first, so a
    segment that crosses a cut is cut there within a small step)."""
    dense = _densify(stroke, 0.002)
    inside = (dense[:, 0] >= left) & (dense[:, 0] < right)
    runs, start = [], None
    for i, flag in enumerate([*inside, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append(dense[start:i])
            start = None
    return runs


# --- images -------------------------------------------------------------------------------------


def split_image(predictor: Predictor, image: Image.Image) -> list[Piece]:
    """An image of a number (a photo of paper, a canvas) -> its digits, left to right: each a
    crop of the image with the other digits' ink painted out, converted as one digit is. Raises
    :class:`TooManyDigits`."""
    found = ink_mask(image, LOCATE_SIZE)
    if isinstance(found, str):
        return []
    atoms = _ink_atoms(found.mask)
    if not atoms:
        return []
    line = _line_height(atoms)
    atoms = _drop_specks(atoms, line)
    atoms = _merge_overlapping(atoms, line, _join_masks)
    line = _digit_height(atoms, line)
    atoms = [slice_ for atom in atoms for slice_ in _cut_mask(atom, line)]

    def build(group: Sequence[_Atom]) -> Image.Image:
        return _crop(image, found, group, atoms)

    factor = found.factor
    return _judge(predictor, atoms, line, build, lambda box: tuple(c * factor for c in box))


def _ink_atoms(mask: np.ndarray) -> list[_Atom]:
    labels, _ = ndimage.label(mask, structure=EIGHT_CONNECTED)
    atoms = []
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        rows, cols = found
        atoms.append(_Atom((cols.start, rows.start, cols.stop, rows.stop), (labels == index,)))
    return atoms


def _drop_specks(atoms: list[_Atom], line: float) -> list[_Atom]:
    """Without the specks: small and little ink (paper grain, dust, a stray dot)."""
    ink = [int(atom.parts[0].sum()) for atom in atoms]
    largest = max(ink)
    return [
        atom
        for atom, amount in zip(atoms, ink)
        if max(_width(atom.box), _height(atom.box)) > SPECK * line or amount > SPECK_SHARE * largest
    ]


def _join_masks(atoms: Sequence[_Atom]) -> _Atom:
    mask = np.logical_or.reduce([atom.parts[0] for atom in atoms])
    x0, y0, x1, y1 = zip(*(atom.box for atom in atoms))
    return _Atom((min(x0), min(y0), max(x1), max(y1)), (mask,))


def _cut_mask(atom: _Atom, line: float) -> list[_Atom]:
    """A component much wider than a digit -> slices between seams: paths from its top to its
    bottom that cross the least ink, free to bend round a slanted digit (SEAM_STEP)."""
    x0, y0, x1, y1 = (int(c) for c in atom.box)
    if x1 - x0 <= WIDE_INK * line:
        return [atom]
    mask = atom.parts[0]
    ink = mask[y0:y1, x0:x1]
    crossed, back = _seam_costs(ink)
    cuts = _cut_columns(crossed, np.arange(x0, x1 + 1, dtype=np.float64), line, SEAM_MINIMA)
    seams = [_trace_seam(back, int(c) - x0) for c in cuts]
    stroke = stroke_width(ink)
    costs = [0.0, *(INK_CUT_COST * float(crossed[int(c) - x0]) / stroke for c in cuts)]
    for left, right in pairwise(seams):  # seams that meet stay together, never cross
        np.maximum(right, left, out=right)
    width = x1 - x0
    edges = [np.zeros(y1 - y0, int), *seams, np.full(y1 - y0, width)]
    columns = np.arange(width)[None, :]
    slices = []
    for (left, right), cost in zip(pairwise(edges), costs):
        part = np.zeros_like(mask)
        part[y0:y1, x0:x1] = ink & (columns >= left[:, None]) & (columns < right[:, None])
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        if len(rows):
            box = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
            slices.append(_Atom(box, (part,), id(atom), cost))
    return slices


def _seam_costs(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h, w) bool ink -> the least ink a top-to-bottom path ending at each column crosses (w,),
    moving at most one column a row (a side step costs SEAM_STEP), and each row's step (h, w)."""
    height, width = ink.shape
    total = ink[0].astype(np.float64)
    back = np.zeros((height, width), np.int8)
    columns = np.arange(width)
    for y in range(1, height):
        options = np.stack(
            [np.r_[np.inf, total[:-1]] + SEAM_STEP, total, np.r_[total[1:], np.inf] + SEAM_STEP]
        )  # (3, w): from the column to the left, the same, the one to the right
        choice = options.argmin(axis=0)
        total = options[choice, columns] + ink[y]
        back[y] = choice - 1
    return total, back


def _trace_seam(back: np.ndarray, end: int) -> np.ndarray:
    """The seam ending at column ``end`` of the last row: its column in each row, (h,)."""
    seam = np.zeros(len(back), int)
    x = seam[-1] = min(max(end, 0), back.shape[1] - 1)
    for y in range(len(back) - 1, 0, -1):
        x += int(back[y, x])
        seam[y - 1] = x
    return seam


def _crop(
    image: Image.Image, found: InkMask, group: Sequence[_Atom], atoms: Sequence[_Atom]
) -> Image.Image:
    """The image around the group's ink, the other atoms' ink painted out with the paper's
    colour (with transparency where the image has it)."""
    factor = found.factor
    mine = np.logical_or.reduce([atom.parts[0] for atom in group])
    rest = [a.parts[0] for a in atoms if a not in group]
    others = np.logical_or.reduce(rest) if rest else np.zeros_like(found.mask)
    others = ndimage.binary_dilation(others & ~mine, iterations=PAINT_OUT) & ~mine
    x0, y0, x1, y1 = _join_masks(group).box
    margin = CROP_MARGIN * max(x1 - x0, y1 - y0)
    h, w = found.mask.shape
    box = (
        max(0, int(x0 - margin)), max(0, int(y0 - margin)),
        min(w, math.ceil(x1 + margin)), min(h, math.ceil(y1 + margin)),
    )  # fmt: skip
    full = tuple(min(c * factor, s) for c, s in zip(box, (*found.size, *found.size)))
    crop = image.crop(full)
    paint = _ink_in(others, box, crop.size)
    if "A" in crop.getbands():
        crop = crop.convert("RGBA")
        crop.putalpha(Image.composite(Image.new("L", crop.size, 0), crop.getchannel("A"), paint))
        return crop
    crop = crop.convert("RGB")
    ink = np.asarray(_ink_in(mine | others, box, crop.size)) > 0
    pixels = np.asarray(crop).reshape(-1, 3)[~ink.ravel()]
    paper = tuple(int(v) for v in np.median(pixels, axis=0)) if len(pixels) else (255, 255, 255)
    crop.paste(paper, (0, 0, *crop.size), paint)
    return crop


def _ink_in(mask: np.ndarray, box: tuple, size: tuple) -> Image.Image:
    """A reduced-resolution mask cut to ``box`` and resized to ``size``: "L", 0 or 255."""
    part = np.ascontiguousarray(mask[box[1] : box[3], box[0] : box[2]])
    return Image.fromarray(part.view(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)


# --- shared: geometry and the model's judgement -----------------------------------------------


def _width(box: Box) -> float:
    return box[2] - box[0]


def _height(box: Box) -> float:
    return box[3] - box[1]


def _line_height(atoms: Sequence[_Atom]) -> float:
    """The typical digit's height: the median of the atoms at least TALL_SHARE of the tallest."""
    heights = np.array([_height(a.box) for a in atoms])
    tall = heights[heights >= TALL_SHARE * heights.max()]
    return max(float(np.median(tall)), 1e-6)


def _digit_height(atoms: Sequence[_Atom], line: float) -> float:
    """The line's height from its blocks (atoms between clear gaps, whole): a digit whose strokes
    are stacked (a 4's triangle over its stem) counts at its full height."""
    return _line_height([_Atom(_join_boxes([a.box for a in b]), ()) for b in _blocks(atoms, line)])


def _merge_overlapping(
    atoms: list[_Atom], line: float, join: Callable[[Sequence[_Atom]], _Atom]
) -> list[_Atom]:
    """Atoms whose horizontal extents overlap by SAME_DIGIT of the narrower one (counted at least
    NARROWEST wide, about its centre) joined, until none do; sorted left to right."""
    atoms = list(atoms)
    merged = True
    while merged:
        merged = False
        for i in range(len(atoms)):
            for j in range(i + 1, len(atoms)):
                if _overlap(atoms[i].box, atoms[j].box, line) >= SAME_DIGIT:
                    atoms[i] = join([atoms[i], atoms[j]])
                    del atoms[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(atoms, key=lambda a: (a.box[0] + a.box[2]) / 2)


def _overlap(a: Box, b: Box, line: float) -> float:
    """How much of the narrower box's horizontal extent (widened to NARROWEST) the other covers."""
    narrow, wide = (a, b) if _width(a) <= _width(b) else (b, a)
    half = max(_width(narrow), NARROWEST * line) / 2
    centre = (narrow[0] + narrow[2]) / 2
    covered = min(centre + half, wide[2]) - max(centre - half, wide[0])
    return max(covered, 0.0) / (2 * half)


def _cut_columns(
    drawn: np.ndarray, columns: np.ndarray, line: float, minima: bool = True
) -> list[float]:
    """Up to CUTS_PER_LINE x positions per line's height where the least ink crosses (local minima of ``drawn``, the
    ink per column between the ``columns`` edges), at least MIN_SLICE of the line apart and from
    the ends."""
    centres = (columns[:-1] + columns[1:]) / 2
    smooth = ndimage.uniform_filter1d(drawn, 3, mode="nearest")
    order = np.argsort(smooth, kind="stable")
    cuts: list[float] = []
    for i in order:
        x = float(centres[i])
        if x - columns[0] < MIN_SLICE * line or columns[-1] - x < MIN_SLICE * line:
            continue
        if any(abs(x - c) < MIN_SLICE * line for c in cuts):
            continue
        if minima and 0 < i < len(smooth) - 1 and smooth[i] > min(smooth[i - 1], smooth[i + 1]):
            continue  # not a minimum
        cuts.append(x)
        if len(cuts) >= min(CUTS_PER_LINE * (columns[-1] - columns[0]) / line, MAX_DIGITS):
            break
    return sorted(cuts)


def _blocks(atoms: Sequence[_Atom], line: float) -> list[list[_Atom]]:
    """Atoms (left to right) split wherever a clear gap separates them; but a fragment (a piece
    of a broken stroke, a flag) within REACH of the line's height stays with its neighbour, for
    the model to judge."""
    blocks: list[list[_Atom]] = []
    right, last = -math.inf, None
    for atom in atoms:
        gap = atom.box[0] - right
        small = last is not None and min(_height(atom.box), _height(last.box)) < FRAGMENT * line
        if gap > CLEAR_GAP * line and not (small and gap <= REACH * line):
            blocks.append([])
        blocks[-1].append(atom)
        right, last = max(right, atom.box[2]), atom
    return blocks


def _judge(
    predictor,
    atoms: Sequence[_Atom],
    line: float,
    build: Callable[[Sequence[_Atom]], object],
    to_input: Callable[[Box], Box],
) -> list[Piece]:
    """Every candidate digit (runs of up to MAX_GROUP atoms within a block) converted and read in
    one batch; per block, the split that reads best. -> the pieces, left to right."""
    if len(atoms) > MAX_ATOMS:
        raise TooManyDigits(TOO_MANY)
    blocks = _blocks(atoms, line)
    if len(blocks) > MAX_DIGITS:
        raise TooManyDigits(TOO_MANY)
    runs = [(b, i, j) for b, block in enumerate(blocks) for i, j in _runs(block, line)]
    sources = [build(blocks[b][i:j]) for b, i, j in runs]
    conversions = [to_mnist(source) for source in sources]
    found = [k for k, c in enumerate(conversions) if c.image is not None]
    images = np.stack([conversions[k].image for k in found]) if found else np.zeros((0, 28, 28))
    probabilities = predictor.predict_with_features(images)[0] if found else np.zeros((0, 10))
    read = {runs[k]: Prediction(probabilities[row]) for row, k in enumerate(found)}
    pieces = []
    for b, block in enumerate(blocks):
        split, margin = _best_split(block, b, read, line)
        for i, j in split:
            k = runs.index((b, i, j))
            box = _join_boxes([a.box for a in block[i:j]])
            image, prediction = conversions[k].image, read.get(runs[k])
            clear = margin >= CLEAR_SPLIT
            pieces.append(Piece(to_input(box), sources[k], image, prediction, clear))
    if len(pieces) > MAX_DIGITS:
        raise TooManyDigits(TOO_MANY)
    return pieces


def _best_split(
    block: Sequence[_Atom], b: int, read: dict, line: float
) -> tuple[list[tuple[int, int]], float]:
    """The runs (i, j) that split a block best (dynamic programming over its atoms, keeping the
    two best totals at each atom), and by how much it beats the next best split (inf if none)."""

    def score(i: int, j: int) -> float:
        prediction = read.get((b, i, j))
        top = prediction.confidence if prediction is not None else FLOOR
        box = _join_boxes([a.box for a in block[i:j]])
        fragment = FRAGMENT_COST if _height(box) < FRAGMENT * line else 0.0
        fragment += WIDTH_COST * max(_width(box) / line - WIDE_PIECE, 0.0)
        fragment += NOT_DIGIT_COST if top < DIGIT_LIKE else 0.0
        tall = _tall_marks(block[i:j], line)
        return math.log(max(top, FLOOR)) - PIECE_COST - fragment - MERGE_COST * max(tall - 1, 0)

    def cut(i: int) -> float:  # a piece's left edge inside one stroke or component: a cut
        inside = 0 < i and block[i].origin and block[i].origin == block[i - 1].origin
        return block[i].cut if inside else 0.0

    best: list[list[float]] = [[0.0]] + [[] for _ in block]  # the two best totals to each atom
    back = [0] * (len(block) + 1)  # where the best one's last piece starts
    for i, j in _runs(block, line):  # in order of i: best[i] is final when read
        gain = score(i, j) - cut(i)
        for total in best[i]:
            if not best[j] or total + gain > best[j][0]:
                back[j] = i
            best[j] = sorted([*best[j], total + gain], reverse=True)[:2]
    runs, j = [], len(block)
    while j > 0:
        runs.append((back[j], j))
        j = back[j]
    totals = best[len(block)]
    return runs[::-1], (totals[0] - totals[1] if len(totals) > 1 else math.inf)


def _tall_marks(atoms: Sequence[_Atom], line: float) -> int:
    """How many marks at least TALL_ATOM of the line's height the atoms hold: the slices of one
    cut mark count once, except that one line of the pen joining two tall parts (a number written
    without lifting the pen) divides them."""
    marks, part = set(), 0
    for atom in atoms:
        part += atom.joined
        if _height(atom.box) >= TALL_ATOM * line:
            marks.add((atom.origin or id(atom), part))
    return len(marks)


def _runs(block: Sequence[_Atom], line: float) -> list[tuple[int, int]]:
    """The candidate digits of a block: runs block[i:j] of atoms from at most MAX_GROUP marks
    (the slices of one cut mark count once, so a mark cut in many places is still a candidate
    whole), ordered by i."""
    runs = []
    for i in range(len(block)):
        marks: set[int] = set()
        right = -math.inf
        for j in range(i + 1, len(block) + 1):
            marks.add(block[j - 1].origin or id(block[j - 1]))
            right = max(right, block[j - 1].box[2])
            if len(marks) > MAX_GROUP:
                break
            wide = right - block[i].box[0] > WIDEST_RUN * line
            if j - i > 1 and wide and not _is_whole(block, i, j):
                continue
            runs.append((i, j))
    return runs


def _is_whole(block: Sequence[_Atom], i: int, j: int) -> bool:
    """Whether block[i:j] is every slice of one cut atom."""
    origin = block[i].origin
    inside = all(a.origin == origin for a in block[i:j])
    return bool(origin) and inside and not any(a.origin == origin for a in (*block[:i], *block[j:]))


def _join_boxes(boxes: Sequence[Box]) -> Box:
    x0, y0, x1, y1 = zip(*boxes)
    return (min(x0), min(y0), max(x1), max(y1))
