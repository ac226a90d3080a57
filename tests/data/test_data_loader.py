"""DataLoader semantics: batch counts, drop_last, shuffling, collation, samplers, splits."""

import math
import re
from collections import namedtuple

import numpy as np
import pytest

import descentlab as dl
from descentlab.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def make_ds(n=103, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    return TensorDataset(dl.tensor(X), dl.arange(n))


class ListDataset(Dataset):
    """A plain Python dataset: exercises the sample-by-sample + collate path."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i

    def __len__(self):
        return self.n


def epoch_ids(loader):
    return np.concatenate([y.numpy() for _, y in loader])


@pytest.mark.parametrize("n,bs,drop_last", [(1000, 25, False), (1000, 25, True), (103, 10, False),
                                            (103, 10, True), (5, 7, False), (5, 7, True),
                                            (103, 103, False), (103, 1, False)])
def test_len_is_iterations_per_epoch(n, bs, drop_last):
    loader = DataLoader(make_ds(n), batch_size=bs, drop_last=drop_last)
    expected = n // bs if drop_last else math.ceil(n / bs)
    batches = list(loader)
    assert len(loader) == expected == len(batches)
    sizes = [len(y) for _, y in batches]
    assert all(s == bs for s in sizes[:-1])
    if drop_last:
        assert all(s == bs for s in sizes)


def test_full_batch_sgd_and_minibatch_shapes():
    ds = make_ds(50)
    (x, y), = list(DataLoader(ds, batch_size=50))  # full-batch GD: one step per epoch
    assert x.shape == (50, 3) and y.shape == (50,) and y.dtype == dl.int64
    sgd = list(DataLoader(ds, batch_size=1))
    assert len(sgd) == 50 and sgd[0][0].shape == (1, 3)
    assert isinstance(x, dl.Tensor) and not x.requires_grad


def test_every_sample_once_per_epoch_and_order_changes():
    dl.manual_seed(0)
    loader = DataLoader(make_ds(103), batch_size=8, shuffle=True)
    e1, e2 = epoch_ids(loader), epoch_ids(loader)
    assert sorted(e1) == list(range(103)) and sorted(e2) == list(range(103))
    assert not np.array_equal(e1, e2)
    assert not np.array_equal(e1, np.arange(103))


def test_rows_stay_paired():
    for x, y in DataLoader(make_ds(40), batch_size=7, shuffle=True):
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy() * 3)


def test_shuffle_reproducible_with_global_seed_and_generator():
    ds = make_ds(64)
    dl.manual_seed(123)
    a = [epoch_ids(DataLoader(ds, batch_size=5, shuffle=True)) for _ in range(2)]
    dl.manual_seed(123)
    b = [epoch_ids(DataLoader(ds, batch_size=5, shuffle=True)) for _ in range(2)]
    np.testing.assert_array_equal(a, b)
    g1, g2 = dl.Generator().manual_seed(7), dl.Generator().manual_seed(7)
    l1 = DataLoader(ds, batch_size=5, shuffle=True, generator=g1)
    l2 = DataLoader(ds, batch_size=5, shuffle=True, generator=g2)
    for _ in range(3):  # the generator advances per epoch, identically on both
        np.testing.assert_array_equal(epoch_ids(l1), epoch_ids(l2))


def test_shuffle_draws_one_global_value_per_epoch():
    # Without a generator the sampler takes one seed from the global stream per epoch, so the
    # random stream used after it (e.g. init) does not depend on the dataset size.
    after = []
    for n in (10, 1000):
        dl.manual_seed(3)
        epoch_ids(DataLoader(make_ds(n), batch_size=4, shuffle=True))
        after.append(dl.rand(3).numpy())
    np.testing.assert_array_equal(after[0], after[1])


def test_fast_path_matches_collate_path():
    ds = make_ds(30)
    g1, g2 = dl.Generator().manual_seed(1), dl.Generator().manual_seed(1)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, generator=g1))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, generator=g2,
                           collate_fn=default_collate))
    assert len(fast) == len(slow)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_batches_do_not_alias_dataset():
    ds = make_ds(10)
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    x.numpy()[:] = -1
    assert ds.tensors[0].numpy().min() == 0


def test_generic_dataset_collates():
    x, y = next(iter(DataLoader(ListDataset(10), batch_size=4)))
    assert x.shape == (4, 2) and x.dtype == dl.float32
    assert y.dtype == dl.int64 and y.tolist() == [0, 1, 2, 3]


def test_default_collate_types():
    Point = namedtuple("Point", "a b")
    assert default_collate([1.5, 2.0]).dtype == dl.float64  # torch's rule for Python floats
    assert default_collate([True, False]).dtype == dl.bool
    out = default_collate([{"x": dl.ones(2), "s": "a"}, {"x": dl.zeros(2), "s": "b"}])
    assert out["x"].shape == (2, 2) and out["s"] == ["a", "b"]
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.a.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object()])


@pytest.mark.parametrize("bad", [0, -1, 1.5, None, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(make_ds(5), batch_size=bad)


def test_option_conflicts():
    ds = make_ds(5)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(TypeError, match="map-style"):
        DataLoader([1, 2, 3].__iter__())


def test_custom_samplers():
    ds = make_ds(10)
    loader = DataLoader(ds, batch_sampler=[[3, 1], [0]])
    assert [y.tolist() for _, y in loader] == [[3, 1], [0]] and loader.batch_size is None
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == [[0, 1, 2], [3, 4, 5],
                                                                         [6]]
    assert len(BatchSampler(range(7), 3, True)) == 2
    assert list(BatchSampler(iter(range(7)), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    g = dl.Generator().manual_seed(0)
    rs = RandomSampler(ds, replacement=True, num_samples=25, generator=g)
    idx = list(rs)
    assert len(idx) == 25 and max(idx) < 10
    loader = DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, num_samples=23))
    ids = epoch_ids(loader)
    assert len(loader) == 6 and len(ids) == 23 and set(ids) == set(range(10))


def test_tensor_dataset_errors_and_arrays():
    with pytest.raises(ValueError, match=r"Size mismatch.*\[10, 9\]"):
        TensorDataset(dl.zeros(10, 2), dl.zeros(9))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(TypeError, match="Tensors or NumPy arrays"):
        TensorDataset([1, 2, 3])
    ds = TensorDataset(np.ones((4, 2)), np.arange(4))
    assert ds[2][1].item() == 2 and len(ds) == 4
    with pytest.raises(IndexError, match="out of range"):
        ds.get_batch(np.array([0, 4]))
    assert "4 samples" in repr(ds)


def test_subset_random_split_concat():
    ds = make_ds(10)
    sub = Subset(ds, [9, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 9
    assert [y.tolist() for _, y in DataLoader(sub, batch_size=2)] == [[9, 2], [5]]
    parts = random_split(ds, [7, 3], generator=dl.Generator().manual_seed(0))
    ids = sorted(int(i) for p in parts for i in p.indices)
    assert [len(p) for p in parts] == [7, 3] and ids == list(range(10))
    assert [len(p) for p in random_split(ds, [0.5, 0.25, 0.25])] == [6, 2, 2]  # torch's rule
    with pytest.raises(ValueError, match="sum to the dataset size 10"):
        random_split(ds, [5, 4])
    cat = ConcatDataset([ds, ListDataset(3)])
    assert len(cat) == 13 and cat[11][1] == 1 and len(ds + ds) == 20
    with pytest.raises(IndexError):
        cat[13]
    assert not hasattr(Subset(ListDataset(3), [0]), "get_batch")


@pytest.mark.parametrize("n,bs,shuffle,drop_last", [(1000, 25, True, False), (103, 10, False, True),
                                                    (103, 10, True, False), (7, 3, False, False),
                                                    (1, 4, True, True)])
def test_matches_torch_counts_and_shapes(n, bs, shuffle, drop_last):
    torch = pytest.importorskip("torch", reason="compares batch counts/shapes with torch")
    X = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    y = np.arange(n)
    ours = DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=shuffle, drop_last=drop_last)
    ref = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=bs, shuffle=shuffle, drop_last=drop_last)
    assert len(ours) == len(ref)
    got = [(tuple(a.shape), tuple(b.shape)) for a, b in ours]
    want = [(tuple(a.shape), tuple(b.shape)) for a, b in ref]
    assert got == want
    if not shuffle:
        for (a, b), (ta, tb) in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(a.numpy(), ta.numpy())
            np.testing.assert_array_equal(b.numpy(), tb.numpy())


@pytest.mark.parametrize("bad, dtype", [
    (np.array([["1.0", "2.0"], ["3.0", "x"]]), "<U3"),
    (np.array([1.0, "a", None], dtype=object), "object"),
    (np.array([b"ab", b"cd"]), "|S2"),
])
def test_tensor_dataset_refuses_arrays_that_are_not_numbers(bad, dtype):
    with pytest.raises(TypeError, match=f"argument 1 is an array of dtype {re.escape(dtype)}"):
        TensorDataset(np.zeros((len(bad), 2)), bad)


@pytest.mark.parametrize("row, col, value, kind", [(7, 2, np.nan, "NaN"), (0, 0, np.inf, "inf"),
                                                    (19, 1, -np.inf, "inf")])
def test_tensor_dataset_names_the_row_and_column_of_non_finite_data(row, col, value, kind):
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    X[row, col] = value
    with pytest.raises(ValueError) as err:
        TensorDataset(X, np.zeros(20, dtype=np.int64))
    msg = str(err.value)
    assert f"argument 0 has 1 {kind} value(s), the first at row {row}, column {col}" in msg
    assert "learning rate" not in msg
    y = np.zeros(20)
    y[row] = value
    with pytest.raises(ValueError, match=f"argument 1 has 1 {kind} value\\(s\\), the first at "
                       f"row {row} "):
        TensorDataset(np.zeros((20, 3)), y)
    kept = TensorDataset(X, allow_nonfinite=True)  # opt-out for data the model masks itself
    assert np.isnan(kept.tensors[0].numpy()).sum() == (1 if kind == "NaN" else 0)


def test_nan_data_is_reported_before_training_not_as_divergence():
    from descentlab import nn, optim
    from descentlab.train import fit

    X = np.random.default_rng(1).normal(size=(64, 2))
    X[40, 1] = np.nan
    with pytest.raises(ValueError, match="row 40, column 1") as err:
        model = nn.Linear(2, 2)
        loader = DataLoader(TensorDataset(X, np.zeros(64, dtype=np.int64)), batch_size=16)
        fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader, 1,
            verbose="none")
    assert "diverged" not in str(err.value)
