"""File plumbing, in one place: atomic writes, hashes, ``metrics.json``, and the model's
save/load pair.

- :func:`write_atomic` writes a file so that a reader sees the old file or the whole new one,
  never half of it (a temporary file in the same folder, flushed to disk, then renamed); every
  file the project writes goes through it (or, for Keras' own writer, the same rename):
  saved digits, reports, figures, the model.
- :func:`save_for_serving` and :func:`load_keras_model` are the model's pair: the trainer saves
  with the first, everything that evaluates a model opens it with the second, in Keras safe mode
  and checked against the SHA-256 that the ``metrics.json`` beside it records.
- :func:`litert_model` converts a model for the LiteRT interpreter, with the features the
  classifier reads as a second output (digitpad.training.ship ships it beside the model).
- :func:`output_folder` is where a run may write: anywhere but ``assets/``, which holds the
  shipped model and changes only through ``python train_model.py ship``.

Keras is imported inside the two model functions only: reading JSON or hashing a file stays
cheap for the app and the command lines.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from digitpad import ASSETS_DIR
from digitpad.runtime import import_tensorflow

log = logging.getLogger(__name__)

MODEL_FILENAME = "digitpad.keras"
LITERT_FILENAME = "digitpad.tflite"  # the same model for the LiteRT interpreter (serving)
METRICS_FILENAME = "metrics.json"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")  # a Keras-layout .npz, as MNIST's
FULL_TEST_SET = 10_000  # MNIST's test images: a model is measured, and ships, only on all of them


class DataError(ValueError):
    """The data could not be loaded or is not MNIST-shaped; the message says what to do."""


class ModelError(RuntimeError):
    """The model file is missing, corrupt or not the one recorded; the message says what to do."""


class OutputError(ValueError):
    """A run was asked to write where it must not; the message says where to write instead."""


# --- writing ----------------------------------------------------------------------------------


def write_atomic(path: str | Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path``: readers see the old file, or the whole new one.

    The bytes go to a hidden temporary file beside ``path``, are flushed to disk (fsync) and
    renamed into place (``os.replace``, atomic on one file system); on any error the temporary
    file is removed. ``private`` files are readable by their owner only (people's drawings);
    others get the usual 0644.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if not private:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, record: Any) -> None:
    """``record`` as indented JSON, written atomically."""
    write_atomic(path, (json.dumps(record, indent=2) + "\n").encode())


def fsync_dir(folder: str | Path) -> None:
    """Make the renames in ``folder`` durable too (POSIX); a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def output_folder(out: str | Path) -> Path:
    """``out``, created, for a run's model and report. Raises :class:`OutputError` for a folder
    inside ``assets/`` (the shipped model is replaced only by ``train_model.py ship``) and for one
    that already holds a model (a run is never overwritten)."""
    out = Path(out).expanduser().resolve()
    if out == ASSETS_DIR or ASSETS_DIR in out.parents:
        raise OutputError(
            f"{out} is inside {ASSETS_DIR}, which holds the shipped model: write the run "
            f"elsewhere (the default is runs/), then ship it with `python train_model.py ship DIR`."
        )
    if (out / MODEL_FILENAME).exists():
        raise OutputError(
            f"{out} already holds a model; pass another --out (runs are never overwritten)."
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


# --- reading ----------------------------------------------------------------------------------


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: str | Path) -> dict | None:
    """A JSON object from ``path``, or None when it is missing or not JSON (logged)."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        log.warning("cannot read %s: %s", path, error)
        return None
    return record if isinstance(record, dict) else None


def recorded_sha256(model_path: str | Path) -> str | None:
    """The SHA-256 recorded for this model file (the ``.keras`` or its ``.tflite``) in the
    ``metrics.json`` beside it, if there is one."""
    model_path = Path(model_path)
    metrics = model_path.parent / METRICS_FILENAME
    if not metrics.is_file():
        return None
    record = (read_json(metrics) or {}).get("model")
    if not isinstance(record, dict):
        return None
    for entry in (record, record.get("litert")):
        if isinstance(entry, dict) and entry.get("file") == model_path.name:
            return entry.get("sha256")
    return None


def file_record(path: str | Path) -> dict:
    """What metrics.json records of a model file: its name, SHA-256 and size."""
    path = Path(path)
    return {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size}


# --- the model's pair ---------------------------------------------------------------------------


def save_for_serving(model: Any, path: str | Path) -> Any:
    """Save ``model``'s weights in a fresh, uncompiled copy at ``path``; return that copy.

    The file carries no optimizer state (it would triple its size) and loads in safe mode without
    custom objects. It is written beside ``path`` and renamed into place, so a crash never leaves
    a half-written model where the app looks for one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    serving = type(model).from_config(model.get_config())  # not clone_model: no compile config
    serving.set_weights(model.get_weights())
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")  # Keras wants the suffix
    try:
        serving.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return serving


def litert_model(model: Any) -> bytes:
    """The Keras model as a LiteRT flatbuffer with two outputs: the probabilities (N, 10) and the
    features the classifier reads (N, F), the layer before it. Float32 weights as they are, no
    quantisation: the interpreter computes what Keras computes (tests/test_predictor.py)."""
    tf = import_tensorflow()
    import keras

    both = keras.Model(model.input, [model.output, model.get_layer("probabilities").input])
    signature = tf.TensorSpec(shape=(None, *model.input_shape[1:]), dtype=tf.float32)
    forward = tf.function(lambda x: both(x, training=False), input_signature=[signature])
    variables = tf.Module()  # tracks the weights, so that the converter freezes their values
    variables.weights = [weight.value for weight in model.weights]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [forward.get_concrete_function()], variables
    )
    return converter.convert()


def load_keras_model(path: str | Path, *, verify: bool = True) -> Any:
    """Open a ``.keras`` file in safe mode; with ``verify``, refuse one whose SHA-256 differs from
    the one recorded in the ``metrics.json`` beside it. Raises :class:`ModelError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"No model at {path}. Create one with `python train_model.py train` "
            f"(add --data PATH/mnist.npz when offline), or pass --model PATH."
        )
    if path.suffix != ".keras":
        raise ModelError(
            f"{path} is not a .keras model; pass the digitpad.keras a `train_model.py` run saved."
        )
    if verify:
        expected = recorded_sha256(path)
        if expected is None:
            log.warning("no metrics.json beside %s records its SHA-256; loading it unchecked", path)
        elif sha256_file(path) != expected:
            raise ModelError(
                f"{path} does not match the SHA-256 recorded in {path.parent / METRICS_FILENAME}: "
                f"it was changed or damaged. Restore it (git checkout {path.name}), retrain with "
                f"`python train_model.py train`, or skip the check with --no-verify-model."
            )
    import_tensorflow()
    import keras

    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # zip, JSON or weight errors from a damaged file
        raise ModelError(
            f"{path} is corrupt or not a Keras model ({type(error).__name__}); "
            f"restore it, or retrain with `python train_model.py train`."
        ) from error


# --- arrays ---------------------------------------------------------------------------------


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a Keras-layout .npz (compressed), atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{key: arrays[key] for key in NPZ_KEYS})
    write_atomic(path, buffer.getvalue())
