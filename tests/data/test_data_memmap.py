"""NpyDataset: memory-mapped .npy files streamed batch by batch, never loaded whole."""

import tracemalloc

import numpy as np
import pytest

import descentlab as dl
from descentlab.data import DataLoader, NpyDataset, Subset


@pytest.fixture
def big_files(tmp_path):
    # 64 MiB of features written chunk by chunk, as one would for data bigger than memory.
    n, d = 131072, 128
    xp, yp = tmp_path / "x.npy", tmp_path / "y.npy"
    X = np.lib.format.open_memmap(xp, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 16384):
        rows = np.arange(start, start + 16384, dtype=np.float32)
        X[start:start + 16384] = rows[:, None]
    X.flush()
    del X
    np.save(yp, np.arange(n, dtype=np.int64))
    return xp, yp, n, d


def test_streams_without_loading_the_file(big_files):
    xp, yp, n, d = big_files
    file_bytes = n * d * 4
    batch_bytes = 256 * d * 4
    tracemalloc.start()
    try:
        ds = NpyDataset(xp, yp)
        assert tracemalloc.get_traced_memory()[0] < 1 << 20  # headers only
        g = dl.Generator().manual_seed(0)
        loader = DataLoader(ds, batch_size=256, shuffle=True, generator=g)
        seen = 0
        checksum = 0
        for x, y in loader:
            # Row i holds the value i: rows stay paired with labels after the sorted read.
            np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy().astype(np.float32))
            seen += len(y)
            checksum += int(y.numpy().sum())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == n and checksum == n * (n - 1) // 2
    # The peak heap is a few batches plus the epoch's index permutation, far below the file.
    assert peak < 8 * batch_bytes + 4 * n * 8
    assert peak < file_bytes / 20


def test_order_dtypes_and_subset(tmp_path):
    X = np.arange(20, dtype=np.float64).reshape(10, 2)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", np.arange(10, dtype=np.int32))
    ds = NpyDataset(tmp_path / "x.npy", tmp_path / "y.npy", dtypes=(dl.float32, None))
    x, y = ds.get_batch(np.array([7, 2, 9, 2]))
    np.testing.assert_array_equal(y.numpy(), [7, 2, 9, 2])  # asked order, not sorted order
    assert x.dtype == dl.float32 and y.dtype == np.int32
    assert type(x.numpy()) is np.ndarray  # a plain in-memory array, not a memmap view
    assert ds[3][0].tolist() == [6.0, 7.0]
    sub = Subset(ds, [4, 1])
    (xb, yb), = list(DataLoader(sub, batch_size=2))
    assert yb.tolist() == [4, 1]


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        NpyDataset(tmp_path / "missing.npy")
    np.save(tmp_path / "a.npy", np.zeros((5, 2)))
    np.save(tmp_path / "b.npy", np.zeros(4))
    with pytest.raises(ValueError, match=r"first dimensions differ.*\[5, 4\]"):
        NpyDataset(tmp_path / "a.npy", tmp_path / "b.npy")
    (tmp_path / "bad.npy").write_bytes(b"not an npy file")
    with pytest.raises(ValueError, match="not a readable .npy"):
        NpyDataset(tmp_path / "bad.npy")
    with pytest.raises(ValueError, match="one per file"):
        NpyDataset(tmp_path / "a.npy", dtypes=(None, None))


def test_nan_rows_are_named_with_file_row_and_column_when_read(tmp_path):
    X = np.arange(30, dtype=np.float64).reshape(10, 3)
    X[6, 2] = np.nan
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "s.npy", np.array(["a"] * 10))
    ds = NpyDataset(tmp_path / "x.npy")
    ds.get_batch(np.array([0, 5, 9]))  # rows without NaN read fine
    with pytest.raises(ValueError, match="x.npy' has 1 NaN value\\(s\\), the first at row 6, "
                       "column 2"):
        ds.get_batch(np.array([9, 6, 1]))
    with pytest.raises(ValueError, match="row 6, column 2"):
        ds[6]
    with pytest.raises(TypeError, match="s.npy' holds dtype <U1, not numbers"):
        NpyDataset(tmp_path / "s.npy")
