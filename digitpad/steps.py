"""The way in: the steps from an input to MNIST's 28x28, as the conversion took them.

``to_mnist(source, keep_steps=True)`` (digitpad.conversion) hands a :class:`StepRecorder` to its
own stages, which give it their intermediate results as they go: no second conversion, and the
default path records nothing (the recorder is ``None``). Each step becomes a :class:`Step`: a
small uint8 image and a few words of caption, in the order the conversion made them:

1. the input as the conversion sees it: grey, on the reduced copy it locates the digit on;
2. the ink found there: the strokes kept, specks and stray dots dropped;
3. the digit cropped from the original pixels and thresholded, at the working resolution;
4. its stroke brought to MNIST's width where it was far off, fitted into the 20x20 box;
5. centred by its mass in the 28x28 field: exactly the image the model reads.

Every image is white ink on black (as MNIST's), except the first, which shows the input's own
grey. None is larger than the conversion's working copies (``LOCATE_SIZE``, ``4 x WORK_SIZE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The captions, in the order of the steps.
SEEN = "your input, in grey"
INK = "the ink found; specks and stray dots dropped"
CROPPED = "cropped to the digit, thresholded"
BOXED = "fitted into MNIST's 20x20 box"
THINNED = "stroke thinned towards MNIST's width; fitted into the 20x20 box"
THICKENED = "stroke thickened to MNIST's width; fitted into the 20x20 box"
CENTRED = "centred by its mass in 28x28: what the model reads"


@dataclass(frozen=True)
class Step:
    """One step of the conversion, shown."""

    image: np.ndarray  # (H, W) uint8; white ink on black except the first step's grey
    caption: str


def _uint8(values: np.ndarray) -> np.ndarray:
    """bool -> 0/255; floats in [0, 1] -> 0..255 rounded."""
    if values.dtype == bool:
        return values.view(np.uint8) * np.uint8(255)
    return np.rint(np.clip(values, 0.0, 1.0) * 255).astype(np.uint8)


class StepRecorder:
    """What :func:`digitpad.conversion.to_mnist` fills in when asked to keep its steps."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def seen(self, grey: np.ndarray) -> None:
        """(h, w) float grey in [0, 1], the reduced copy, transparency composited."""
        self.steps.append(Step(_uint8(grey), SEEN))

    def ink(self, keep: np.ndarray) -> None:
        """(h, w) bool: the components kept, on the reduced copy."""
        self.steps.append(Step(_uint8(keep), INK))

    def cropped(self, ink: np.ndarray) -> None:
        """(H, W) bool: the digit's ink at the working resolution, cropped to it."""
        self.steps.append(Step(_uint8(ink), CROPPED))

    def boxed(self, box: np.ndarray, change: int) -> None:
        """(h, w) float in [0, 1]: the digit in the 20 px box; ``change``: -1 the stroke was
        thinned, +1 thickened, 0 left as drawn."""
        caption = {-1: THINNED, 1: THICKENED}.get(change, BOXED)
        self.steps.append(Step(_uint8(box), caption))

    def centred(self, image: np.ndarray) -> None:
        """(28, 28) float32 in [0, 1]: the conversion's result."""
        self.steps.append(Step(_uint8(image), CENTRED))
