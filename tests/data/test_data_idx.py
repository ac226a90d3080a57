"""IDX parsing and the MNIST-style download/cache/checksum path, offline (file:// mirrors)."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from descentlab.data import (
    ChecksumError,
    DataFileError,
    IdxSource,
    load_dataset,
    load_idx_dataset,
    load_mnist,
    parse_idx,
    read_idx,
    registry,
)


def idx_bytes(arr):
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
             np.float64: 0x0E}
    code = codes[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_roundtrip(tmp_path, dtype, compress):
    arr = (np.arange(24).reshape(2, 3, 4) - (0 if dtype == np.uint8 else 5)).astype(dtype)
    raw = idx_bytes(arr)
    # The name says .gz for the raw file on purpose: the format is detected from the content.
    path = tmp_path / "a.idx.gz"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)
    out[0, 0, 0] = 1  # a writable copy


def test_idx_corruption_errors(tmp_path):
    raw = idx_bytes(np.zeros((4, 5), np.uint8))
    with pytest.raises(DataFileError, match=r"truncated: shape \(4, 5\) needs 20 bytes.*found 19"):
        parse_idx(raw[:-1])
    with pytest.raises(DataFileError, match="longer than its header"):
        parse_idx(raw + b"\0")
    with pytest.raises(DataFileError, match="not an IDX file"):
        parse_idx(b"\x12\x34" + raw[2:])
    with pytest.raises(DataFileError, match="truncated"):
        parse_idx(raw[:2])
    with pytest.raises(DataFileError, match="inside its header"):
        parse_idx(raw[:6])
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(raw)[:-6])
    with pytest.raises(DataFileError, match="corrupt or truncated gzip.*download it again"):
        read_idx(path)


@pytest.fixture
def mirror(tmp_path):
    """A local mirror of a tiny MNIST-like dataset, with its checksums (md5 and sha256)."""
    rng = np.random.default_rng(0)
    site = tmp_path / "site"
    site.mkdir()
    files = {}
    for split, n in (("train", 12), ("test", 5)):
        for role, arr in (("images", rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)),
                          ("labels", rng.integers(0, 10, n).astype(np.uint8))):
            name = f"{split}-{role}.gz"
            data = gzip.compress(idx_bytes(arr))
            (site / name).write_bytes(data)
            algo = "md5" if role == "images" else "sha256"
            files[f"{split}_{role}"] = (name, f"{algo}:{hashlib.new(algo, data).hexdigest()}")
    source = IdxSource("tiny", ("file:///nonexistent/mirror/", site.as_uri() + "/"), files)
    return source, tmp_path / "cache"


def counting_fetch(calls):
    from descentlab.data.real import urlfetch

    def fetch(url, dest):
        calls.append(url)
        urlfetch(url, dest)

    return fetch


def test_download_once_then_cache(mirror):
    source, cache = mirror
    calls = []
    images, labels = load_idx_dataset(source, train=True, root=cache, fetch=counting_fetch(calls))
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.int64
    # The dead first mirror was tried, then the working one, for each of the two files.
    assert len(calls) == 4 and calls[0].startswith("file:///nonexistent")
    load_idx_dataset(source, train=True, root=cache, fetch=counting_fetch(calls))
    assert len(calls) == 4  # cached: no new downloads
    assert not list((cache / "tiny").glob("*.part"))
    x, y = load_idx_dataset(source, train=False, root=cache, download=True)
    assert x.shape == (5, 28, 28)


def test_checksum_failure_and_recovery(mirror):
    source, cache = mirror
    name, checksum = source.files["train_images"]
    wrong = IdxSource(source.name, source.mirrors,
                      {**source.files, "train_images": (name, "md5:" + "0" * 32)})
    pattern = r"(?s)could not download.*downloaded data: md5 is .*expected 00"
    with pytest.raises(OSError, match=pattern):
        load_idx_dataset(wrong, root=cache)
    assert not (cache / "tiny" / name).exists()  # nothing half-written left behind
    # A corrupted cached copy: with download=False it is an error; with download it is replaced.
    load_idx_dataset(source, root=cache)
    path = cache / "tiny" / name
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ChecksumError, match="corrupt or incomplete.*download=True"):
        load_idx_dataset(source, root=cache, download=False)
    images, _ = load_idx_dataset(source, root=cache)
    assert images.shape == (12, 28, 28)


def test_missing_without_download(mirror, tmp_path):
    source, cache = mirror
    with pytest.raises(FileNotFoundError, match="pass download=True"):
        load_idx_dataset(source, root=cache, download=False)
    with pytest.raises(FileNotFoundError, match="pass download=True"):
        load_mnist(root=tmp_path / "empty", download=False)


def test_mnist_uses_injected_fetch(tmp_path):
    # Real MNIST checksums cannot match a fake file: the error says so, with no network used.
    def fake_fetch(url, dest):
        with open(dest, "wb") as f:
            f.write(gzip.compress(idx_bytes(np.zeros((1, 28, 28), np.uint8))))

    with pytest.raises(OSError, match="md5 is .*expected f68b3c2d"):
        load_mnist(root=tmp_path, fetch=fake_fetch)


def test_registry_idx_dataset(mirror, monkeypatch):
    source, cache = mirror
    monkeypatch.setitem(registry._REGISTRY, "mnist",
                        ("classification", registry._idx(source), "tiny"))
    info = load_dataset("mnist", root=cache)
    assert info.in_features == 784 and info.input_shape == (784,)
    assert len(info.train) == 12 and len(info.test) == 5 and info.n_classes <= 10
    x = info.train.tensors[0].numpy()
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    conv = load_dataset("mnist", root=cache, flatten=False)
    assert conv.input_shape == (1, 28, 28) and conv.in_features == 784


@pytest.mark.parametrize("raw, fragment", [
    # Zero dimensions and one stray byte: read as a 0-d array before.
    (bytes([0, 0, 0x08, 0]) + b"\x05", "declares 0 dimensions"),
    (bytes([0, 0, 0x08, 0]), "declares 0 dimensions"),
    (bytes([0, 0, 0x08, 2]) + b"\x00\x00", "truncated inside its header (6 bytes, its 2 "),
    # 65536**4 = 2**64 bytes wraps to 0 in int64 and "matched" an empty body before.
    (bytes([0, 0, 0x08, 4]) + struct.pack(">4I", *[65536] * 4),
     "declares shape (65536, 65536, 65536, 65536), 18,446,744,073,709,551,616 bytes"),
    (bytes([0, 0, 0x0E, 2]) + struct.pack(">2I", 2**32 - 1, 2**32 - 1) + b"\x00" * 8,
     "the header is damaged"),
])
def test_damaged_headers_are_refused_before_allocating(raw, fragment):
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(DataFileError) as err:
            parse_idx(raw, "t10k-images")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fragment in str(err.value) and "t10k-images" in str(err.value)
    assert peak < 1 << 20  # nothing of the declared size was allocated
