"""Load the model once and predict: probabilities for the ten digits, and an honest verdict.

``Predictor.load()`` opens the ``.keras`` file in Keras safe mode, checks its SHA-256 against the
one recorded in the ``metrics.json`` beside it, and traces the model once into a concrete
TensorFlow function with a fixed input signature. Per request it is a direct call of that function
on a tensor (under a millisecond on a CPU), never ``model.predict`` (tens of milliseconds of
set-up per call). TensorFlow functions are safe to call from several threads at once, which is how
Gradio serves concurrent users.

``Predictor.recognise(source)`` is the one path from any input (sketchpad value, upload, file,
array) to a verdict: :func:`digitpad.preprocessing.to_mnist` then the model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad import DEFAULT_MODEL_PATH

log = logging.getLogger(__name__)

# A prediction is "sure" when the top probability is at least SURE_PROBABILITY and leads the
# runner-up by at least SURE_MARGIN. Chosen from the table scripts/benchmark_conversion.py
# prints for the 2,400 realistic inputs of scripts/make_eval_set.py (98.4% right overall) with
# the shipped model: at 0.90, 97.1% of the answers are sure and 99.4% of those are right (0.5%
# of all answers wrong but sure); 1.8% are right but "not sure". At 0.70 / 0.40 it was 98.8%
# sure, 99.0% of them right (1.0% wrong but sure). At 0.90 the margin is implied (the
# runner-up has at most 0.10); it is kept so that a lower probability keeps the second rule.
SURE_PROBABILITY = 0.90
SURE_MARGIN = 0.80
# Below this top probability the model spreads its answer over many digits, as it was trained to
# for drawings that are no digit (digitpad.outliers); the verdict then asks whether it is one.
DIGIT_LIKE = 0.5


def is_sure(probabilities: np.ndarray) -> np.ndarray:
    """The "sure" rule, for (..., 10) probabilities: top >= SURE_PROBABILITY and top minus the
    runner-up >= SURE_MARGIN. A bool array of the leading shape (a 0-d one for one image)."""
    ordered = np.sort(np.asarray(probabilities), axis=-1)
    top, second = ordered[..., -1], ordered[..., -2]
    return (top >= SURE_PROBABILITY) & (top - second >= SURE_MARGIN)


def serve_on_one_thread() -> None:
    """Give each model call one CPU thread (TensorFlow's intra-op pool of one).

    A 28x28 image is too small to split across threads: handing the work out costs more than it
    saves (``predict_batch`` on one image, p50 3.0 -> 1.8 ms, measured on this 2-core machine
    under load), and a server answers concurrent users on threads of its own anyway. Global to
    the process and only possible before TensorFlow runs anything, so the serving entry points
    (demo.py, ``python -m digitpad.predict``, the latency benchmark) call it first; the trainer
    does not.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow is already running: keep its pool
        log.info("TensorFlow already initialised; intra-op threads left at %d",
                 tf.config.threading.get_intra_op_parallelism_threads())


class ModelError(RuntimeError):
    """The model file is missing, corrupt or not the one recorded; the message says what to do."""


@dataclass(frozen=True)
class Prediction:
    """What the model says about one 28x28 image."""

    probabilities: np.ndarray  # (10,) float32, sums to 1

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])

    @property
    def sure(self) -> bool:
        return bool(is_sure(self.probabilities))

    @property
    def verdict(self) -> str:
        """"7, 98% sure", "not sure: 4 or 9?", or "not sure it is a digit: 4 or 9?" when no
        digit has even DIGIT_LIKE of the probability."""
        if self.sure:
            return f"{self.digit}, {self.confidence:.0%} sure"
        doubt = "not sure" if self.confidence >= DIGIT_LIKE else "not sure it is a digit"
        return f"{doubt}: {self.digit} or {self.runner_up}?"

    def as_label(self) -> dict[str, float]:
        """{"0": p0, ..., "9": p9}, the value gr.Label shows as confidence bars."""
        return {str(d): float(p) for d, p in enumerate(self.probabilities)}


