"""digitpad.training.data: every source loads the same arrays; every malformed input gets its own error;
dry-run slices; people's saved digits read back (folders and exported .npz files)."""

from __future__ import annotations

import gzip
import json
import logging
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import collection
from digitpad.collection import (
    check_label,
    load_collection,
    load_digits,
    load_records,
    stratified_split,
)
from digitpad.files import DataError, save_npz
from digitpad.training import data
from digitpad.training.data import load_mnist, read_idx, subsample


def write_idx(path: Path, array: np.ndarray, *, compress: bool) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", n) for n in array.shape
    )
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def arrays_of(mnist) -> dict[str, np.ndarray]:
    return {key: getattr(mnist, key) for key in data.NPZ_KEYS}


def test_npz_loads_and_validates(sample):
    assert sample.x_train.shape == (600, 28, 28) and sample.x_train.dtype == np.uint8
    assert sample.x_test.shape == (500, 28, 28)
    assert np.bincount(sample.y_train).tolist() == [60] * 10
    assert sample.x_train.max() == 255 and sample.x_train.min() == 0
    assert len(sample.checksum) == 64


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_idx_folder_gives_the_same_arrays(tmp_path, sample, compress):
    for key, name in IDX_NAMES.items():
        write_idx(
            tmp_path / (name + (".gz" if compress else "")), getattr(sample, key), compress=compress
        )
    loaded = load_mnist(tmp_path)
    for key in data.NPZ_KEYS:
        np.testing.assert_array_equal(getattr(loaded, key), getattr(sample, key))
    assert loaded.checksum == sample.checksum


def test_full_copy_matches_its_documented_checksums(mnist_path):
    mnist = load_mnist(mnist_path)
    if len(mnist.x_train) != 60000:
        pytest.skip("DIGITPAD_MNIST not set: the committed sample is not the full dataset")
    import hashlib

    assert hashlib.sha256(mnist.x_test.tobytes()).hexdigest()[:16] == "6d87418db22cc802"
    assert mnist.y_train[0] == 5
    assert np.bincount(mnist.y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


def save(tmp_path, arrays, name="bad.npz") -> Path:
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda a: a.pop("y_test"), "lacks ['y_test']"),
        (lambda a: a.update(x_train=a["x_train"].reshape(-1, 784)), "MNIST images are (N, 28, 28)"),
        (lambda a: a.update(x_train=a["x_train"].astype(np.float32) / 255), "dtype float32"),
        (lambda a: a.update(y_train=a["y_train"].astype(np.int64) + 5), "labels from 5 to 14"),
        (lambda a: a.update(y_test=a["y_test"][:-1]), "500 images in x_test but 499 labels"),
        (
            lambda a: a.update(y_train=np.where(a["y_train"] == 7, 1, a["y_train"])),
            "no example of digit(s) [7]",
        ),
        (lambda a: a.update(x_test=a["x_test"][:0], y_test=a["y_test"][:0]), "test split is empty"),
    ],
    ids=[
        "missing-key",
        "flat-images",
        "float-images",
        "label-range",
        "count-mismatch",
        "missing-class",
        "empty",
    ],
)
def test_malformed_npz_says_what_is_wrong(tmp_path, sample, mutate, message):
    arrays = arrays_of(sample)
    mutate(arrays)
    with pytest.raises(DataError, match=None) as info:
        load_mnist(save(tmp_path, arrays))
    assert message in str(info.value)


def test_not_an_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="not a readable .npz file.*--data"):
        load_mnist(path)


def test_missing_path_names_the_flag(tmp_path):
    with pytest.raises(DataError, match="does not exist; pass --data"):
        load_mnist(tmp_path / "nowhere.npz")


def test_idx_folder_missing_a_file(tmp_path, sample):
    for key, name in list(IDX_NAMES.items())[:3]:
        write_idx(tmp_path / name, getattr(sample, key), compress=False)
    with pytest.raises(DataError, match="no file matching 't10k-labels"):
        load_mnist(tmp_path)


def test_idx_truncated(tmp_path, sample):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, sample.x_train, compress=False)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(path)


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(20))
    with pytest.raises(DataError, match="could not be read or un-gzipped"):
        read_idx(path)


def test_download_failure_names_data_flag(monkeypatch):
    import keras

    def offline():
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]"
        )

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DataError, match="Could not download MNIST.*pass --data PATH"):
        load_mnist(None)


def test_stratified_split_is_seeded_and_proportional(sample):
    train_a, val_a = stratified_split(sample.y_train, 0.1, seed=3)
    train_b, val_b = stratified_split(sample.y_train, 0.1, seed=3)
    _, val_c = stratified_split(sample.y_train, 0.1, seed=4)
    np.testing.assert_array_equal(val_a, val_b)
    np.testing.assert_array_equal(train_a, train_b)
    assert not np.array_equal(val_a, val_c)
    assert np.bincount(sample.y_train[val_a]).tolist() == [6] * 10
    assert len(np.intersect1d(train_a, val_a)) == 0 and len(train_a) + len(val_a) == 600


