"""Load the model once and predict: probabilities for the ten digits, and an honest verdict.

``Predictor.load()`` opens the ``.keras`` file (digitpad.files.load_keras_model: safe mode, the
SHA-256 checked against the ``metrics.json`` beside it), traces the model once into a TensorFlow
graph with a fixed input signature and converts that graph, in memory, for the LiteRT
interpreter (once, at start). Per request it is one interpreter call on one CPU thread, a
fraction of the traced TensorFlow function's time and far from ``model.predict``'s
(``python scripts/benchmark_conversion.py --latency-only`` measures all three). The interpreter
runs the same float32 weights (its outputs agree with the Keras model's, tests/test_predictor.py);
a lock makes it safe to call from the several threads Gradio serves users on.

``Predictor.recognise(source)`` is the one path from any input (a drawing, an upload, a file, an
array) to a verdict: :func:`digitpad.preprocessing.to_mnist`, then the model, then
digitpad.verdict's words.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitpad import DEFAULT_MODEL_PATH
from digitpad.data import NUM_CLASSES
from digitpad.files import load_keras_model
from digitpad.preprocessing import to_mnist
from digitpad.verdict import Prediction

# Larger batches are run in chunks of this many images (bounded memory for the activations).
MAX_BATCH = 512


@dataclass(frozen=True)
class Recognition:
    """The result of :meth:`Predictor.recognise`: what the model saw and what it said."""

    image: np.ndarray | None  # (28, 28) float32 in [0, 1], what the model received; None: no digit
    prediction: Prediction | None  # None when no digit was found
    message: str  # the verdict line, or why there is no digit

    @property
    def digit(self) -> int | None:
        return self.prediction.digit if self.prediction else None


class Predictor:
    """The model, loaded once, converted for LiteRT and warmed up; thread-safe."""

    def __init__(self, model: Any) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.model = model  # the Keras model, for training code and comparisons
        self.input_shape = tuple(model.input_shape[1:])  # (28, 28)
        # One CPU thread: a 28x28 image is too small to split, and the server answers concurrent
        # users on threads of its own. The interpreter runs in the calling thread, so no thread
        # pool has to wake up for it (TensorFlow's did, after other work).
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
        return np.concatenate(
            [self._invoke(images[i : i + MAX_BATCH]) for i in range(0, len(images), MAX_BATCH)]
        )

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

    def recognise(self, source: object) -> Recognition:
        """Any input :func:`~digitpad.preprocessing.to_mnist` accepts -> :class:`Recognition`.

        Raises :class:`digitpad.images.ImageError` for input that is not a readable image.
        """
        conversion = to_mnist(source)
        if conversion.image is None:
            return Recognition(image=None, prediction=None, message=conversion.reason)
        prediction = self.predict(conversion.image)
        return Recognition(
            image=conversion.image, prediction=prediction, message=prediction.verdict
        )


def _litert_model(model: Any) -> bytes:
    """The Keras model as a LiteRT flatbuffer, float32 weights as they are (no quantisation)."""
    import tensorflow as tf

    signature = tf.TensorSpec(shape=(None, *model.input_shape[1:]), dtype=tf.float32)
    forward = tf.function(lambda x: model(x, training=False), input_signature=[signature])
    variables = tf.Module()  # tracks the weights, so that the converter freezes their values
    variables.weights = [weight.value for weight in model.weights]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [forward.get_concrete_function()], variables
    )
    return converter.convert()
