"""Train digitpad's CNN on MNIST, evaluate it once on the test set, and ship it.

    python train_model.py                              # download MNIST through Keras, train, save to assets/
    python train_model.py --data ../shared/data/mnist.npz   # offline: a Keras .npz or a folder of IDX files
    python train_model.py --arch tutorial --out runs/tutorial  # the tutorial CNN, same data and code
    python train_model.py --dry-run --out /tmp/smoke   # a few hundred images, one epoch
    python train_model.py --evaluate [--model PATH] [--data PATH] [--out DIR]  # re-evaluate a saved model
    python train_model.py --extra-data DIR --fine-tune [--model PATH] [--out DIR]  # fine-tune on your digits
    python train_model.py --extra-data DIR             # full training, your digits added to its training split

--fine-tune starts from --model (default: the shipped assets/digitpad.keras), holds out part of your
saved digits (DIR: a folder from `demo.py --collect DIR`, or a .npz from `python -m digitpad.collect
export`), trains a few epochs at a low learning rate on the rest mixed with MNIST, and reports
accuracy before and after on the MNIST test set and on the held-out digits. It writes the model,
metrics.json and fine_tune.json to runs/fine-tune/ unless --out says otherwise: never over the
shipped model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from digitpad import DEFAULT_MODEL_PATH
from digitpad.data import DataError
from digitpad.finetune import FineTuneConfig
from digitpad.model import ARCHITECTURES
from digitpad.predictor import ModelError
from digitpad.train import TrainConfig

DEFAULTS = TrainConfig()
FINE_TUNE = FineTuneConfig(extra_data="")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="Keras-layout .npz or folder of IDX files (default: download through keras.datasets.mnist)")
    parser.add_argument("--out", type=Path, default=None, help="where the model and report go (default: assets/; runs/evaluate/ with --evaluate; runs/fine-tune/ with --fine-tune)")
    parser.add_argument("--arch", choices=ARCHITECTURES, default=DEFAULTS.arch, help="network layout (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=None, help=f"maximum epochs (default: {DEFAULTS.epochs}; {FINE_TUNE.epochs} with --fine-tune)")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="default: %(default)s")
    parser.add_argument("--learning-rate", type=float, default=None, help=f"peak learning rate of the warm-up + cosine schedule (default: {DEFAULTS.learning_rate}; {FINE_TUNE.learning_rate}, cosine-decayed, with --fine-tune)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="default: %(default)s")
    parser.add_argument("--val-split", type=float, default=DEFAULTS.val_split, help="stratified validation fraction of the training set (default: %(default)s)")
    parser.add_argument("--patience", type=int, default=DEFAULTS.patience, help="early-stopping patience in epochs (default: %(default)s)")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument("--outliers", type=float, default=DEFAULTS.outliers, metavar="SHARE", help="drawings that are no digit (digitpad/outliers.py) added per training digit, so the model learns to be unsure of them; 0 turns it off (default: %(default)s)")
    parser.add_argument("--outlier-weight", type=float, default=DEFAULTS.outlier_weight, help="weight of the non-digits' loss term (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="smoke run: a few hundred images, one epoch")
    parser.add_argument("--evaluate", action="store_true", help="evaluate a saved model instead of training")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="model to evaluate with --evaluate, or to start from with --fine-tune (default: assets/digitpad.keras)")
    parser.add_argument("--extra-data", default=None, metavar="DIR", help="your saved digits (folder from demo.py --collect, or exported .npz): added to the training split, or fine-tuned on with --fine-tune")
    parser.add_argument("--fine-tune", action="store_true", help="fine-tune --model on --extra-data and report before/after (output: runs/fine-tune/ unless --out)")
    parser.add_argument("--holdout", type=float, default=FINE_TUNE.holdout_fraction, help="--fine-tune: share of your digits held out to measure (default: %(default)s)")
    parser.add_argument("--mnist-mix", type=int, default=FINE_TUNE.mnist_mix, help="--fine-tune: random MNIST training images mixed in so it does not forget MNIST (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.fine_tune and not args.extra_data:
        parser.error("--fine-tune needs --extra-data DIR (your saved digits)")
    if args.fine_tune and args.evaluate:
        parser.error("choose --fine-tune or --evaluate, not both")
    if not 0.0 < args.holdout < 1.0:
        parser.error(f"--holdout must be between 0 and 1, got {args.holdout}")
    if args.outliers < 0 or args.outlier_weight < 0:
        parser.error("--outliers and --outlier-weight must be 0 or more")
    if args.mnist_mix < 0:
        parser.error(f"--mnist-mix must be 0 or more, got {args.mnist_mix}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digitpad import train

    try:
        if args.evaluate:
            train.evaluate(args.model, args.data, args.out or Path("runs/evaluate"))
            return 0
        if args.fine_tune:
            from digitpad.finetune import fine_tune

            fine_tune(FineTuneConfig(
                extra_data=args.extra_data, model=str(args.model), data=args.data,
                out=str(args.out or FINE_TUNE.out), epochs=FINE_TUNE.epochs if args.epochs is None else args.epochs,
                batch_size=args.batch_size, learning_rate=FINE_TUNE.learning_rate if args.learning_rate is None else args.learning_rate,
                seed=args.seed, holdout_fraction=args.holdout, mnist_mix=args.mnist_mix, outliers=args.outliers,
                outlier_weight=args.outlier_weight,
                augment=not args.no_augment, dry_run=args.dry_run,
            ))
            return 0
        config = TrainConfig(
            arch=args.arch, epochs=DEFAULTS.epochs if args.epochs is None else args.epochs, batch_size=args.batch_size,
            learning_rate=DEFAULTS.learning_rate if args.learning_rate is None else args.learning_rate,
            seed=args.seed, val_split=args.val_split, augment=not args.no_augment, patience=args.patience,
            data=args.data, extra_data=args.extra_data, outliers=args.outliers, outlier_weight=args.outlier_weight,
            out=str(args.out or DEFAULTS.out), dry_run=args.dry_run,
        )
        train.train(config)
    except (DataError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
