"""digitpad.collection: saving labelled digits (every kind of original, the record, atomic and
collision-free under concurrent saves and crashes), the tally, export and the command line.
(Reading a collection back is tests/training/test_data.py's.)"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from digitpad import REPO_DIR, collection, files, strokes
from digitpad.collection import load_collection, load_digits, load_records, read_image28
from digitpad.predictor import Recognition
from digitpad.training.data import load_mnist
from digitpad.verdict import Prediction

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits(sample_mnist_path):
    """Two real MNIST test digits of each class: (x uint8 (20, 28, 28), y (20,))."""
    mnist = load_mnist(sample_mnist_path)
    idx = np.concatenate([np.flatnonzero(mnist.y_test == d)[:2] for d in range(10)])
    return mnist.x_test[idx], mnist.y_test[idx]


def canvas(image28: np.ndarray) -> np.ndarray:
    """A canvas as a browser gives it: dark ink on a white 280x280 RGBA image."""
    ink = 255 - np.kron(image28, np.ones((10, 10), np.uint8))
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


def as_set(x: np.ndarray, y: np.ndarray) -> list:
    return sorted((int(label), image.tobytes()) for image, label in zip(x, y))


def save_all(folder, x, y, predicted=None):
    return [
        collection.save_digit(
            folder,
            canvas(image),
            image.astype(np.float32) / 255.0,
            int(label),
            None if predicted is None else int(predicted[i]),
        )
        for i, (image, label) in enumerate(zip(x, y))
    ]


def test_save_reload_count_and_labels(tmp_path, digits):
    x, y = digits
    paths = save_all(tmp_path, x, y)
    assert len(paths) == 20 and len(set(paths)) == 20
    x2, y2 = load_collection(tmp_path)
    assert x2.dtype == np.uint8 and x2.shape == (20, 28, 28) and y2.dtype == np.uint8
    assert as_set(x2, y2) == as_set(x, y)  # exact: float [0, 1] -> PNG -> uint8 loses nothing
    assert len(list(tmp_path.iterdir())) == 60, "three files a digit, no temporaries left"


def test_record_and_files(tmp_path, digits):
    x, y = digits
    probabilities = np.full(10, 0.02, np.float32)
    probabilities[3] = 0.82
    path = collection.save_digit(tmp_path, canvas(x[0]), x[0], int(y[0]), Prediction(probabilities))
    record = json.loads(path.read_text())
    assert record["label"] == int(y[0]) and record["predicted"] == 3
    assert record["confidence"] == pytest.approx(0.82) and len(record["probabilities"]) == 10
    assert record["id"] in path.name and record["saved"].endswith("+00:00")
    original, image28 = (tmp_path / record["files"][k] for k in ("original", "image28"))
    assert original.read_bytes()[:8] == PNG_MAGIC and image28.read_bytes()[:8] == PNG_MAGIC
    with Image.open(original) as image:
        assert image.size == (280, 280) and image.mode == "RGBA"  # as given, not converted
        np.testing.assert_array_equal(np.asarray(image), canvas(x[0]))
    np.testing.assert_array_equal(read_image28(image28), x[0])
    (only,) = load_records(tmp_path)
    assert only.predicted == 3 and only.confidence == pytest.approx(0.82) and not only.correct
    recognition = Recognition(image=x[0] / 255.0, prediction=Prediction(probabilities), message="")
    path = collection.save_digit(tmp_path, canvas(x[0]), recognition.image, 3, recognition)
    assert json.loads(path.read_text())["predicted"] == 3


@pytest.mark.parametrize("kind", ["pil", "float_array", "gray_uint8", "bytes", "path"])
def test_original_in_any_form_is_kept_as_png(tmp_path, digits, kind):
    image = digits[0][0]
    pil = Image.fromarray(image)
    pil.save(tmp_path / "given.png")
    original = {
        "pil": pil,
        "float_array": image / 255.0,
        "gray_uint8": image,
        "bytes": (tmp_path / "given.png").read_bytes(),
        "path": tmp_path / "given.png",
    }[kind]
    path = collection.save_digit(tmp_path / "c", original, image, 4)
    (record,) = load_records(tmp_path / "c")
    with Image.open(record.original) as saved:
        np.testing.assert_array_equal(np.asarray(saved.convert("L")), image)
    assert path.is_file()


def test_web_image_files_are_kept_byte_for_byte_others_as_png(tmp_path, digits):
    image = Image.fromarray(digits[0][0])
    for fmt, suffix in (
        ("JPEG", ".jpg"),
        ("WEBP", ".webp"),
        ("GIF", ".gif"),
        ("BMP", ".png"),
        ("TIFF", ".png"),
    ):
        given = tmp_path / f"given.{fmt.lower()}"
        image.save(given, format=fmt)
        record = json.loads(
            collection.save_digit(tmp_path / fmt, given, digits[0][0], 4).read_text()
        )
        kept = tmp_path / fmt / record["files"]["original"]
        assert kept.name.endswith(".original" + suffix)
        if suffix != ".png":
            assert kept.read_bytes() == given.read_bytes()  # a photo keeps its quality and EXIF
        with Image.open(kept) as saved:
            assert saved.size == image.size
    truncated = (tmp_path / "given.jpeg").read_bytes()[:200]
    with pytest.raises(ValueError, match="not a readable image"):
        collection.save_digit(tmp_path / "broken", truncated, digits[0][0], 4)
    assert not (tmp_path / "broken").exists()


@pytest.mark.parametrize("label", [10, -1, 3.5, "x", None, True])
def test_bad_label_is_refused_and_nothing_is_written(tmp_path, digits, label):
    with pytest.raises(ValueError, match="label must be a digit 0-9"):
        collection.save_digit(tmp_path / "c", digits[0][0], digits[0][0], label)
    assert not (tmp_path / "c").exists()


def test_labels_as_numpy_ints_and_strings_are_accepted(tmp_path, digits):
    collection.save_digit(tmp_path, digits[0][0], digits[0][0], np.uint8(7))
    collection.save_digit(tmp_path, digits[0][0], digits[0][0], "7")
    assert load_collection(tmp_path)[1].tolist() == [7, 7]


@pytest.mark.parametrize(
    "original, image28, message",
    [
        (None, np.zeros((28, 28)), "no image"),
        (np.zeros((5, 5, 7)), np.zeros((28, 28)), "cannot read an array"),
        (b"not an image", np.zeros((28, 28)), "not a readable image"),
        (np.zeros((8, 8)), np.zeros((27, 28)), r"\(28, 28\)"),
    ],
)
def test_bad_images_are_refused(tmp_path, original, image28, message):
    with pytest.raises(ValueError, match=message):
        collection.save_digit(tmp_path / "c", original, image28, 1)
    assert not (tmp_path / "c").exists()


def test_concurrent_saves_from_threads_lose_nothing(tmp_path, digits, caplog):
    """8 threads save 10 digits each while a reader keeps loading: 80 digits, none broken."""
    x, y = digits
    errors, seen = [], []

    def writer(worker: int) -> None:
        try:
            for i in range(10):
                k = (worker + i) % len(x)
                collection.save_digit(tmp_path, canvas(x[k]), x[k], int(y[k]), int(y[k]))
        except Exception as error:  # surfaced below
            errors.append(error)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    with caplog.at_level(logging.WARNING, logger="digitpad.training.data"):
        for thread in writers:
            thread.start()
        while any(thread.is_alive() for thread in writers):
            seen.append(len(load_collection(tmp_path)[0]))
        for thread in writers:
            thread.join()
    assert not errors
    assert not caplog.records, "a reader never sees a half-saved digit"
    assert seen == sorted(seen), "the count only grows"
    x2, y2 = load_collection(tmp_path)
    assert len(x2) == 80
    expected = [(w + i) % len(x) for w in range(8) for i in range(10)]
    assert as_set(x2, y2) == as_set(x[expected], y[expected])


def test_concurrent_saves_from_processes_lose_nothing(tmp_path):
    """4 processes (as with several app workers) save 15 digits each into one folder."""
    script = (
        "import sys, numpy as np\n"
        "from digitpad.collection import save_digit\n"
        "w = int(sys.argv[2])\n"
        "for i in range(15):\n"
        "    image = np.full((28, 28), (w * 15 + i) % 256, np.uint8)\n"
        "    save_digit(sys.argv[1], image, image, (w * 15 + i) % 10)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path), str(w)], env=env, cwd=REPO_DIR
        )
        for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in workers] == [0, 0, 0, 0]
    x, y = load_collection(tmp_path)
    assert len(x) == 60
    assert sorted(int(image[0, 0]) for image in x) == list(range(60))
    assert np.bincount(y, minlength=10).tolist() == [6] * 10


def test_summary_counts_unfinished_temporary_files(tmp_path, digits):
    x, y = digits
    save_all(tmp_path, x[:5], y[:5])
    (tmp_path / ".abc.json.tmp").write_text('{"half": ')  # a save interrupted by a crash
    summary = collection.summarise(tmp_path)
    assert f"{tmp_path}: 5 saved digits" in summary
    assert "1 unfinished temporary file(s) ignored" in summary


def test_a_crash_before_the_record_leaves_no_digit(tmp_path, digits, monkeypatch):
    """Kill the save at the last rename (the record's): nothing counts, no temporary is left."""
    x, y = digits
    save_all(tmp_path, x[:2], y[:2])
    real_replace = os.replace

    def crash_on_record(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", crash_on_record)
    with pytest.raises(OSError, match="simulated crash"):
        collection.save_digit(tmp_path, x[2], x[2], int(y[2]))
    monkeypatch.undo()
    assert len(load_collection(tmp_path)[0]) == 2
    assert not list(tmp_path.glob(".*.tmp"))


def test_export_round_trips_through_load_mnist(tmp_path, digits):
    x, y = digits
    save_all(tmp_path / "c", x, y)
    out = tmp_path / "digits.npz"
    done = collection.export_npz(tmp_path / "c", out, test_fraction=0.2, seed=0)
    assert done["n_train"] == 10 and done["n_test"] == 10  # two per digit: one on each side
    mnist = load_mnist(out)  # validated as MNIST: shapes, uint8, labels, all ten digits
    assert mnist.x_train.dtype == np.uint8 and mnist.x_train.shape == (10, 28, 28)
    assert sorted(mnist.y_test.tolist()) == list(range(10))
    joined = as_set(
        np.concatenate([mnist.x_train, mnist.x_test]), np.concatenate([mnist.y_train, mnist.y_test])
    )
    assert joined == as_set(x, y)
    x3, y3 = load_digits(out)  # the trainer's reader joins both parts
    assert as_set(x3, y3) == as_set(x, y)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_export_cli(tmp_path, digits, capsys):
    x, y = digits
    save_all(tmp_path / "c", x[:6], y[:6])
    out = tmp_path / "mine.npz"
    assert collection.main(["export", str(tmp_path / "c"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "no examples of digit(s) [3, 4, 5, 6, 7, 8, 9]" in printed
    assert len(load_digits(out)[0]) == 6
    assert collection.main(["export", str(tmp_path / "empty"), "--out", str(out)]) == 2
    assert "not a folder of saved digits" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert collection.main(["export", str(tmp_path / "empty"), "--out", str(out)]) == 2
    assert "no saved digits" in capsys.readouterr().err


def test_summary_cli(tmp_path, digits, capsys):
    x, y = digits
    predicted = y.copy()
    predicted[[0, 1, 5]] = (y[[0, 1, 5]] + 1) % 10  # wrong on both 0s and one 2
    save_all(tmp_path, x, y, predicted)
    assert collection.main(["summary", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "20 saved digits" in printed and "0:2 1:2" in printed
    assert (
        "the model read 17 right (85%)" in printed and "Mistakes per digit: 0: 2, 2: 1." in printed
    )
    save_all(tmp_path, x[:3], y[:3])  # saved without the model's answer: not counted as mistakes
    assert collection.main(["summary", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "23 saved digits" in printed and "the model read 17 right (85%)" in printed
    assert "3 saved without the model's answer" in printed


def test_a_collection_is_tallied(tmp_path, digits):
    x, y = digits
    save_all(tmp_path, x[:4], y[:4], predicted=[y[0], 9, y[2], y[3]])
    tally = collection.tally_records(load_records(tmp_path))
    assert tally.labelled == 4 and tally.right == 3 and sum(tally.mistakes) == 1


def test_a_drawing_is_saved_with_its_strokes(tmp_path):
    value = strokes.value_of([[(0.5, 0.1), (0.5, 0.9)], [(0.3, 0.2), (0.5, 0.1)]])
    drawing = strokes.read_drawing(value)
    path = collection.save_digit(tmp_path, drawing, np.zeros((28, 28), np.float32), 1)
    record = json.loads(path.read_text())
    assert record["strokes"] == json.loads(value)["strokes"], "it can be drawn again"
    with Image.open(tmp_path / record["files"]["original"]) as original:
        np.testing.assert_array_equal(np.asarray(original), drawing.render())
    for name in record["files"].values():
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, "readable by its owner only"


def test_relabel_changes_the_record_and_keeps_the_images(tmp_path, digits):
    x, y = digits
    path = collection.save_digit(tmp_path, canvas(x[0]), x[0], 3, 3)
    images = {p.name: p.read_bytes() for p in tmp_path.glob("*.png")}
    assert collection.relabel(tmp_path, path.stem, "5") == path
    record = json.loads(path.read_text())
    assert record["label"] == 5 and record["predicted"] == 3 and "relabelled" in record
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.png")} == images
    (only,) = load_records(tmp_path)
    assert only.label == 5
    with pytest.raises(ValueError, match="label must be a digit"):
        collection.relabel(tmp_path, path.stem, 12)
