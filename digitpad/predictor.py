"""Load the model once and predict: probabilities for the ten digits, and an honest verdict.

``Predictor.load()`` runs the model on the LiteRT interpreter. The shipped model comes with its
LiteRT file (``digitpad.tflite``, written by ``train_model.py ship``): when that file and the
``.keras`` are the pair the ``metrics.json`` beside them records (SHA-256), it is loaded as it is,
without importing TensorFlow, so the app and the command line start in a fraction of the time.
Any other model (a run in ``runs/``) is opened in Keras safe mode, checked the same way, and
converted in memory (digitpad.files.litert_model). Per request it is one interpreter call on one
CPU thread, a fraction of a traced TensorFlow function's time and far from ``model.predict``'s
(``python scripts/benchmark_conversion.py --latency-only`` measures all three). The interpreter
runs the same float32 weights (its outputs agree with the Keras model's, tests/test_predictor.py);
a lock makes it safe to call from the several threads Gradio serves users on. Besides the ten
probabilities it returns the features the classifier reads (the layer before it), which
digitpad.memory compares to learn a person's hand.

``Predictor.recognise(source)`` is the one path from any input (a drawing, an upload, a file, an
array) to a verdict: :func:`digitpad.conversion.to_mnist`, then the model, then
digitpad.verdict's words.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from digitpad import DEFAULT_MODEL_PATH
from digitpad.conversion import Conversion, to_mnist
from digitpad.files import (
    LITERT_FILENAME,
    litert_model,
    load_keras_model,
    recorded_sha256,
    sha256_file,
)
from digitpad.images import ImageError, as_image
from digitpad.numbers import Box, Piece, TooManyDigits, split_drawing, split_image
from digitpad.runtime import quiet_native_output
from digitpad.strokes import Drawing
from digitpad.verdict import NUM_CLASSES, Prediction
from digitpad.workers import Workers, WorkerStopped

# Larger batches are run in chunks of this many images (bounded memory for the activations).
MAX_BATCH = 512
NO_INK = "no digit found"  # a number's piece with no ink left to read
# A drawing is split into digits (digitpad.numbers) only when its marks stand apart side by side,
# or when it is this much wider than tall: one digit, the pad's usual input, is read whole.
WIDE_DRAWING = 1.2
# Beside one digit, marks that read as no digit and are less than this share of its height (a
# stray dot, specks) leave it one digit, read whole as before; a taller one is a "?" in a number.
SMALL_MARK = 0.5


@dataclass(frozen=True)
class Recognition:
    """The result of :meth:`Predictor.recognise`: what the model saw and what it said."""

    image: np.ndarray | None  # (28, 28) float32 in [0, 1], what the model received; None: no digit
    prediction: Prediction | None  # None when no digit was found
    message: str  # the verdict line, or why there is no digit
    features: np.ndarray | None = None  # (F,) float32: what the classifier read
    error: ImageError | None = None  # the input is not a readable image (recognise_many)
    box: Box | None = None  # where it is: pad fractions for a drawing, pixels for an image
    digits: tuple[Recognition, ...] = ()  # a number's digits, left to right: two or more
    source: object = field(default=None, repr=False)  # a number's digit: its strokes or crop
    clear: bool = True  # a number's digit: the split around it beat every other clearly

    @property
    def digit(self) -> int | None:
        return self.prediction.digit if self.prediction else None


class Predictor:
    """The model on the LiteRT interpreter, loaded once and warmed up; thread-safe."""

    def __init__(
        self, litert: bytes, keras_model: Any = None, keras_path: Path | None = None
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        # One CPU thread: a 28x28 image is too small to split, and the server answers concurrent
        # users on threads of its own. The interpreter runs in the calling thread, so no thread
        # pool has to wake up for it (TensorFlow's did, after other work).
        with quiet_native_output():  # no "Created TensorFlow Lite XNNPACK delegate" line
            self._interpreter = Interpreter(model_content=litert, num_threads=1)
            self._interpreter.allocate_tensors()
        details = self._interpreter.get_input_details()[0]
        self._input = details["index"]
        self.input_shape = tuple(int(n) for n in details["shape"][1:])  # (28, 28)
        outputs = self._interpreter.get_output_details()
        by_width = {int(o["shape"][-1]): o["index"] for o in outputs}
        self._probabilities = by_width.pop(NUM_CLASSES)
        self._features = next(iter(by_width.values())) if by_width else None
        self._keras, self._keras_path = keras_model, keras_path
        self._litert = litert
        self._workers: Workers | None = None  # start_workers(): readings in other processes
        self._batch = 0  # the batch size the interpreter's tensors are allocated for
        self._lock = threading.Lock()  # one interpreter: one call at a time
        self.predict_batch(np.zeros((1, *self.input_shape), np.float32))  # allocate, warm up

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH, *, verify: bool = True) -> Predictor:
        """The model at ``path`` (a ``.keras`` file), checked against its ``metrics.json`` unless
        ``verify`` is False; from its LiteRT file when it has the recorded one."""
        path = Path(path)
        litert = path.with_name(LITERT_FILENAME)
        if is_recorded_pair(path, litert):
            return cls(litert.read_bytes(), keras_path=path)
        model = load_keras_model(path, verify=verify)
        return cls(litert_model(model), keras_model=model, keras_path=path)

    @classmethod
    def from_keras(cls, model: Any) -> Predictor:
        """A Keras model in memory (a test's, a fine-tune's), converted for the interpreter."""
        return cls(litert_model(model), keras_model=model)

    @property
    def model_path(self) -> Path | None:
        """The ``.keras`` file served (what digitpad.nearest checks its index against); None for
        a model given in memory (:meth:`from_keras`)."""
        return self._keras_path

    @property
    def model(self) -> Any:
        """The Keras model, for training code and comparisons (loaded on first use)."""
        if self._keras is None:
            self._keras = load_keras_model(self._keras_path, verify=False)  # checked at load
        return self._keras

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities."""
        return self.predict_with_features(images)[0]

    def predict_with_features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities and (N, F) features."""
        images = np.asarray(images, dtype=np.float32).reshape((-1, *self.input_shape))
        if len(images) == 0:
            return np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, 0), np.float32)
        chunks = [self._invoke(images[i : i + MAX_BATCH]) for i in range(0, len(images), MAX_BATCH)]
        if len(chunks) == 1:  # the app's one image: no copies
            return chunks[0]
        return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])

    def _invoke(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interpreter = self._interpreter
        with self._lock:
            if len(images) != self._batch:  # the app's batch of one stays allocated
                interpreter.resize_tensor_input(self._input, images.shape)
                interpreter.allocate_tensors()
                self._batch = len(images)
            interpreter.set_tensor(self._input, np.ascontiguousarray(images))
            interpreter.invoke()
            probabilities = interpreter.get_tensor(self._probabilities)  # copies: the next call
            features = (
                interpreter.get_tensor(self._features)
                if self._features is not None
                else np.zeros((len(images), 0), np.float32)
            )  # cannot change them
            return probabilities, features

    def predict(self, image: np.ndarray) -> Prediction:
        """One (28, 28) float32 image in [0, 1] -> :class:`Prediction`."""
        return Prediction(self.predict_batch(image[None])[0])

    def recognise(self, source: object) -> Recognition:
        """Any input :func:`~digitpad.conversion.to_mnist` accepts -> :class:`Recognition`.

        Raises :class:`digitpad.images.ImageError` for input that is not a readable image.
        """
        (recognition,) = self.recognise_many([source])
        if recognition.error is not None:
            raise recognition.error
        return recognition

    def recognise_many(self, sources: Sequence[object]) -> list[Recognition]:
        """Each input converted, then every digit found read in one batch (the same answers as
        one at a time); in the worker processes when they are started, spread over them. An
        input that is not a readable image gets a Recognition that holds the
        :class:`digitpad.images.ImageError` saying why (``error``)."""
        if self._workers is None or not sources:
            return self.recognise_here(sources)
        size = -(-len(sources) // self._workers.count)
        parts = [(sources[i : i + size],) for i in range(0, len(sources), size)]
        try:
            return [r for part in self._workers.map("recognise_here", parts) for r in part]
        except WorkerStopped:
            problem = ImageError("reading it stopped the reader; send it again, or another one")
            return [Recognition(None, None, str(problem), error=problem) for _ in sources]

    def recognise_here(self, sources: Sequence[object]) -> list[Recognition]:
        """:meth:`recognise_many` in this process: each input read as one digit, all in one
        batch; then each that may hold several digits split into them (digitpad.numbers), and
        read as a number when it does."""
        recognitions = self.recognise_whole(sources)
        for i, (source, whole) in enumerate(zip(sources, recognitions)):
            if whole.error is None and may_hold_several(source):
                recognitions[i] = self.recognise_number(source, whole)
            elif isinstance(source, Drawing) and whole.image is not None:
                points = np.concatenate(source.strokes)
                box = (*points.min(axis=0).tolist(), *points.max(axis=0).tolist())
                recognitions[i] = replace(whole, box=tuple(box))
        return recognitions

    def recognise_number(self, source: object, whole: Recognition) -> Recognition:
        """``source`` split into its digits (digitpad.numbers): a Recognition with one per mark
        (``digits``, "?" for a mark that is no digit) when two or more read as digits, or why
        there is none; else ``whole``, what it reads as one digit, with its box."""
        try:
            pieces = split_into_digits(self, source)
        except TooManyDigits as error:
            return Recognition(None, None, str(error))
        if reads_as_one_digit(pieces):
            digits = [p for p in pieces if p.is_digit]
            return replace(whole, box=(digits or pieces)[0].box) if pieces else whole
        found = [p for p in pieces if p.image is not None]
        _, features = self.predict_with_features(np.stack([p.image for p in found]))
        by_piece = dict(zip(map(id, found), features))
        digits = tuple(
            Recognition(
                p.image,
                p.prediction,
                p.prediction.verdict if p.prediction else NO_INK,
                by_piece.get(id(p)),
                box=p.box,
                source=p.source,
                clear=p.clear,
            )
            for p in pieces
        )
        return Recognition(None, None, "".join(p.text for p in pieces), digits=digits)

    def recognise_whole(self, sources: Sequence[object]) -> list[Recognition]:
        """Each input converted and read as one digit, every digit found in one batch."""
        conversions = []
        for source in sources:
            try:
                conversions.append(to_mnist(source))
            except ImageError as error:
                conversions.append(error)
        found = [
            i
            for i, c in enumerate(conversions)
            if isinstance(c, Conversion) and c.image is not None
        ]
        images = np.stack([conversions[i].image for i in found]) if found else np.zeros((0, 28, 28))
        probabilities, features = self.predict_with_features(images)
        recognitions = [
            Recognition(None, None, str(c), error=c)
            if isinstance(c, ImageError)
            else Recognition(None, None, c.reason)
            for c in conversions
        ]
        for row, i in enumerate(found):
            prediction = Prediction(probabilities[row])
            recognitions[i] = Recognition(
                conversions[i].image, prediction, prediction.verdict, features[row]
            )
        return recognitions

    def start_workers(self, count: int) -> None:
        """From now on, read (convert and predict) in ``count`` worker processes, each with its
        own copy of this model: the calling process keeps its cores' time for serving."""
        self.close()
        self._workers = Workers(Predictor, (self._litert,), count)

    def close(self) -> None:
        """Stop the worker processes, if any; reading goes on in this process."""
        workers, self._workers = self._workers, None
        if workers is not None:
            workers.close()