@dataclass(frozen=True)
class Recognition:
    """The result of :meth:`Predictor.recognise`: what the model saw and what it said."""

    image: np.ndarray | None  # (28, 28) float32 in [0, 1], what the model received; None: no digit
    prediction: Prediction | None  # None when no digit was found
    message: str  # the verdict line, or why there is no digit

    @property
    def digit(self) -> int | None:
        return self.prediction.digit if self.prediction else None


def sha256_of(path: Path) -> str:
    from digitpad.report import sha256_file

    return sha256_file(path)


def recorded_sha256(model_path: Path) -> str | None:
    """The model SHA-256 recorded in the metrics.json beside the model, if there is one."""
    metrics = model_path.parent / "metrics.json"
    try:
        record = json.loads(metrics.read_text())
        if record.get("model", {}).get("file") == model_path.name:
            return record["model"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def load_keras_model(path: str | Path = DEFAULT_MODEL_PATH, *, verify: bool = True):
    """Open a ``.keras`` file in safe mode; with ``verify``, refuse one whose SHA-256 differs from
    the one recorded in the ``metrics.json`` beside it."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"No model at {path}. Create one with `python train_model.py` "
            f"(add --data PATH/mnist.npz when offline), or pass --model PATH."
        )
    if verify:
        expected = recorded_sha256(path)
        if expected is None:
            log.warning("no metrics.json beside %s records its SHA-256; loading it unchecked", path)
        elif sha256_of(path) != expected:
            raise ModelError(
                f"{path} does not match the SHA-256 recorded in {path.parent / 'metrics.json'}: it was "
                f"changed or damaged. Restore it (git checkout {path.name}), retrain with "
                f"`python train_model.py`, or skip the check with --no-verify-model."
            )
    import keras

    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # zip, JSON or weight errors from a damaged file
        raise ModelError(
            f"{path} is corrupt or not a Keras model ({type(error).__name__}: {error}). "
            f"Restore it, or retrain with `python train_model.py`."
        ) from error


class Predictor:
    """The model, loaded once and warmed up; thread-safe."""

    def __init__(self, model) -> None:
        import tensorflow as tf

        self.model = model
        self.input_shape = tuple(model.input_shape[1:])  # (28, 28)
        function = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec(shape=(None, *self.input_shape), dtype=tf.float32)],
        )
        # Traced now, not per user. The concrete function, called with a tensor, skips what a
        # tf.function does on every call before running the graph (bind the arguments, match
        # them to the signature, convert them): about 1.1 -> 0.8 ms for one image on this CPU.
        self._forward = function.get_concrete_function()
        self._to_tensor = tf.constant  # 20 us for one image; tf.convert_to_tensor takes 35
        self.predict_batch(np.zeros((1, *self.input_shape), np.float32))  # warm up the kernels

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, *, verify: bool = True) -> "Predictor":
        return cls(load_keras_model(path, verify=verify))

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities."""
        images = np.asarray(images, dtype=np.float32).reshape((-1, *self.input_shape))
        return self._forward(self._to_tensor(images)).numpy()

    def predict(self, image: np.ndarray) -> Prediction:
        """One (28, 28) float32 image in [0, 1] -> :class:`Prediction`."""
        return Prediction(self.predict_batch(image[None])[0])

    def recognise(self, source) -> Recognition:
        """Any input :func:`~digitpad.preprocessing.to_mnist` accepts -> :class:`Recognition`.

        Raises :class:`digitpad.preprocessing.ImageError` for input that is not a readable image.
        """
        from digitpad.preprocessing import to_mnist

        conversion = to_mnist(source)
        if conversion.image is None:
            return Recognition(image=None, prediction=None, message=conversion.reason)
        prediction = self.predict(conversion.image)
        return Recognition(image=conversion.image, prediction=prediction, message=prediction.verdict)
