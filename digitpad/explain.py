"""Why this digit? A reading explained: the way in, where the model looked, what it compared with.

:func:`explain` reads an input as :meth:`Predictor.recognise` does and returns an
:class:`Explanation`:

- **steps**: the conversion's own intermediate images, captioned (``to_mnist(source,
  keep_steps=True)``, digitpad.steps): the input in grey, the ink found, the crop, the 20x20
  box, the 28x28 the model reads;
- **heatmap**: where it looked, as what made the top digit win over the second (the *rival*):
  occlusion, since the LiteRT interpreter has no gradients. Squares of ``PATCH`` px on a grid of
  step ``STRIDE``, laid twice (offset by ``OFFSETS``), each one that covers ink blacked out in
  turn; all of them and the image itself go through the model in one batch. A square's score is
  how much hiding it shrinks the margin log p(digit) - log p(rival) (the logits' difference: the
  softmax's normaliser cancels); a pixel gets the mean score of the squares covering it
  (``evidence``, signed), and the heat map is its positive part scaled to 0..1. Whether hiding
  the hottest pixels first really lowers the digit's probability faster than hiding random ones
  is measured by ``python scripts/benchmark_explain.py`` (docs/measurements.md, "Why this
  digit");
- **neighbours**: the training digits nearest in the features the classifier reads (cosine
  distance), from the index built for this very model (digitpad.nearest); when it is missing or
  built for another model, ``neighbours_note`` says so and the rest stands;
- **yours**: the person's own labelled digits (digitpad.memory's examples) that lie within the
  memory's ``RADIUS``: those that would speak for this input.

:meth:`Explanation.as_json` is its plain data (:class:`ExplanationJSON`). The input is bounded
as every reading's is (digitpad.images, digitpad.strokes); ``k`` is bounded by ``MAX_K``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from digitpad.conversion import IMAGE_SIZE, to_mnist
from digitpad.images import ImageError, png_data_url, to_pixels
from digitpad.memory import RADIUS, Example, unit
from digitpad.nearest import DEFAULT_K, Neighbour, index_for
from digitpad.predictor import Predictor
from digitpad.reading import CANT_READ, read
from digitpad.steps import Step
from digitpad.verdict import Prediction

log = logging.getLogger(__name__)

# Occlusion: squares of PATCH px on a grid of step STRIDE, laid at each offset in OFFSETS, so that
# every pixel lies in len(OFFSETS) squares and the map is finer than one grid. Only squares that
# cover ink are hidden (hiding paper changes nothing): a few dozen images per explanation. The
# choice against others (squares of 3-8 px, one grid or two, ink-shaped segments, random masks
# with a regression) was made with python scripts/benchmark_explain.py; docs/measurements.md.
PATCH = 4
STRIDE = 4
OFFSETS = (0, 2)
LOG_FLOOR = 1e-30  # probabilities are floored here before their log (a float32 can reach 0)
MAX_YOURS = 5  # the person's own examples shown, nearest first
DELETION_FRACTIONS = np.linspace(0.0, 1.0, 21)  # shares of the ink hidden, for the deletion test


@dataclass(frozen=True)
class Yours:
    """One of the person's labelled digits near the one explained."""

    digit: int  # what they said it is
    predicted: int | None  # what the model alone read in it, when the label says
    distance: float  # cosine distance of the features


class StepJSON(TypedDict):
    image: str  # PNG data: URL
    caption: str


class HeatmapJSON(TypedDict):
    values: list[list[float]]  # 28x28, 0..1
    image: str  # PNG data: URL: the heat over the digit


class NeighbourJSON(TypedDict):
    digit: int
    image: str
    distance: float
    source: str


class YoursJSON(TypedDict):
    digit: int
    predicted: int | None
    distance: float


class ExplanationJSON(TypedDict):
    """What :meth:`Explanation.as_json` gives."""

    message: str  # the model's verdict line, or why there is nothing to explain
    steps: list[StepJSON]
    heatmap: HeatmapJSON | None
    digit: int | None  # the model's top digit
    rival: int | None  # its second
    neighbours: list[NeighbourJSON]
    neighbours_note: str | None  # why there are no neighbours to show
    yours: list[YoursJSON]


