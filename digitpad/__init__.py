"""digitpad: a handwritten-digit recogniser that works on real drawings.

Modules, in the order data flows through them:

- ``data``           load MNIST (Keras download, ``.npz`` or IDX files), validate, split
- ``augment``        training-time augmentation built for how people draw
- ``outliers``       drawings that are no digit, trained on so the model is unsure of them
- ``model``          the CNN architectures (``default`` and ``tutorial``)
- ``train``          fit, checkpoint, evaluate once on the test set
- ``report``         ``metrics.json``, figures and the printed classification report
- ``preprocessing``  any canvas, photo, array or file -> MNIST's 28x28 format
- ``predictor``      load the model once, predict, say "not sure" when unsure
- ``predict``        command line: ``python -m digitpad.predict IMAGE ...``
- ``pad``            the drawing pad: a canvas that sends strokes; their rendering
- ``app``            the Gradio app served by ``demo.py``
- ``collect``        people's labelled digits: atomic saves, tally, export (``--collect DIR``)
- ``finetune``       fine-tune on those digits, before/after report (``--fine-tune``)
"""

from __future__ import annotations

from pathlib import Path

__version__ = "1.0.0"

REPO_DIR = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_DIR / "assets"
DEFAULT_MODEL_PATH = ASSETS_DIR / "digitpad.keras"
DEFAULT_METRICS_PATH = ASSETS_DIR / "metrics.json"
RUNS_DIR = REPO_DIR / "runs"  # where training, evaluation and fine-tuning write by default
