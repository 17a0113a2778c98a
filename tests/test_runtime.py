"""digitpad.runtime: TensorFlow imported without the CUDA and oneDNN notes a CPU machine gets."""

from __future__ import annotations

import pytest

from harness import run_python


@pytest.mark.slow
def test_tensorflow_is_imported_quietly():
    code = (
        "from digitpad.runtime import import_tensorflow\n"
        "tf = import_tensorflow()\n"
        "assert import_tensorflow() is tf\n"
        "print(tf.__version__)"
    )
    result = run_python(code)
    assert result.returncode == 0 and result.stdout.strip().startswith("2."), result.stderr
    for noise in ("cuInit", "cuda drivers", "oneDNN", "absl::InitializeLog"):
        assert noise not in result.stderr, result.stderr


def test_a_failing_import_still_says_why():
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"  # importing it now raises
        "from digitpad.runtime import import_tensorflow\n"
        "import_tensorflow()"
    )
    result = run_python(code)
    assert result.returncode == 1 and "No module named" in result.stderr, "the error, not silence"


def test_native_output_is_quiet_only_for_the_duration():
    code = (
        "import os\n"
        "from digitpad.runtime import quiet_native_output\n"
        "with quiet_native_output():\n"
        "    os.write(2, b'hidden\\n')\n"
        "os.write(2, b'shown\\n')"
    )
    result = run_python(code)
    assert result.returncode == 0 and result.stderr == "shown\n", result.stderr
