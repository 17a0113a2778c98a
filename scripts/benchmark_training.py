"""Training and batched-inference speed of both architectures on this machine.

    python scripts/benchmark_training.py --data ../shared/data/mnist.npz [--out bench_out/training.json]

For each architecture: images per second for training (augmented batches of 128, the default
pipeline, after a warm-up epoch slice), images per second for batched inference (batches of
1000), the parameter count and the size of the saved ``.keras`` file; plus the projected time of
one default training epoch. Run it on an otherwise idle machine: other work on the cores skews it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from digitpad.training.augment import make_dataset  # noqa: E402
from digitpad.training.config import TrainConfig  # noqa: E402
from digitpad.training.data import load_mnist  # noqa: E402
from digitpad.training.model import ARCHITECTURES, build_model, compile_model  # noqa: E402
from digitpad.training.report import measure_inference_speed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=None, help="MNIST .npz or IDX folder (default: Keras download)"
    )
    parser.add_argument(
        "--images",
        type=int,
        default=6400,
        help="training images timed per architecture (default: %(default)s)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="also write the results as JSON here"
    )
    args = parser.parse_args()

    import keras

    keras.utils.set_random_seed(0)
    config = TrainConfig()
    mnist = load_mnist(args.data)
    x, y = mnist.x_train[: args.images], mnist.y_train[: args.images]
    results = {}
    for arch in ARCHITECTURES:
        model = compile_model(build_model(arch), config.learning_rate, config.outlier_weight)
        dataset = make_dataset(x, y, config.batch_size, shuffle=True, augment=True, seed=0)
        model.fit(dataset.take(5), epochs=1, verbose=0)  # build, trace, warm the pipeline
        started = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        train_ips = len(x) / (time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.keras"
            build_model(arch).save(path)
            size = path.stat().st_size
        results[arch] = {
            "parameters": int(model.count_params()),
            "model_bytes": size,
            "train_images_per_second": round(train_ips, 1),
            "inference_images_per_second": measure_inference_speed(model, mnist.x_test),
            "projected_epoch_seconds": round(54000 / train_ips, 1),
        }
    results["machine"] = {"cpus": os.cpu_count()}

    print(
        f"{'arch':<10}{'params':>10}{'file MB':>9}{'train img/s':>13}{'infer img/s':>13}{'s/epoch (54k)':>15}"
    )
    for arch in ARCHITECTURES:
        r = results[arch]
        print(
            f"{arch:<10}{r['parameters']:>10,}{r['model_bytes'] / 1e6:>9.2f}{r['train_images_per_second']:>13,.0f}"
            f"{r['inference_images_per_second']:>13,.0f}{r['projected_epoch_seconds']:>15.0f}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
