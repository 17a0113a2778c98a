"""Importing TensorFlow without the noise a CPU machine gets from it.

On a machine without a GPU, the usual case here, importing TensorFlow prints "Could not find
cuda drivers", "failed call to cuInit: ... CUDA error" and a note on oneDNN: alarming, and
nothing to act on. Its C++ code writes them to the process's standard error before any logging
is set up, so ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them. :func:`import_tensorflow`
imports it once with file descriptor 2 pointed at /dev/null (an import that fails still raises,
with its message, once standard error is back). The trainer calls it first thing; the app and
the command line only when a model has to be converted (the shipped one runs on LiteRT without
TensorFlow).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """TensorFlow, imported quietly the first time (Keras with it)."""
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # and its log lines after the import
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401  (Keras 3 on TensorFlow: imported, and quiet, together)
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tensorflow
