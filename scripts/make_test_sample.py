"""Write tests/data/mnist_sample.npz: a small, real, stratified slice of MNIST for the tests.

    python scripts/make_test_sample.py --data ../shared/data/mnist.npz

600 training images (60 per digit) and 500 test images (50 per digit), Keras layout, chosen with
a fixed seed. The tests use it whenever the full copy is not given through DIGITPAD_MNIST.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from digitpad.files import save_npz
from digitpad.training.data import load_mnist  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="full MNIST (.npz or IDX folder)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "tests/data/mnist_sample.npz",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    mnist = load_mnist(args.data)
    rng = np.random.default_rng(args.seed)

    def pick(labels: np.ndarray, per_class: int) -> np.ndarray:
        return np.sort(
            np.concatenate(
                [
                    rng.choice(np.flatnonzero(labels == d), per_class, replace=False)
                    for d in range(10)
                ]
            )
        )

    tr, te = pick(mnist.y_train, 60), pick(mnist.y_test, 50)
    save_npz(
        args.out,
        {
            "x_train": mnist.x_train[tr],
            "y_train": mnist.y_train[tr],
            "x_test": mnist.x_test[te],
            "y_test": mnist.y_test[te],
        },
    )
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB): {len(tr)} train, {len(te)} test images"
    )


if __name__ == "__main__":
    main()