@dataclass(frozen=True, eq=False)
class Explanation:
    """Why the model read what it read in one input (:func:`explain`)."""

    message: str  # the model's verdict line, or why there is nothing to explain
    steps: tuple[Step, ...] = ()  # the way in, as far as the conversion went
    image: np.ndarray | None = None  # (28, 28) float32: what the model read
    prediction: Prediction | None = None  # the model's own answer (no memory)
    rival: int | None = None  # the second digit
    evidence: np.ndarray | None = None  # (28, 28) float32: margin lost when hidden (signed)
    heatmap: np.ndarray | None = None  # (28, 28) float32 in [0, 1]: evidence's positive part
    neighbours: tuple[Neighbour, ...] = ()
    neighbours_note: str | None = None  # why there are none, when the index is missing or stale
    yours: tuple[Yours, ...] = ()

    @property
    def digit(self) -> int | None:
        return None if self.prediction is None else self.prediction.digit

    def heatmap_image(self) -> np.ndarray | None:
        """(28, 28, 3) uint8: the heat (black-red-yellow-white) laid over the dimmed digit."""
        if self.heatmap is None or self.image is None:
            return None
        heat = self.heatmap[..., None]  # (28, 28, 1)
        hot = np.clip(3.0 * heat - np.array([0.0, 1.0, 2.0]), 0.0, 1.0)  # (28, 28, 3)
        base = np.repeat(0.45 * self.image[..., None], 3, axis=2)
        alpha = np.sqrt(heat)  # faint heat still shows
        return to_pixels((1.0 - alpha) * base + alpha * hot)

    def as_json(self) -> ExplanationJSON:
        """Plain data: numbers, words and PNG data: URLs."""
        heatmap = None
        if self.heatmap is not None:
            values = np.round(self.heatmap.astype(np.float64), 3).tolist()
            heatmap = {"values": values, "image": png_data_url(self.heatmap_image())}
        return {
            "message": self.message,
            "steps": [{"image": png_data_url(s.image), "caption": s.caption} for s in self.steps],
            "heatmap": heatmap,
            "digit": self.digit,
            "rival": self.rival,
            "neighbours": [
                {
                    "digit": n.digit,
                    "image": png_data_url(n.image),
                    "distance": round(n.distance, 4),
                    "source": n.source,
                }
                for n in self.neighbours
            ],
            "neighbours_note": self.neighbours_note,
            "yours": [
                {"digit": y.digit, "predicted": y.predicted, "distance": round(y.distance, 4)}
                for y in self.yours
            ],
        }


def explain(
    predictor: Predictor, source: object, memory: Sequence[Example] = (), *, k: int = DEFAULT_K
) -> Explanation:
    """Any input :func:`~digitpad.conversion.to_mnist` accepts (a Drawing, an image, a path ...)
    -> :class:`Explanation` of the model's own reading (``memory``'s labelled digits are shown
    as *yours*, not applied). An unreadable input, or one with no digit, gets an Explanation that
    says why (and the steps as far as they went); never an exception for the input's sake."""
    try:
        conversion = to_mnist(source, keep_steps=True)
    except ImageError as error:
        return Explanation(CANT_READ + str(error))
    if conversion.image is None:
        return Explanation(conversion.reason or "", conversion.steps)
    image = conversion.image
    masks = occlusion_masks(image)  # (M, 28, 28) bool
    batch = np.concatenate([image[None], np.where(masks, np.float32(0), image[None])])
    probabilities, features = predictor.predict_with_features(batch)  # one call: (1 + M, 10)
    prediction = Prediction(probabilities[0])
    digit, rival = (int(i) for i in np.argsort(probabilities[0], kind="stable")[::-1][:2])
    evidence = spread(margins(probabilities, digit, rival), masks)
    features = unit(features[0])
    index = index_for(predictor.model_path)
    near = () if isinstance(index, str) else tuple(index.nearest(features, k))
    return Explanation(
        message=prediction.verdict,
        steps=conversion.steps,
        image=image,
        prediction=prediction,
        rival=rival,
        evidence=evidence,
        heatmap=heat(evidence),
        neighbours=near,
        neighbours_note=index if isinstance(index, str) else None,
        yours=tuple(yours_near(features, memory)),
    )


# --- faithfulness: the deletion test ------------------------------------------------------------


