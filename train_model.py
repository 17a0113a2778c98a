"""Train digitpad's CNN on MNIST, evaluate it, fine-tune it on your digits, and ship it.

    python train_model.py train --data ../shared/data/mnist.npz      # -> runs/train-<time>/
    python train_model.py train --arch tutorial --out runs/tutorial  # the tutorial CNN
    python train_model.py train --dry-run --data tests/data/mnist_sample.npz  # a smoke run
    python train_model.py evaluate [--model PATH] [--data PATH]      # re-measure a saved model
    python train_model.py fine-tune my_digits/ --data ../shared/data/mnist.npz  # your handwriting
    python train_model.py ship runs/NAME                             # replace the shipped model
    python train_model.py neighbours runs/NAME --data ../shared/data/mnist.npz  # rebuild its index

Without --data, MNIST is downloaded through keras.datasets.mnist. Every command writes into a
new folder under runs/ (or --out): the model, metrics.json, history.csv and the figures. Nothing
but `ship` writes into assets/, where the shipped model lives, and `ship` takes only a full run
measured on all of MNIST's test set. `python train_model.py COMMAND --help` lists each command's
flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from digitpad import DEFAULT_MODEL_PATH, RUNS_DIR
from digitpad.training.config import ARCHITECTURES, FineTuneConfig, TrainConfig

TRAIN, FINE_TUNE = TrainConfig(), FineTuneConfig()
DATA_HELP = (
    "Keras-layout .npz or folder of IDX files (default: download through keras.datasets.mnist)"
)


def default_out(command: str) -> str:
    """runs/<command>-<date>-<time>: a new folder for every run."""
    return str(RUNS_DIR / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}")


def add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="train a model from scratch and report on it")
    parser.add_argument("--data", default=None, help=DATA_HELP)
    parser.add_argument("--out", default=None, help="the run's folder (default: runs/train-<time>)")
    parser.add_argument(
        "--arch",
        choices=ARCHITECTURES,
        default=TRAIN.arch,
        help="network layout (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs", type=int, default=TRAIN.epochs, help="maximum epochs (default: %(default)s)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=TRAIN.batch_size, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=TRAIN.learning_rate,
        help="peak of the warm-up + cosine schedule (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=TRAIN.seed, help="(default: %(default)s)")
    parser.add_argument(
        "--val-split",
        type=float,
        default=TRAIN.val_split,
        help="stratified validation share of the training set (default: %(default)s)",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=TRAIN.patience,
        help="early-stopping patience in epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--no-augment", dest="augment", action="store_false", help="train without augmentation"
    )
    parser.add_argument(
        "--styles",
        type=float,
        default=TRAIN.styles,
        metavar="SHARE",
        help="digits drawn on the pad added per training digit, half in the styles MNIST lacks "
        "(digitpad/training/styles.py: slashed zeros, continental ones, ...); 0 turns it off "
        "(default: %(default)s)",
    )
    add_outlier_flags(parser, TRAIN)
    parser.add_argument(
        "--extra-data",
        default=None,
        metavar="DIGITS",
        help="your saved digits (a demo.py --collect folder or an exported .npz), "
        "added to the training split",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="smoke run: a few hundred images, one epoch"
    )


def add_fine_tune(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("fine-tune", help="fine-tune a trained model on your saved digits")
    parser.add_argument(
        "extra_data",
        metavar="DIGITS",
        help="your saved digits: a demo.py --collect folder or an exported .npz",
    )
    parser.add_argument(
        "--model",
        default=FINE_TUNE.model,
        help="the model to start from (default: the shipped one)",
    )
    parser.add_argument("--data", default=None, help=DATA_HELP)
    parser.add_argument(
        "--out", default=None, help="the run's folder (default: runs/fine-tune-<time>)"
    )
    parser.add_argument(
        "--epochs", type=int, default=FINE_TUNE.epochs, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=FINE_TUNE.batch_size, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=FINE_TUNE.learning_rate,
        help="start of a cosine decay (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=FINE_TUNE.seed, help="(default: %(default)s)")
    parser.add_argument(
        "--holdout",
        dest="holdout_fraction",
        type=float,
        default=FINE_TUNE.holdout_fraction,
        help="share of your digits held out to measure (default: %(default)s)",
    )
    parser.add_argument(
        "--mnist-mix",
        type=int,
        default=FINE_TUNE.mnist_mix,
        help="MNIST training images mixed in, so that it does not forget MNIST "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--no-augment", dest="augment", action="store_false", help="fine-tune without augmentation"
    )
    add_outlier_flags(parser, FINE_TUNE)
    parser.add_argument(
        "--dry-run", action="store_true", help="smoke run: a few hundred images, one epoch"
    )


def add_outlier_flags(
    parser: argparse.ArgumentParser, defaults: TrainConfig | FineTuneConfig
) -> None:
    parser.add_argument(
        "--outliers",
        type=float,
        default=defaults.outliers,
        metavar="SHARE",
        help="drawings that are no digit (digitpad/training/outliers.py) added per training image, "
        "so the model learns to be unsure of them; 0 turns it off (default: %(default)s)",
    )
    parser.add_argument(
        "--outlier-weight",
        type=float,
        default=defaults.outlier_weight,
        help="weight of the non-digits' loss term (default: %(default)s)",
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python train_model.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train(commands)
    evaluate = commands.add_parser("evaluate", help="re-measure a saved model on the test set")
    evaluate.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL_PATH, help="(default: the shipped model)"
    )
    evaluate.add_argument("--data", default=None, help=DATA_HELP)
    evaluate.add_argument(
        "--out", default=None, help="the report's folder (default: runs/evaluate-<time>)"
    )
    add_fine_tune(commands)
    ship = commands.add_parser("ship", help="replace the shipped model in assets/ with a run's")
    ship.add_argument("run", type=Path, help="the run's folder, e.g. runs/train-20261130-120000")
    ship.add_argument(
        "--index-only",
        action="store_true",
        help="ship only the neighbour index in RUN (from `neighbours MODEL --out RUN`) for the "
        "model already shipped",
    )
    add_neighbours(commands)
    args = parser.parse_args(argv)
    problem = check(args)
    if problem:
        parser.error(problem)
    return args


def add_neighbours(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "neighbours", help="(re)build the training digits a model's explanations show"
    )
    parser.add_argument(
        "target", metavar="RUN_OR_MODEL", type=Path, help="a run's folder, or a .keras file"
    )
    parser.add_argument("--data", default=None, help=DATA_HELP)
    parser.add_argument(
        "--out",
        default=None,
        help="write the index here instead of beside the model (needed for the shipped model)",
    )
    parser.add_argument("--seed", type=int, default=TRAIN.seed, help="(default: %(default)s)")


def check(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags, in one line, or None."""
    if getattr(args, "outliers", 0) < 0 or getattr(args, "outlier_weight", 0) < 0:
        return "--outliers and --outlier-weight must be 0 or more"
    if getattr(args, "styles", 0) < 0:
        return "--styles must be 0 or more"
    if args.command == "fine-tune" and not 0.0 < args.holdout_fraction < 1.0:
        return f"--holdout must be between 0 and 1, got {args.holdout_fraction}"
    if args.command == "fine-tune" and args.mnist_mix < 0:
        return f"--mnist-mix must be 0 or more, got {args.mnist_mix}"
    if args.command == "train" and not 0.0 < args.val_split < 1.0:
        return f"--val-split must be between 0 and 1, got {args.val_split}"
    return None


