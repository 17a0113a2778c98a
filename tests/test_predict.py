"""``python -m digitpad.predict``: the committed examples, --json, unreadable files, exit status."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitpad import REPO_DIR
from digitpad.predict import main
from harness import EXAMPLES, expected_digit


def test_examples_as_text(capsys):
    assert main([str(p) for p in EXAMPLES]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXAMPLES)
    for path, line in zip(EXAMPLES, lines):
        assert re.fullmatch(rf"{re.escape(str(path))}: {expected_digit(path)}, \d+% sure", line), (
            line
        )


def test_examples_as_json(capsys):
    assert main(["--json", *map(str, EXAMPLES)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in records] == [str(p) for p in EXAMPLES]
    for path, record in zip(EXAMPLES, records):
        keys = {"file", "digit", "sure", "verdict", "probabilities", "image28", "adapted"}
        keys |= {"number", "digits"}
        assert set(record) == keys, "the API's reading, with the file's name"
        assert record["digit"] == expected_digit(path) and record["sure"] is True
        assert record["verdict"] == f"{record['digit']}, {max(record['probabilities']):.0%} sure"
        assert len(record["probabilities"]) == 10
        assert sum(record["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert record["image28"].startswith("data:image/png;base64,")
        assert record["number"] == str(record["digit"]) and len(record["digits"]) == 1
        (digit,) = record["digits"]
        assert {k: digit[k] for k in ("digit", "verdict", "image28")} == {
            k: record[k] for k in ("digit", "verdict", "image28")
        }
        assert len(digit["box"]) == 4, "where it is on the image"


def test_no_digit_is_null(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((300, 300), 255, np.uint8)).save(blank)
    assert main(["--json", str(blank)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["digit"] is None and record["probabilities"] is None
    assert record["verdict"] == "draw a digit" and record["sure"] is False


def test_unreadable_files_are_reported_and_the_others_processed(tmp_path, capsys):
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    missing = tmp_path / "missing.png"
    assert main([str(notes), str(EXAMPLES[0]), str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        line for line in captured.out.splitlines() if line.startswith(str(EXAMPLES[0]))
    ]
    assert len(captured.out.splitlines()) == 1
    assert f"{notes}: " in captured.err and "not a readable image" in captured.err
    assert f"{missing}: " in captured.err and "no such file" in captured.err


def test_missing_model_exits_2(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "none.keras"), str(EXAMPLES[0])]) == 2
    assert "No model" in capsys.readouterr().err


def test_module_entry_point():
    """The real command line, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-m", "digitpad.predict", "--json", str(EXAMPLES[0]), "missing.png"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["digit"] == expected_digit(EXAMPLES[0])
    assert result.stderr.startswith("digitpad: missing.png: "), "the missing file, said first"
    assert len(result.stderr.splitlines()) == 1, "and nothing else: no LiteRT INFO line"


def test_drawings_made_in_a_browser(capsys):
    """Mouse-drawn digits exported by a canvas in headless Chromium, on a white and on a dark
    canvas (tests/data/sketchpad/<theme>_<digit>/composite.png), as files."""
    drawings = sorted((REPO_DIR / "tests" / "data" / "sketchpad").glob("*/composite.png"))
    assert len(drawings) >= 5
    assert main(["--json", *map(str, drawings)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for path, record in zip(drawings, records):
        assert record["digit"] == int(path.parent.name.rsplit("_", 1)[1]), (path, record)


def test_a_photo_of_a_number_is_read_left_to_right(tmp_path, capsys):
    """A number written on white paper, as a file: one line with the number, and in JSON each
    digit with its box in the image's pixels."""
    from digitpad.strokes import render
    from harness import number_strokes

    photo = tmp_path / "number.png"
    Image.fromarray(render([np.asarray(s) for s in number_strokes("314")], 600)).save(photo)
    assert main([str(photo)]) == 0
    assert capsys.readouterr().out.startswith(f"{photo}: 314")
    assert main(["--json", str(photo)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["number"] == "314" and [d["digit"] for d in record["digits"]] == [3, 1, 4]
    lefts = [d["box"][0] for d in record["digits"]]
    assert lefts == sorted(lefts) and all(0 <= x < 600 for x in lefts)
