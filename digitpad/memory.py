"""Learning a person's hand from their answers, at once, without training.

When someone labels their digits (the answer buttons, ``/label_sketch``, ``/label_image``), each
label keeps what the model read in that input: the features its classifier saw (the layer
before it, a second output of the LiteRT model, digitpad.predictor). :func:`adapt` compares a new
input's features with those of the person's labelled digits (cosine distance) and, where some
lie within ``RADIUS``, moves the model's probabilities towards their labels: the closer the
nearest one, the more. A person who slashes one zero slashes all of them: their next slashed
zero lands next to the one they labelled, and is read as they said.

Beyond ``RADIUS`` the memory says nothing, and an empty memory changes nothing, so every figure
of the model alone holds for anyone who labels nothing. ``RADIUS`` and ``STRENGTH`` were chosen
with ``python scripts/benchmark_memory.py`` on simulated writers (one half to choose, the other
to measure; docs/measurements.md quotes both): the largest radius at which no writer of the
choosing half ended up worse. It costs one matrix product per prediction: a few microseconds
for a full memory (digitpad.sessions.MAX_LABELS examples).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

RADIUS = 0.05  # cosine distance within which a labelled example speaks
STRENGTH = 1.0  # how far the nearest example, at distance 0, moves the answer (0..1)


class Example(Protocol):
    """A labelled digit as the memory reads it (digitpad.sessions.Label is one)."""

    digit: int
    features: np.ndarray | None  # (F,) float32, unit length (:func:`unit`)


def unit(features: np.ndarray) -> np.ndarray:
    """Features scaled to unit length (float32), as the memory compares them."""
    features = np.asarray(features, np.float32).reshape(-1)
    return features / max(float(np.linalg.norm(features)), 1e-9)


def adapt(
    probabilities: np.ndarray, features: np.ndarray | None, examples: Sequence[Example]
) -> tuple[np.ndarray, int]:
    """The model's (10,) probabilities moved towards the labels of the examples within RADIUS of
    ``features``; and how many of them spoke (0: the probabilities as they were)."""
    examples = [e for e in examples if e.features is not None]
    if features is None or not examples:
        return probabilities, 0
    query = unit(features)
    stacked = np.stack([e.features for e in examples])  # (M, F)
    distance = 1.0 - stacked @ query  # (M,)
    near = distance < RADIUS
    if not near.any():
        return probabilities, 0
    closeness = 1.0 - distance[near] / RADIUS  # (K,) in (0, 1]
    votes = np.zeros(len(probabilities), np.float64)
    np.add.at(votes, [e.digit for e, n in zip(examples, near) if n], closeness)
    weight = STRENGTH * float(closeness.max())
    adapted = (1.0 - weight) * np.asarray(probabilities, np.float64) + weight * votes / votes.sum()
    return (adapted / adapted.sum()).astype(np.float32), int(near.sum())