def config_from(
    args: argparse.Namespace, defaults: TrainConfig | FineTuneConfig
) -> TrainConfig | FineTuneConfig:
    """``defaults`` with every flag the command has; ``--out`` defaults to a new run folder."""
    flags = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(defaults)
        if hasattr(args, field.name)
    }
    flags["out"] = str(args.out or default_out(args.command))
    return dataclasses.replace(defaults, **flags)


def run(args: argparse.Namespace) -> None:
    if args.command == "train":
        from digitpad.training.train import train

        train(config_from(args, TRAIN))
    elif args.command == "fine-tune":
        from digitpad.training.finetune import fine_tune

        fine_tune(config_from(args, FINE_TUNE))
    elif args.command == "evaluate":
        from digitpad.training.train import evaluate

        evaluate(args.model, args.data, Path(args.out or default_out("evaluate")))
    elif args.command == "neighbours":
        from digitpad.training.neighbours import rebuild

        rebuild(args.target, args.data, args.out, args.seed)
    elif args.index_only:
        from digitpad.training.ship import ship_index

        print("\n".join(ship_index(args.run)))
    else:
        from digitpad.training.ship import ship

        print("\n".join(ship(args.run)))
        print("the shipped model is now this run's: check with `git status assets/` and commit it")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digitpad.files import DataError, ModelError, OutputError
    from digitpad.runtime import import_tensorflow

    import_tensorflow()  # quietly: every command needs it, and its import is noisy on a CPU
    try:
        run(args)
    except (DataError, ModelError, OutputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
