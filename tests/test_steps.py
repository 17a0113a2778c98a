"""digitpad.steps: the conversion's intermediate images, captioned. (That to_mnist fills them in
from its own stages is tests/test_conversion.py's.)"""

from __future__ import annotations

import numpy as np

from digitpad import steps
from digitpad.images import to_pixels
from digitpad.steps import StepRecorder


def test_each_stage_gives_a_uint8_image_and_its_caption():
    recorder = StepRecorder()
    grey = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    mask = grey > 0.5
    final = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    recorder.seen(grey)
    recorder.ink(mask)
    recorder.cropped(mask)
    recorder.boxed(grey, 0)
    recorder.centred(final)
    images = [s.image for s in recorder.steps]
    assert [s.caption for s in recorder.steps] == [
        steps.SEEN,
        steps.INK,
        steps.CROPPED,
        steps.BOXED,
        steps.CENTRED,
    ]
    assert all(image.dtype == np.uint8 for image in images)
    np.testing.assert_array_equal(images[1], np.where(mask, 255, 0))
    assert images[0][0, 0] == 0 and images[0][-1, -1] == 255
    np.testing.assert_array_equal(images[4], to_pixels(final)), "the model's image, exactly"


def test_the_box_says_what_was_done_to_the_stroke():
    recorder = StepRecorder()
    for change in (-1, 1, 0):
        recorder.boxed(np.zeros((20, 20), np.float32), change)
    assert [s.caption for s in recorder.steps] == [steps.THINNED, steps.THICKENED, steps.BOXED]
