"""TensorFlow and LiteRT without the noise a CPU machine gets from them.

On a machine without a GPU, the usual case here, importing TensorFlow prints "Could not find
cuda drivers", "failed call to cuInit: ... CUDA error" and a note on oneDNN: alarming, and
nothing to act on. Its C++ code writes them to the process's standard error before any logging
is set up, so ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them. :func:`import_tensorflow`
imports it once with file descriptor 2 pointed at /dev/null (an import that fails still raises,
with its message, once standard error is back). The trainer calls it first thing; the app and
the command line only when a model has to be converted (the shipped one runs on LiteRT without
TensorFlow). LiteRT's interpreter prints "INFO: Created TensorFlow Lite XNNPACK delegate for
CPU." the same way whenever one is made: :func:`quiet_native_output` silences that too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


@contextmanager
def quiet_native_output() -> Iterator[None]:
    """Standard error (file descriptor 2, where C++ libraries write) pointed at /dev/null for the
    duration; restored even when the body raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow() -> ModuleType:
    """TensorFlow, imported quietly the first time (Keras with it)."""
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # and its log lines after the import
    with quiet_native_output():
        import keras  # noqa: F401  (Keras 3 on TensorFlow: imported, and quiet, together)
        import tensorflow
    return tensorflow
