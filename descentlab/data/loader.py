"""Samplers, batch collation and the ``DataLoader`` (``torch.utils.data`` names and semantics)."""

from __future__ import annotations

import collections.abc
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd.tensor import Tensor
from .dataset import Dataset


class Sampler:
    """Yields dataset indices for one epoch; subclass and define ``__iter__`` (and ``__len__``)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class _ArraySampler(Sampler):
    """A sampler whose epoch is one index array, so batches can be slices of it (no Python loop)."""

    def indices(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())


class SequentialSampler(_ArraySampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """A random permutation of the indices each epoch (or draws with replacement).

    Without a ``generator``, each epoch draws one seed from the global generator
    (``dl.manual_seed``) as torch does, so a seeded run shuffles identically and consumes the same
    amount of global randomness per epoch whatever the dataset size.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices with replacement instead of permuting.
        num_samples: how many indices per epoch (default ``len(data_source)``).
        generator: a ``dl.Generator`` to draw from (advanced by each epoch).
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: _dt.Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer (got {num_samples!r})")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _rng(self) -> np.random.Generator:
        if self.generator is not None:
            return self.generator._rng
        return np.random.default_rng(int(_dt.rng(None).integers(2**63)))

    def indices(self) -> np.ndarray:
        n, rng = len(self.data_source), self._rng()
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        # Whole permutations, concatenated when num_samples exceeds n (as torch does).
        reps = -(-self.num_samples // n) if n else 0
        perm = [rng.permutation(n) for _ in range(reps)]
        return np.concatenate(perm)[: self.num_samples] if perm else np.empty(0, np.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given ``indices`` in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: _dt.Generator | None = None) -> None:
        self._indices = np.asarray(indices, dtype=np.int64)
        self.generator = generator

    def indices(self) -> np.ndarray:
        return self._indices[_dt.rng(self.generator).permutation(len(self._indices))]

    def __len__(self) -> int:
        return len(self._indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into batches of ``batch_size`` (the last one short unless
    ``drop_last``). Iterating yields lists, as torch; the loader takes index arrays directly."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_batch_size(batch_size)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def batches(self) -> Iterator[np.ndarray]:
        """The epoch's batches as int64 arrays (slices of one index array when possible)."""
        if isinstance(self.sampler, _ArraySampler):
            idx = self.sampler.indices()
            stop = len(idx) - len(idx) % self.batch_size if self.drop_last else len(idx)
            for start in range(0, stop, self.batch_size):
                yield idx[start:start + self.batch_size]
            return
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield np.asarray(batch, dtype=np.int64)
                batch = []
        if batch and not self.drop_last:
            yield np.asarray(batch, dtype=np.int64)

    def __iter__(self) -> Iterator[list[int]]:
        return (b.tolist() for b in self.batches())

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def _check_batch_size(batch_size: Any) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer (got {batch_size!r}); use "
                         "len(dataset) for full-batch gradient descent, 1 for SGD, or anything "
                         "in between for mini-batch SGD")


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors and arrays are stacked along a new first dimension; Python ints become an int64
    tensor and floats a float64 one (torch's rule); strings stay a list; tuples/lists are collated
    field by field (returned as a list, as torch does), dicts key by key.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(np.stack([b._data for b in batch]))
    if isinstance(elem, (np.ndarray, np.number, np.bool_)):
        return Tensor._wrap(np.stack(batch) if isinstance(elem, np.ndarray) else np.array(batch))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.bool_ if isinstance(elem, bool) else np.int64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in the batch should be of equal size; write a "
                               "collate_fn to batch samples of different lengths")
        return [default_collate(list(f)) for f in zip(*batch, strict=True)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(elem).__name__}; "
                    "return Tensors, arrays, numbers, dicts or tuples, or pass a collate_fn")


class DataLoader:
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader``.

    The batch size picks the flavour of gradient descent: ``batch_size=len(dataset)`` is
    full-batch (batch) gradient descent, ``batch_size=1`` is stochastic gradient descent (SGD),
    anything in between is mini-batch SGD. ``len(loader)`` is the number of iterations (optimizer
    steps) per epoch: ``ceil(N / batch_size)``, or ``floor`` with ``drop_last=True``. For example
    1000 samples at batch 25 give 40 iterations per epoch, so 100 epochs are 4000 iterations.

    Each ``iter(loader)`` is one epoch: with ``shuffle=True`` every sample appears exactly once in
    a fresh random order. Shuffling is reproducible: seed the global generator
    (``dl.manual_seed(s)``) or pass ``generator=dl.Generator().manual_seed(s)``.

    Batches are descentlab Tensors. A dataset with ``get_batch(indices)`` (``TensorDataset``,
    ``NpyDataset``, their ``Subset``\\ s) is sliced one index array per batch with no per-sample
    loop; any other dataset is read sample by sample and stacked by ``collate_fn``.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch (a positive integer).
        shuffle: reshuffle the order every epoch.
        sampler: a custom index order (excludes ``shuffle``).
        batch_sampler: yields whole batches of indices (excludes ``batch_size``, ``shuffle``,
            ``sampler``, ``drop_last``).
        num_workers: accepted for PyTorch compatibility; loading always runs in the calling
            process (NumPy slicing is faster than shipping batches between processes here).
        collate_fn: builds a batch from a list of samples (default ``default_collate``).
        pin_memory: accepted for PyTorch compatibility; there is only the CPU.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: a ``dl.Generator`` for the shuffle order (default: the global generator).
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[int] | None = None,
                 batch_sampler: Iterable[Sequence[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, generator: _dt.Generator | None = None) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader needs a map-style dataset with __getitem__ and __len__ "
                            f"(got {type(dataset).__name__})")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0 (got {num_workers})")
        custom_batches = batch_sampler is not None
        if custom_batches:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last; set only batch_sampler")
        else:
            _check_batch_size(batch_size)
            if sampler is not None and shuffle:
                raise ValueError("sampler option is mutually exclusive with shuffle; shuffle "
                                 "inside the sampler (e.g. RandomSampler) instead")
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = None if custom_batches else batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self.collate_fn = collate_fn
        self._fast = collate_fn is None and hasattr(dataset, "get_batch")

    def _index_batches(self) -> Iterator[np.ndarray]:
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler.batches()
        return (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self._fast:
            for idx in self._index_batches():
                batch = self.dataset.get_batch(idx)
                # Same container as the sample-by-sample path (torch collates tuples to lists).
                yield list(batch) if isinstance(batch, tuple) else batch
            return
        collate = self.collate_fn or default_collate
        for idx in self._index_batches():
            yield collate([self.dataset[i] for i in idx.tolist()])

    def __len__(self) -> int:
        return len(self.batch_sampler)  # type: ignore[arg-type]
