"""Tensor creation functions with PyTorch's names, signatures and dtype defaults."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import dtypes
from .args import promote_pair, shape_arg, to_tensor
from .graph import label
from .ops import Cat, Pad
from .tensor import Tensor


def _finish(arr: np.ndarray, requires_grad: bool, device: Any) -> Tensor:
    dtypes.check_device(device)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats → float32 by default, ints → int64)."""
    return _finish(dtypes.as_array(data, dtype), requires_grad, device)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with an ndarray/Tensor of the same dtype."""
    if isinstance(data, Tensor) and (dtype is None or dtypes.resolve(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.resolve(dtype) == data.dtype):
        return _finish(data, False, device)
    return tensor(data, dtype, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._wrap(array)


def _size(size: tuple) -> tuple:
    return tuple(int(s) for s in shape_arg(size))


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.resolve(dtype) if dtype is not None else dtypes.get_default_dtype()


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size`` (default float dtype), as torch.zeros."""
    return _finish(np.zeros(_size(size), _float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size`` (default float dtype), as torch.ones."""
    return _finish(np.ones(_size(size), _float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of shape ``size`` (arbitrary values), as torch.empty."""
    return _finish(np.empty(_size(size), _float_dtype(dtype)), requires_grad, device)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (dtype from the value)."""
    if dtype is None:
        dtype = dtypes.as_array(fill_value).dtype
    values = np.full(_size((size,)), fill_value, dtypes.resolve(dtype))
    return _finish(values, requires_grad, device)


def _like(t: Tensor, dtype: Any) -> np.dtype:
    return t.dtype if dtype is None else dtypes.resolve(dtype)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, by default, the dtype) of ``t``."""
    return _finish(np.zeros(t.shape, _like(t, dtype)), requires_grad, device)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, by default, the dtype) of ``t``."""
    return _finish(np.ones(t.shape, _like(t, dtype)), requires_grad, device)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor with the shape (and by default the dtype) of ``t``."""
    return _finish(np.empty(t.shape, _like(t, dtype)), requires_grad, device)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape (and by default the dtype) of ``t``."""
    return _finish(np.full(t.shape, fill_value, _like(t, dtype)), requires_grad, device)


def rand_like(t: Tensor, dtype: Any = None, generator: Any = None) -> Tensor:
    """Uniform samples on [0, 1) with the shape (and by default the dtype) of ``t``."""
    return rand(t.shape, dtype=_like(t, dtype), generator=generator)


def randn_like(t: Tensor, dtype: Any = None, generator: Any = None) -> Tensor:
    """Standard normal samples with the shape (and by default the dtype) of ``t``."""
    return randn(t.shape, dtype=_like(t, dtype), generator=generator)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive); integers → int64, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    arr = np.arange(start, end, step, dtype=np.float64).astype(dtypes.resolve(dtype))
    return _finish(arr, requires_grad, device)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    arr = np.linspace(start, end, int(steps)).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, device)


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None) -> Tensor:
    """``steps`` values base**x for x evenly spaced from ``start`` to ``end``."""
    return Tensor._wrap((base ** np.linspace(start, end, int(steps))).astype(_float_dtype(dtype)))


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n × m identity matrix (m = n by default)."""
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the global generator (or ``generator``)."""
    arr = dtypes.rng(generator).random(_size(size)).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, device)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the global generator (or ``generator``)."""
    arr = dtypes.rng(generator).standard_normal(_size(size)).astype(_float_dtype(dtype))
    return _finish(arr, requires_grad, device)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), generator: Any = None,
            dtype: Any = None, device: Any = None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` also works, as torch)."""
    if high is None:
        low, high = 0, low
    if isinstance(high, tuple):
        low, high, size = 0, low, high
    arr = dtypes.rng(generator).integers(low, high, size=tuple(size)).astype(
        dtypes.resolve(dtype) if dtype is not None else dtypes.int64)
    return _finish(arr, False, device)


def randperm(n: int, generator: Any = None, dtype: Any = None) -> Tensor:
    """A random permutation of 0, …, n − 1 (int64 by default)."""
    return Tensor._wrap(dtypes.rng(generator).permutation(n).astype(
        dtypes.resolve(dtype) if dtype is not None else dtypes.int64))


def normal(mean: float, std: float, size: Sequence[int], generator: Any = None) -> Tensor:
    """Normal samples: mean + std·N(0, 1), of shape ``size``."""
    return randn(*size, generator=generator) * std + mean


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dim (gradient slices flow back to each input)."""
    ts = [to_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]
    base = ts[0]
    for t in ts[1:]:
        base, _ = promote_pair(base, t)
    ts = [t.to(base.dtype) for t in ts]
    d = dim % ts[0].ndim if ts[0].ndim else 0
    for i, t in enumerate(ts[1:], 1):
        if t.ndim != ts[0].ndim or any(
            a != b for k, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if k != d
        ):
            raise RuntimeError(
                f"cat(): sizes of tensors must match except in dimension {d}: tensor 0 has shape "
                f"{tuple(ts[0].shape)} but tensor {i} has shape {tuple(t.shape)}"
            )
    return Cat.apply(*ts, dim=d)


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along a new dim."""
    ts = [to_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts[1:], 1):
        if t.shape != ts[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tuple(ts[0].shape)} at "
                f"entry 0 and {tuple(t.shape)} at entry {i}"
            )
    d = dim % (ts[0].ndim + 1)
    return label(cat([t.unsqueeze(d) for t in ts], d), "StackBackward0")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with a constant: ``pad`` = (left, right) for the last dim, then the one before, …"""
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r}: only 'constant' is supported")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"pad: padding length {len(pad)} must be even and at most 2 × ndim ({2 * input.ndim})"
        )
    return Pad.apply(input, pad=tuple(int(p) for p in pad), value=value)
