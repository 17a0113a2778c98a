"""Learning a person's hand from their answers, at once, without training.

When someone labels their digits (the answer buttons, ``/label_sketch``, ``/label_image``), each
label keeps what the model read in that input: the features its classifier saw (the layer
before it, a second output of the LiteRT model, digitpad.predictor). :func:`adapt` compares a new
input's features with those of the person's labelled digits (cosine distance). When the nearest
example lies within ``RADIUS``, is clearly nearer than any example of another digit (``RATIO``),
and its digit is not the model's answer, the answer moves towards that digit: the closer, the
more, and always far enough for it to come first. A person who slashes one zero slashes all of
them: their next slashed zero lands next to the one they labelled, and is read as they said.

Otherwise the model's answer stands: where examples of two digits lie about as near (the
person's own hand does not tell them apart); where the nearest example agrees with the model
(making it surer would make a scribble near a labelled digit "sure"); and where the model is all
but certain (``FIRM``), unless the example is the same drawing or all but (``FIRM_RADIUS``): a
person whose 2s and 7s look alike to it has taught it little about their next 7.

Beyond ``RADIUS`` the memory says nothing, and an empty memory changes nothing, so every figure
of the model alone holds for anyone who labels nothing. ``RADIUS`` and ``RATIO`` were chosen with
``python scripts/benchmark_memory.py`` on simulated writers (one half to choose, the other to
measure; docs/measurements.md quotes both), by the rule it prints, with the model shipped at the
time; docs/measurements.md says what its grid prefers with the model shipped now, and why the
constants stay. ``FIRM_RADIUS`` is not chosen for accuracy: it is there so that a correction
always holds for the drawing corrected and its near copies (docs/measurements.md compares it
with 0). It costs one matrix product per prediction: a few microseconds for a full memory
(digitpad.app.sessions.MAX_LABELS examples).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

RADIUS = 0.15  # cosine distance within which a labelled example speaks
RATIO = 0.7  # the nearest digit's example is nearer than RATIO x any other digit's, or none speaks
FIRM = 0.999  # an answer the model gives with at least this probability is firm: only an
FIRM_RADIUS = 0.025  # example this near (the same drawing, or all but) overrules it


class Example(Protocol):
    """A labelled digit as the memory reads it (digitpad.app.sessions.Label is one)."""

    digit: int
    features: np.ndarray | None  # (F,) float32, unit length (:func:`unit`)


def unit(features: np.ndarray) -> np.ndarray:
    """Features scaled to unit length (float32), as the memory compares them."""
    features = np.asarray(features, np.float32).reshape(-1)
    return features / max(float(np.linalg.norm(features)), 1e-9)


def adapt(
    probabilities: np.ndarray, features: np.ndarray | None, examples: Sequence[Example]
) -> tuple[np.ndarray, int]:
    """The model's (10,) probabilities moved towards the digit of the labelled example nearest
    to ``features`` ((F,), unit length as the examples' are: :func:`unit`), when it is another
    digit than the model's, lies within RADIUS, is clearly nearer than any example of another
    digit (RATIO), and, where the model is all but certain (FIRM), within FIRM_RADIUS; and how
    many of that digit's examples lie within RADIUS (0: the probabilities as they were)."""
    examples = [e for e in examples if e.features is not None]
    if features is None or not examples:
        return probabilities, 0
    distance = 1.0 - np.stack([e.features for e in examples]) @ features  # (M,)
    digits = np.array([e.digit for e in examples])
    nearest = np.full(len(probabilities), np.inf)  # per digit, its nearest example's distance
    np.minimum.at(nearest, digits, distance)
    best = int(np.argmin(nearest))
    rival = float(np.min(np.delete(nearest, best)))
    if nearest[best] >= RADIUS or nearest[best] >= RATIO * rival:
        return probabilities, 0
    if best == int(np.argmax(probabilities)):  # it agrees: surer, it would make non-digits sure
        return probabilities, 0
    if float(np.max(probabilities)) >= FIRM and nearest[best] >= FIRM_RADIUS:
        return probabilities, 0
    adapted = towards(probabilities, best, 1.0 - float(nearest[best]) / RADIUS)
    return adapted, int(np.sum((distance < RADIUS) & (digits == best)))


def towards(probabilities: np.ndarray, digit: int, weight: float) -> np.ndarray:
    """``probabilities`` mixed with certainty of ``digit`` (``weight`` 0..1), at least enough
    for ``digit`` to come first with half the probability or more: just enough reads "not sure:
    <digit> or <the model's>?"."""
    probabilities = np.asarray(probabilities, np.float64)
    own = float(probabilities[digit])
    gap = float(probabilities.max()) - own
    if gap > 0:
        weight = max(weight, gap / (1.0 + gap) + 1e-3, (0.5 - own) / (1.0 - own) + 1e-3)
    adapted = (1.0 - weight) * probabilities
    adapted[digit] += weight
    return (adapted / adapted.sum()).astype(np.float32)
