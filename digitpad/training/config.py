"""What determines a run: the frozen settings saved beside every model, and their defaults.

``train_model.py`` builds these from its flags with :func:`dataclasses.replace`, and the trainer
writes them into ``metrics.json`` (``config``), so any model in ``runs/`` or ``assets/`` can be
reproduced. The module imports nothing heavy: ``python train_model.py --help`` reads the
defaults from here without loading TensorFlow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from digitpad import DEFAULT_MODEL_PATH, RUNS_DIR

ARCHITECTURES = ("default", "tutorial")  # digitpad.training.model builds each

# --dry-run: a smoke run on a few hundred images, one epoch (what the tests and CI use).
DRY_RUN_TRAIN_IMAGES = 512
DRY_RUN_TEST_IMAGES = 300
DRY_RUN_NOT_DIGITS = 40  # per family in the report's not-a-digit check (500 otherwise)
DRY_RUN_STYLE_DIGITS = 5  # per style in the report's style check (200 otherwise)
DRY_RUN_MNIST_MIX = 256  # MNIST images mixed into a fine-tune


@dataclass(frozen=True)
class TrainConfig:
    """A training run from scratch: ``python train_model.py train``."""

    out: str = str(RUNS_DIR / "train")  # the model and its report; never assets/
    arch: str = "default"
    epochs: int = 16
    batch_size: int = 128
    learning_rate: float = 2e-3  # peak of the warm-up + cosine-decay schedule
    seed: int = 42
    val_split: float = 0.1
    augment: bool = True
    patience: int = 5  # early stopping on validation loss
    data: str | None = None  # None: keras.datasets.mnist (download)
    extra_data: str | None = None  # saved digits (folder or .npz) added to the training split
    styles: float = (
        0.15  # digits drawn on the pad (digitpad.training.styles) added, per training digit
    )
    outliers: float = (
        0.15  # non-digits (digitpad.training.outliers) added, per training digit; 0: none
    )
    outlier_weight: float = (
        0.5  # of their loss term (digitpad.training.model.outlier_exposure_loss)
    )
    dry_run: bool = False

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class FineTuneConfig:
    """A fine-tune on one person's digits: ``python train_model.py fine-tune``."""

    extra_data: str = ""  # collection folder or exported .npz (required)
    out: str = str(RUNS_DIR / "fine-tune")
    model: str = str(DEFAULT_MODEL_PATH)  # the model to start from
    data: str | None = None  # MNIST: None downloads through Keras, else .npz or IDX folder
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 1e-4  # start of a cosine decay; the full training peaks at 2e-3
    seed: int = 42
    holdout_fraction: float = 0.25  # of the person's digits, held out to measure
    mnist_mix: int = 6000  # random MNIST training images mixed into every epoch
    personal_share: float = 0.25  # the person's (repeated) digits' share of every epoch
    outliers: float = TrainConfig.outliers  # non-digits per image of the mix: it stays unsure
    outlier_weight: float = TrainConfig.outlier_weight
    augment: bool = True
    dry_run: bool = False  # a few hundred MNIST images and one epoch

    def to_json(self) -> dict:
        return {"fine_tune": True, **dataclasses.asdict(self)}
