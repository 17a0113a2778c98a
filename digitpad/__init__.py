"""digitpad: a handwritten-digit recogniser that works on real drawings.

Three rooms; imports point from the wings to the core, never back, and never from one wing to
the other (tests/test_layout.py checks it):

The reading core, which every entry point uses:

- ``strokes``      the pad's value: strokes parsed, bounded and rendered
- ``images``       any image input (file, bytes, array, PIL, a drawing) read safely
- ``conversion``   ``to_mnist``: any input -> MNIST's 28x28 format (the one conversion)
- ``steps``        the conversion's intermediate images, captioned (``keep_steps=True``)
- ``verdict``      ten probabilities worded: "7, 98% sure", "not sure: 4 or 9?"
- ``numbers``      a drawing or photo of several digits split into them, the model judging
- ``predictor``    the model on LiteRT, loaded once; ``workers`` reads in processes beside it
- ``memory``       answers adapted to a person's labelled digits
- ``nearest``      the neighbour index beside a model: training digits by their features
- ``explain``      "Why this digit?": the steps, a faithful heat map, the nearest digits
- ``reading``      an input read, adapted and worded: what the app, API and command line give
- ``labelling``    a person's answer about an input, counted and, with a folder, saved
- ``tally``        how labelled digits went
- ``collection``   the saved-digit format: save, read back, export (``python -m digitpad.collection``)
- ``files``        atomic writes, hashes, ``metrics.json``, the model's save/load pair
- ``runtime``      TensorFlow, imported quietly
- ``predict``      the command line: ``python -m digitpad.predict IMAGE ...``

``training/`` (``train_model.py``): ``config``, ``data`` (MNIST), ``augment``, ``styles`` (the
world's digit styles), ``outliers`` (drawings that are no digit), ``model``, ``train``,
``finetune``, ``report`` and ``figures``, ``neighbours`` (the index explanations show), ``ship``.

``app/`` (``demo.py``): ``launch``, ``page``, ``events``, ``api``, ``serving``, ``sessions``,
``view``, ``guard``, ``gradio_internals`` (the one door to Gradio's internals), ``web/``.

Glossary, one name for one thing:

- a **Drawing** is the pad's strokes; an *input* is a drawing or an image;
- a **Conversion** is an input made MNIST-like: the 28x28 image, or why there is none;
- a **Prediction** is the model's ten probabilities for one 28x28 image, with its verdict line;
- a **Recognition** is what the model made of one input: the conversion's image, its
  Prediction and the features its classifier read (for a number, one per digit, each with its
  box; a **Piece** is a digit as the splitter cut it);
- a **Reading** is the answer a person is given: the Recognition adapted to their labels, worded;
  ``Reading.as_json()`` is the **ReadingJSON** every interface returns;
- a **Label** is a person's answer about one input; **Labelling** is what labelling did (its line
  and the Label counted), **LabellingJSON** its plain data;
- an **Explanation** is why the model read what it read in one input (digitpad.explain): its
  steps, heat map, rival, neighbours and the person's own near labels;
  ``Explanation.as_json()`` is its **ExplanationJSON**;
- a **Tally** counts labels; a **SavedDigit** is a label kept on disk in a collection folder.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "1.1.0"

REPO_DIR = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_DIR / "assets"
DEFAULT_MODEL_PATH = ASSETS_DIR / "digitpad.keras"
DEFAULT_METRICS_PATH = ASSETS_DIR / "metrics.json"
RUNS_DIR = REPO_DIR / "runs"  # where training, evaluation and fine-tuning write by default