def is_recorded_pair(model: Path, litert: Path) -> bool:
    """Both files exist and are the pair the metrics.json beside them records (SHA-256).
    Otherwise the model is opened from its ``.keras`` file, with that file's checks."""
    if not (model.is_file() and litert.is_file()):
        return False
    expected = recorded_sha256(litert)
    return (
        expected is not None
        and expected == sha256_file(litert)
        and recorded_sha256(model) == sha256_file(model)
    )


def may_hold_several(source: object) -> bool:
    """Whether an input may hold several digits, and so is worth splitting: any image, and a
    drawing whose strokes stand apart side by side, or that is much wider than tall. One digit,
    the pad's usual input, is read whole, as it was (docs/measurements.md, "Reading numbers",
    measures this rule against splitting more drawings)."""
    if not isinstance(source, Drawing):
        return True
    points = np.concatenate(source.strokes)
    if np.ptp(points[:, 0]) > WIDE_DRAWING * max(float(np.ptp(points[:, 1])), 1e-6):
        return True
    spans = sorted((float(s[:, 0].min()), float(s[:, 0].max())) for s in source.strokes)
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start > reach:
            return True  # a gap: marks side by side
        reach = max(reach, end)
    return False


def split_into_digits(predictor: Predictor, source: object) -> list[Piece]:
    """An input's digits, left to right (digitpad.numbers); raises TooManyDigits."""
    if isinstance(source, Drawing):
        return split_drawing(predictor, source)
    image = as_image(source)
    return [] if image is None else split_image(predictor, image)


def reads_as_one_digit(pieces: Sequence[Piece]) -> bool:
    """Whether a split is one digit after all: no piece reads as a digit, or one does and every
    other is a small mark (SMALL_MARK of its height: a stray dot, specks) that reads as none."""
    digits = [p for p in pieces if p.is_digit]
    if len(digits) != 1:
        return len(digits) == 0
    height = digits[0].box[3] - digits[0].box[1]
    return all(p.box[3] - p.box[1] < SMALL_MARK * height for p in pieces if not p.is_digit)