def test_describe_shows_the_tutorial_look(sample):
    text = data.describe(sample)
    assert "x_train (600, 28, 28) uint8" in text
    assert "pixel range 0..255" in text
    assert "first label y_train[0] =" in text
    assert "0:60" in text


def test_subsample_is_stratified_seeded_and_named(sample):
    small = subsample(sample, 100, 50, seed=3)
    assert np.bincount(small.y_train, minlength=10).tolist() == [10] * 10
    assert np.bincount(small.y_test, minlength=10).tolist() == [5] * 10
    assert small.source.endswith("(dry-run subset)")
    again = subsample(sample, 100, 50, seed=3)
    assert np.array_equal(small.x_train, again.x_train)
    assert not np.array_equal(small.x_train, subsample(sample, 100, 50, seed=4).x_train)
    assert len(subsample(sample, 3, 3, seed=0).y_train) == 10, "at least one of each digit"


def test_save_npz_round_trips_and_is_atomic(tmp_path, sample):
    path = tmp_path / "copy.npz"
    save_npz(path, arrays_of(sample))
    assert load_mnist(path).checksum == sample.checksum
    assert [p.name for p in tmp_path.iterdir()] == ["copy.npz"], "no temporary file left"


@pytest.mark.parametrize(
    "label, expected", [(7, 7), ("7", 7), (" 3 ", 3), (np.uint8(9), 9), (2.0, 2)]
)
def test_check_label_accepts_digits(label, expected):
    assert check_label(label) == expected


@pytest.mark.parametrize("label", [10, -1, 3.5, "x", "", None, True, np.bool_(True)])
def test_check_label_refuses_anything_else(label):
    with pytest.raises(ValueError, match="label must be a digit 0-9"):
        check_label(label)


# --- people's saved digits ----------------------------------------------------------------------


def save_some(folder: Path, sample, count: int) -> None:
    for image, label in zip(sample.x_test[:count], sample.y_test[:count]):
        collection.save_digit(folder, image, image, int(label), int(label))


def test_a_collection_reads_back_as_mnist_arrays(tmp_path, sample):
    save_some(tmp_path, sample, 12)
    records = load_records(tmp_path)
    assert len(records) == 12 and [r.saved for r in records] == sorted(r.saved for r in records)
    x, y = load_collection(tmp_path)
    assert x.dtype == np.uint8 and x.shape == (12, 28, 28) and y.dtype == np.uint8
    assert sorted(zip(y.tolist(), map(bytes, x))) == sorted(
        zip(sample.y_test[:12].tolist(), map(bytes, sample.x_test[:12]))
    )
    assert np.array_equal(load_digits(tmp_path)[1], y)


def test_leftovers_and_broken_records_are_skipped(tmp_path, sample, caplog):
    save_some(tmp_path, sample, 5)
    # A crash can leave: a temporary file, PNGs whose record was never written.
    (tmp_path / ".abc.json.tmp").write_text('{"half": ')
    (tmp_path / "dead.original.png").write_bytes(b"\x89PNG")
    (tmp_path / "dead.28x28.png").write_bytes(b"\x89PNG")
    # And by hand or bad luck: a record without its PNG, garbage JSON, a wrong-size image.
    records = sorted(tmp_path.glob("*.json"))
    (tmp_path / json.loads(records[0].read_text())["files"]["image28"]).unlink()
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"some": "other file"}')
    small = json.loads(records[1].read_text())
    Image.new("L", (10, 10)).save(tmp_path / small["files"]["image28"])
    with caplog.at_level(logging.WARNING, logger="digitpad.training.data"):
        x, y = load_collection(tmp_path)
    assert len(x) == 3
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "garbage.json" in logged and "other.json" in logged and "missing" in logged
    assert "not 28x28" in logged


def test_an_exported_npz_reads_back_joined(tmp_path, sample):
    save_npz(tmp_path / "mine.npz", arrays_of(subsample(sample, 20, 10, seed=0)))
    x, y = load_digits(tmp_path / "mine.npz")
    assert x.shape == (30, 28, 28) and len(y) == 30, "train and test parts joined"
    np.savez(tmp_path / "xy.npz", x=sample.x_test[:4], y=sample.y_test[:4])
    assert len(load_digits(tmp_path / "xy.npz")[0]) == 4


def test_load_digits_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_digits(tmp_path / "nope")
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(DataError, match="not a digits .npz"):
        load_digits(tmp_path / "bad.npz")
    np.savez(tmp_path / "floats.npz", x=np.zeros((2, 28, 28), np.float32), y=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="uint8"):
        load_digits(tmp_path / "floats.npz")
    np.savez(tmp_path / "labels.npz", x=np.zeros((2, 28, 28), np.uint8), y=np.array([3, 12]))
    with pytest.raises(DataError, match="labels run from 3 to 12"):
        load_digits(tmp_path / "labels.npz")
    with pytest.raises(DataError, match="not a folder of saved digits"):
        load_records(tmp_path / "bad.npz")
