"""Datasets: the map-style ``Dataset`` protocol and the in-memory / on-disk implementations.

As in ``torch.utils.data``, a dataset is anything with ``__getitem__(i)`` and ``__len__``. A dataset
may also define ``get_batch(indices)``, which returns a whole batch, already stacked, from an array
of indices; the ``DataLoader`` uses it (when no ``collate_fn`` is given) so that a batch costs a
few NumPy calls instead of a Python loop over samples. ``TensorDataset`` and ``NpyDataset``
define it, and ``Subset`` passes it through.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd.tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: ``dataset[i]`` is sample ``i`` and ``len(dataset)`` the count.

    Subclass it and define ``__getitem__`` and ``__len__`` (as ``torch.utils.data.Dataset``).
    ``a + b`` concatenates two datasets.
    """

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _check_index_array(indices: np.ndarray, n: int, name: str) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"{name}: index {bad} is out of range for a dataset of {n} samples")
    return idx


_NUMERIC_KINDS = "biufc"  # bool, integers, floats, complex: what a model can compute with


def nonfinite_report(array: np.ndarray, what: str,
                     row_numbers: np.ndarray | None = None) -> str | None:
    """None when every value is finite; else one sentence saying how many NaN/±inf values
    ``array`` holds and where the first is (row, then column or position), with the fix.

    Args:
        array: the data, samples along axis 0.
        what: how the sentence names the array, e.g. ``"TensorDataset argument 0"``.
        row_numbers: the dataset row of each row of ``array`` (for a batch); default 0, 1, ...
    """
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    bad = ~np.isfinite(array)
    first = np.unravel_index(int(np.argmax(bad)), array.shape)
    nans = int(np.isnan(array).sum())
    counts = ", ".join(f"{n} {name}" for n, name in ((nans, "NaN"), (int(bad.sum()) - nans, "inf"))
                       if n)
    row = int(first[0]) if row_numbers is None else int(row_numbers[first[0]])
    where = f"row {row}"
    if len(first) == 2:
        where += f", column {int(first[1])}"
    elif len(first) > 2:
        where += f", position {tuple(int(i) for i in first[1:])}"
    return (f"{what} has {counts} value(s), the first at {where} ({array[first]}); remove or "
            "fill those rows before training (e.g. X[np.isfinite(X).all(axis=1)]), as a model "
            "cannot learn from them")


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are rows of tensors sharing a first dimension (``torch.utils.data.TensorDataset``).

    ``TensorDataset(X, y)[i] == (X[i], y[i])``. NumPy arrays are accepted too and wrapped without a
    copy. A batch is gathered with one fancy-index per tensor (no per-sample loop).

    Unlike PyTorch's, it checks its data once when built: only numbers (no object or string
    arrays), and no NaN or ±inf unless ``allow_nonfinite=True``, so bad data is reported with
    its row and column instead of surfacing later as a diverged training run.

    Args:
        *tensors: Tensors or arrays of numbers, all with the same size along dimension 0.
        allow_nonfinite: accept NaN/±inf values (e.g. a mask the model handles itself).
    """

    def __init__(self, *tensors: Tensor | np.ndarray, allow_nonfinite: bool = False) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(X, y)")
        wrapped = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor._wrap(t)
            elif not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset argument {i} is a {type(t).__name__}; "
                                "pass descentlab Tensors or NumPy arrays")
            if t._data.dtype.kind not in _NUMERIC_KINDS:
                raise TypeError(f"TensorDataset argument {i} is an array of dtype "
                                f"{t._data.dtype} (not numbers); convert it first, e.g. "
                                "X.astype(np.float32), and encode text labels as integers "
                                "(np.unique(y, return_inverse=True)[1])")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset argument {i} is a 0-d tensor; each tensor needs "
                                 "a first dimension indexing the samples")
            problem = None if allow_nonfinite else nonfinite_report(
                t._data, f"TensorDataset argument {i}")
            if problem:
                raise ValueError(problem)
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if len(set(sizes)) > 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}; every "
                             "tensor must hold one row per sample (e.g. X: (N, d) and y: (N,))")
        self.tensors: tuple[Tensor, ...] = tuple(wrapped)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __repr__(self) -> str:
        fields = ", ".join(f"{tuple(t.shape[1:])} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({len(self)} samples: {fields})"

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """The samples at ``indices``, stacked along a new first dimension (fresh arrays)."""
        idx = _check_index_array(indices, len(self), "TensorDataset")
        # Data tensors normally do not require grad; when one does, index through autograd so
        # gradients still reach it.
        return tuple(t[idx] if t.requires_grad else Tensor._wrap(np.take(t._data, idx, axis=0))
                     for t in self.tensors)


class NpyDataset(Dataset[tuple[Tensor, ...]]):
    """A dataset over ``.npy`` files opened memory-mapped, for data bigger than memory.

    ``NpyDataset("x.npy", "y.npy")[i] == (X[i], y[i])``, where the arrays are read with
    ``np.load(path, mmap_mode="r")``: constructing the dataset reads only the headers, and a
    batch reads only its own rows from disk (the OS page cache decides what stays resident), so the
    loader's working set is a few batches whatever the file size. Rows of a batch are read in
    sorted order (sequential disk access) and returned in the order asked for.

    Write such files chunk by chunk with ``np.lib.format.open_memmap(path, mode="w+", ...)``.
    Each batch is checked for NaN/±inf as it is read (the error names the file, row and column).

    Args:
        *paths: one ``.npy`` file per field, all with the same first dimension.
        dtypes: optional dtype per field to convert batches to (``None`` keeps the file's dtype),
            e.g. ``(dl.float32, dl.int64)`` for float64 features stored on disk.
    """

    def __init__(self, *paths: str | os.PathLike, dtypes: Sequence[Any] | None = None) -> None:
        if not paths:
            raise ValueError("NpyDataset needs at least one .npy path, e.g. NpyDataset('x.npy')")
        arrays = []
        for p in paths:
            if not os.path.isfile(p):
                raise FileNotFoundError(f"NpyDataset: no such file {os.fspath(p)!r}; write it "
                                        "with np.save or np.lib.format.open_memmap first")
            try:
                arr = np.load(p, mmap_mode="r", allow_pickle=False)
            except ValueError as e:
                raise ValueError(f"NpyDataset: {os.fspath(p)!r} is not a readable .npy file "
                                 f"({e}); re-create it with np.save") from e
            if arr.ndim == 0:
                raise ValueError(f"NpyDataset: {os.fspath(p)!r} holds a 0-d array; it needs a "
                                 "first dimension indexing the samples")
            if arr.dtype.kind not in _NUMERIC_KINDS:
                raise TypeError(f"NpyDataset: {os.fspath(p)!r} holds dtype {arr.dtype}, not "
                                "numbers; convert it to a numeric dtype and save it again")
            arrays.append(arr)
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) > 1:
            raise ValueError(f"NpyDataset: first dimensions differ across files {sizes}; every "
                             "file must hold one row per sample")
        if dtypes is not None and len(dtypes) != len(arrays):
            raise ValueError(f"NpyDataset: {len(dtypes)} dtypes given for {len(arrays)} files; "
                             "give one per file (None keeps the file's dtype)")
        self.paths = tuple(os.fspath(p) for p in paths)
        self.arrays: tuple[np.memmap, ...] = tuple(arrays)
        self.dtypes = tuple(None if d is None else _dt.resolve(d)
                            for d in (dtypes or (None,) * len(arrays)))

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def _convert(self, rows: np.ndarray, dtype: np.dtype | None) -> Tensor:
        # np.asarray drops the memmap subclass so the batch is a plain in-memory array.
        rows = np.asarray(rows)
        return Tensor._wrap(rows if dtype is None else rows.astype(dtype, copy=False))

    def _check_rows(self, rows: np.ndarray, path: str, row_numbers: np.ndarray) -> None:
        # The files may exceed memory, so their values are checked as batches are read.
        problem = nonfinite_report(rows, f"NpyDataset file {path!r}", row_numbers)
        if problem:
            raise ValueError(problem)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        out = []
        for a, d, path in zip(self.arrays, self.dtypes, self.paths, strict=True):
            row = np.array(a[index])
            self._check_rows(row[None], path, np.array([index % len(self)]))
            out.append(self._convert(row, d))
        return tuple(out)

    def get_batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """The rows at ``indices`` read from disk in sorted order, returned in the asked order.

        Raises:
            ValueError: a row holds NaN or ±inf (naming the file, row and column).
        """
        idx = _check_index_array(indices, len(self), "NpyDataset") % max(len(self), 1)
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        out = []
        for a, d, path in zip(self.arrays, self.dtypes, self.paths, strict=True):
            rows = a[sorted_idx]
            self._check_rows(rows, path, sorted_idx)
            batch = np.empty_like(rows)
            batch[order] = rows
            out.append(self._convert(batch, d))
        return tuple(out)


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, as ``torch.utils.data.Subset``."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index: int) -> T_co:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def __getattr__(self, name: str) -> Any:
        # Expose get_batch only when the wrapped dataset has one, so the loader's fast-path check
        # (hasattr) stays truthful.
        if name == "get_batch" and hasattr(self.dataset, "get_batch"):
            return lambda indices: self.dataset.get_batch(
                self.indices[_check_index_array(indices, len(self), "Subset")])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class ConcatDataset(Dataset[T_co]):
    """Datasets one after another, as ``torch.utils.data.ConcatDataset``."""

    def __init__(self, datasets: Sequence[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} samples")
        index %= n
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[d - 1] if d else 0
        return self.datasets[d][index - start]


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float],
                 generator: _dt.Generator | None = None) -> list[Subset[T_co]]:
    """Split ``dataset`` into non-overlapping random subsets, as ``torch.utils.data.random_split``.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (the remainder
    of the floors goes round-robin to the first subsets, as torch does).

    Args:
        dataset: the dataset to split.
        lengths: sizes or fractions of the parts.
        generator: a ``dl.Generator`` for the permutation; default the global one
            (``dl.manual_seed``).
    """
    n = len(dataset)
    if lengths and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        for f in lengths:
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction {f} is not in [0, 1]")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(c) for c in lengths]
    if any(c < 0 for c in counts) or sum(counts) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} must be non-negative and sum to "
                         f"the dataset size {n} (or be fractions summing to 1)")
    perm = _dt.rng(generator).permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
