"""Train digitpad's CNN on MNIST, evaluate it once on the test set, and ship it.

    python train_model.py                              # download MNIST through Keras, train, save to assets/
    python train_model.py --data ../shared/data/mnist.npz   # offline: a Keras .npz or a folder of IDX files
    python train_model.py --arch tutorial --out runs/tutorial  # the tutorial CNN, same data and code
    python train_model.py --dry-run --out /tmp/smoke   # a few hundred images, one epoch
    python train_model.py --evaluate [--model PATH] [--data PATH] [--out DIR]  # re-evaluate a saved model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from digitpad import DEFAULT_MODEL_PATH
from digitpad.data import DataError
from digitpad.model import ARCHITECTURES
from digitpad.train import TrainConfig

DEFAULTS = TrainConfig()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="Keras-layout .npz or folder of IDX files (default: download through keras.datasets.mnist)")
    parser.add_argument("--out", type=Path, default=None, help="where the model and report go (default: assets/; runs/evaluate/ with --evaluate)")
    parser.add_argument("--arch", choices=ARCHITECTURES, default=DEFAULTS.arch, help="network layout (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="maximum epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="default: %(default)s")
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS.learning_rate, help="peak learning rate of the warm-up + cosine schedule (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="default: %(default)s")
    parser.add_argument("--val-split", type=float, default=DEFAULTS.val_split, help="stratified validation fraction of the training set (default: %(default)s)")
    parser.add_argument("--patience", type=int, default=DEFAULTS.patience, help="early-stopping patience in epochs (default: %(default)s)")
    parser.add_argument("--no-augment", action="store_true", help="train without augmentation")
    parser.add_argument("--dry-run", action="store_true", help=f"smoke run: a few hundred images, one epoch")
    parser.add_argument("--evaluate", action="store_true", help="evaluate a saved model instead of training")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="model to evaluate with --evaluate (default: assets/digitpad.keras)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digitpad import train

    try:
        if args.evaluate:
            train.evaluate(args.model, args.data, args.out or Path("runs/evaluate"))
            return 0
        config = TrainConfig(
            arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
            seed=args.seed, val_split=args.val_split, augment=not args.no_augment, patience=args.patience,
            data=args.data, out=str(args.out or DEFAULTS.out), dry_run=args.dry_run,
        )
        train.train(config)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