def hottest_first(explanation: Explanation) -> np.ndarray:
    """The ink pixels of the explained image (flat indices into 28x28), the heat map's hottest
    first: by its evidence, which orders the same where the heat is positive and goes on below
    it (brighter ink first among equals)."""
    image = explanation.image.ravel()
    ink = np.flatnonzero(image > 0)
    keys = np.lexsort((-image[ink], -explanation.evidence.ravel()[ink]))
    return ink[keys]


def deletion_curves(
    predictor: Predictor,
    image: np.ndarray,
    digit: int,
    orders: Sequence[np.ndarray],
    fractions: np.ndarray = DELETION_FRACTIONS,
) -> np.ndarray:
    """(len(orders), len(fractions)): the probability of ``digit`` as the first ``fraction`` of
    each order's pixels (flat indices; all orders the same length) are hidden (set to 0); one
    batch. The area under a curve (its mean over evenly spaced fractions) is the deletion score:
    the faster a good explanation's order kills the digit, the lower."""
    flat = image.ravel()
    batch = []
    for order in orders:
        for fraction in fractions:
            hidden = flat.copy()
            hidden[order[: int(round(fraction * len(order)))]] = 0
            batch.append(hidden)
    probabilities = predictor.predict_batch(np.stack(batch).reshape(-1, *image.shape))
    return probabilities[:, digit].reshape(len(orders), len(fractions))


def occlusion_masks(image: np.ndarray) -> np.ndarray:
    """(M, 28, 28) bool: the squares (PATCH px, every STRIDE px, at each of OFFSETS) that cover
    some ink of the (28, 28) ``image``."""
    masks = []
    for offset in OFFSETS:
        starts = range(-offset if offset else 0, IMAGE_SIZE, STRIDE)
        for top in starts:
            for left in starts:
                rows = slice(max(top, 0), max(top + PATCH, 0))
                cols = slice(max(left, 0), max(left + PATCH, 0))
                if image[rows, cols].any():
                    mask = np.zeros((IMAGE_SIZE, IMAGE_SIZE), bool)
                    mask[rows, cols] = True
                    masks.append(mask)
    return np.stack(masks) if masks else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), bool)


def margins(probabilities: np.ndarray, digit: int, rival: int) -> np.ndarray:
    """(1 + M, 10) probabilities, the first the image's -> (M,) how much each occluded image's
    margin log p(digit) - log p(rival) fell short of the image's."""
    logs = np.log(np.maximum(probabilities.astype(np.float64), LOG_FLOOR))
    margin = logs[:, digit] - logs[:, rival]  # (1 + M,)
    return margin[0] - margin[1:]


def spread(drops: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(M,) scores of (M, 28, 28) squares -> (28, 28) float32: each pixel, the mean score of the
    squares that cover it (0 where none does)."""
    weights = masks.reshape(len(masks), -1).astype(np.float64)  # (M, 784)
    total = drops @ weights
    count = weights.sum(axis=0)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return mean.reshape(IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)


def heat(evidence: np.ndarray) -> np.ndarray:
    """The evidence's positive part scaled to [0, 1] (all zeros when nothing helped the digit)."""
    positive = np.maximum(evidence, 0.0)
    top = float(positive.max())
    return (positive / top if top > 0 else positive).astype(np.float32)


def yours_near(features: np.ndarray, memory: Sequence[Example]) -> list[Yours]:
    """The person's labelled digits within the memory's RADIUS of ``features`` (unit length),
    nearest first, at most MAX_YOURS."""
    examples = [e for e in memory if e.features is not None]
    if not examples:
        return []
    distance = 1.0 - np.stack([e.features for e in examples]) @ features  # (M,)
    order = [int(i) for i in np.argsort(distance, kind="stable") if distance[i] < RADIUS]
    return [
        Yours(
            int(examples[i].digit),
            getattr(examples[i], "predicted", None),
            float(distance[i]),
        )
        for i in order[:MAX_YOURS]
    ]


def explain_digit(
    predictor: Predictor, source: object, position: int = 0, memory: Sequence[Example] = ()
) -> Explanation:
    """:func:`explain` for the digit at ``position`` (0: the first) of what ``source`` holds: the
    input itself when it is one digit, that digit's own strokes or crop when it is a number."""
    digits = read(predictor, source).digits
    if not digits:
        return explain(predictor, source, memory)
    if not 0 <= position < len(digits):
        return Explanation(f"No digit {position + 1} here: the model read {len(digits)} digits.")
    return explain(predictor, digits[position].source, memory)
