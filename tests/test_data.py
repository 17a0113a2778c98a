"""digitpad.data: every source loads the same arrays; every malformed input gets its own error."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from digitpad import data
from digitpad.data import DataError, load_mnist, read_idx, stratified_split


def write_idx(path: Path, array: np.ndarray, *, compress: bool) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", n) for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@pytest.fixture(scope="module")
def sample(sample_mnist_path):
    return load_mnist(sample_mnist_path)


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
        write_idx(tmp_path / (name + (".gz" if compress else "")), getattr(sample, key), compress=compress)
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
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


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
        (lambda a: a.update(y_train=np.where(a["y_train"] == 7, 1, a["y_train"])), "no example of digit(s) [7]"),
        (lambda a: a.update(x_test=a["x_test"][:0], y_test=a["y_test"][:0]), "test split is empty"),
    ],
    ids=["missing-key", "flat-images", "float-images", "label-range", "count-mismatch", "missing-class", "empty"],
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
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

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
