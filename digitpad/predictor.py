"""Load the model once and predict: probabilities for the ten digits, and an honest verdict.

``Predictor.load()`` opens the ``.keras`` file in Keras safe mode, checks its SHA-256 against the
one recorded in the ``metrics.json`` beside it, traces the model once into a TensorFlow graph with
a fixed input signature and converts that graph, in memory, for the LiteRT interpreter (about a
second, once). Per request it is one interpreter call on one CPU thread: about 0.4 ms for one
image on this CPU, against 1.4 ms for the traced TensorFlow function and tens of milliseconds for
``model.predict`` (scripts/benchmark_conversion.py --latency-only). The interpreter runs the same float32 weights (outputs agree with the Keras
model to 1e-6); a lock makes it safe to call from the several threads Gradio serves users on.

``Predictor.recognise(source)`` is the one path from any input (sketchpad value, upload, file,
array) to a verdict: :func:`digitpad.preprocessing.to_mnist` then the model.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad import DEFAULT_MODEL_PATH
from digitpad.data import NUM_CLASSES

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
# Larger batches are run in chunks of this many images (bounded memory for the activations).
MAX_BATCH = 512


def is_sure(probabilities: np.ndarray) -> np.ndarray:
    """The "sure" rule, for (..., 10) probabilities: top >= SURE_PROBABILITY and top minus the
    runner-up >= SURE_MARGIN. A bool array of the leading shape (a 0-d one for one image)."""
    ordered = np.sort(np.asarray(probabilities), axis=-1)
    top, second = ordered[..., -1], ordered[..., -2]
    return (top >= SURE_PROBABILITY) & (top - second >= SURE_MARGIN)


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
    """The model, loaded once, converted for LiteRT and warmed up; thread-safe."""

    def __init__(self, model) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.model = model  # the Keras model, for training code and comparisons
        self.input_shape = tuple(model.input_shape[1:])  # (28, 28)
        # One CPU thread: a 28x28 image is too small to split, and the server answers concurrent
        # users on threads of its own. The interpreter runs in the calling thread, so no thread
        # pool has to wake up for it (TensorFlow's did: ~0.8 ms per call after other work).
        self._interpreter = Interpreter(model_content=_litert_model(model), num_threads=1)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0  # the batch size the interpreter's tensors are allocated for
        self._lock = threading.Lock()  # one interpreter: one call at a time
        self.predict_batch(np.zeros((1, *self.input_shape), np.float32))  # allocate, warm up

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, *, verify: bool = True) -> "Predictor":
        return cls(load_keras_model(path, verify=verify))

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities."""
        images = np.asarray(images, dtype=np.float32).reshape((-1, *self.input_shape))
        if len(images) == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        if len(images) <= MAX_BATCH:  # one call, as for the app's one image
            return self._invoke(images)
        return np.concatenate([self._invoke(images[i: i + MAX_BATCH])
                               for i in range(0, len(images), MAX_BATCH)])

    def _invoke(self, images: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter
        with self._lock:
            if len(images) != self._batch:  # the app's batch of one stays allocated
                interpreter.resize_tensor_input(self._input, images.shape)
                interpreter.allocate_tensors()
                self._batch = len(images)
            interpreter.set_tensor(self._input, np.ascontiguousarray(images))
            interpreter.invoke()
            return interpreter.get_tensor(self._output)  # a copy: the next call cannot change it

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


def _litert_model(model) -> bytes:
    """The Keras model as a LiteRT flatbuffer, float32 weights as they are (no quantisation)."""
    import tensorflow as tf

    signature = tf.TensorSpec(shape=(None, *model.input_shape[1:]), dtype=tf.float32)
    forward = tf.function(lambda x: model(x, training=False), input_signature=[signature])
    variables = tf.Module()  # tracks the weights, so that the converter freezes their values
    variables.weights = [weight.value for weight in model.weights]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [forward.get_concrete_function()], variables)
    return converter.convert()
