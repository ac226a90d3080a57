"""Synthetic datasets: TensorFlow Playground's 2-D classification sets, moons, and 1-D regression.

Every generator returns ``(X, y)`` NumPy arrays with rows in random order (like scikit-learn's
``make_*``): ``X`` of shape ``(n_samples, n_features)`` in the default float dtype; for
classification ``y`` holds int64 class indices ``0..n_classes-1`` (what ``CrossEntropyLoss``
takes); for regression ``y`` has shape ``(n_samples, 1)`` so it matches a model's output.

``seed`` is an int, a ``dl.Generator``, or ``None`` for the global generator (``dl.manual_seed``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import dtypes as _dt

Seed = int | _dt.Generator | None


def _rng(seed: Seed) -> np.random.Generator:
    if seed is None or isinstance(seed, _dt.Generator):
        return _dt.rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int, a dl.Generator or None (got {type(seed).__name__})")


def _check(n_samples: Any, noise: Any, min_samples: int = 1) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) \
            or n_samples < min_samples:
        raise ValueError(f"n_samples must be an integer >= {min_samples} (got {n_samples!r})")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) \
            or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0 (got {noise!r}); 0 gives clean "
                         "data, Playground's slider goes up to 0.5")


def _split(n: int, k: int) -> list[int]:
    """``n`` samples over ``k`` classes as evenly as possible (the first classes get the extra)."""
    return [n // k + (i < n % k) for i in range(k)]


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
            dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(len(X))
    y_dtype = np.int64 if y.dtype.kind in "iub" else _dt.resolve(dtype)
    return X[perm].astype(_dt.resolve(dtype)), y[perm].astype(y_dtype)


def make_circle(n_samples: int = 500, noise: float = 0.0, seed: Seed = None,
                dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground's "circle": a disc (class 1, r < 2.5) inside a ring (class 0, 3.5 < r < 5).

    As in the Playground, noise perturbs the point used for the label, not the point itself:
    ``label = |p + U(-5, 5)·noise| < 2.5``, so noise flips labels near the boundary.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    n_in, n_out = _split(n_samples, 2)
    radius = 5.0
    r = np.concatenate([rng.uniform(0, radius * 0.5, n_in),
                        rng.uniform(radius * 0.7, radius, n_out)])
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    noisy = X + rng.uniform(-radius, radius, X.shape) * noise
    y = np.linalg.norm(noisy, axis=1) < radius * 0.5
    return _finish(X, y, rng, dtype)


def make_xor(n_samples: int = 500, noise: float = 0.0, seed: Seed = None,
             dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground's "exclusive or": uniform points in [-5.3, 5.3]², class 1 where x·y >= 0.

    Points keep a 0.3 gap from the axes; the label is taken at ``p + U(-5, 5)·noise``.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    X = rng.uniform(-5, 5, (n_samples, 2))
    X += np.where(X > 0, 0.3, -0.3)
    noisy = X + rng.uniform(-5, 5, X.shape) * noise
    y = noisy[:, 0] * noisy[:, 1] >= 0
    return _finish(X, y, rng, dtype)


def make_gaussians(n_samples: int = 500, noise: float = 0.0, seed: Seed = None,
                   dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground's "Gaussian": two blobs at (2, 2) (class 1) and (-2, -2) (class 0).

    The variance grows linearly with noise, from 0.5 at ``noise=0`` to 4 at ``noise=0.5``
    (``σ² = 0.5 + 7·noise``), as the Playground's scale does.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    n1, n0 = _split(n_samples, 2)
    std = math.sqrt(0.5 + 7.0 * noise)
    X = np.concatenate([rng.normal(2.0, std, (n1, 2)), rng.normal(-2.0, std, (n0, 2))])
    y = np.repeat([1, 0], [n1, n0])
    return _finish(X, y, rng, dtype)


def make_spiral(n_samples: int = 500, noise: float = 0.0, n_classes: int = 2,
                seed: Seed = None, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals (Playground's "spiral" for 2 classes; CS231n's for 3).

    Arm ``k`` has points ``r·(sin t, cos t) + U(-1, 1)·noise`` with ``r = 5·i/n`` and
    ``t = 1.75·2π·i/n + 2πk/n_classes`` for ``i = 0..n-1``.
    """
    _check(n_samples, noise, min_samples=max(int(n_classes), 1))
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) \
            or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2 (got {n_classes!r})")
    rng = _rng(seed)
    parts, labels = [], []
    for k, n in enumerate(_split(n_samples, n_classes)):
        frac = np.arange(n) / n
        r = 5.0 * frac
        t = 1.75 * frac * 2 * np.pi + 2 * np.pi * k / n_classes
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
                     + rng.uniform(-1, 1, (n, 2)) * noise)
        labels.append(np.full(n, k))
    return _finish(np.concatenate(parts), np.concatenate(labels), rng, dtype)


def make_moons(n_samples: int = 500, noise: float = 0.0, seed: Seed = None,
               dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons`` (Gaussian noise, σ=noise).

    Class 0 is the upper moon ``(cos θ, sin θ)``, class 1 the lower ``(1 − cos θ, 0.5 − sin θ)``.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)])
    X += rng.normal(0.0, noise, X.shape)
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish(X, y, rng, dtype)


def make_linear(n_samples: int = 200, n_features: int = 1, noise: float = 0.1,
                seed: Seed = None, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Linear regression data: ``y = X·w + b + noise·ε``, ``X ~ U(-1, 1)``, ``w, b, ε ~ N(0, 1)``.

    The true ``w`` and ``b`` are drawn from the same generator (so fixed by the seed).
    """
    _check(n_samples, noise)
    if isinstance(n_features, bool) or not isinstance(n_features, numbers.Integral) \
            or n_features < 1:
        raise ValueError(f"n_features must be an integer >= 1 (got {n_features!r})")
    rng = _rng(seed)
    w, b = rng.normal(size=(n_features, 1)), rng.normal()
    X = rng.uniform(-1, 1, (n_samples, n_features))
    y = X @ w + b + noise * rng.normal(size=(n_samples, 1))
    return _finish(X, y, rng, dtype)


def make_sine(n_samples: int = 200, noise: float = 0.1, seed: Seed = None,
              dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(x) + noise·ε`` with ``x ~ U(-π, π)``, ``ε ~ N(0, 1)``."""
    _check(n_samples, noise)
    rng = _rng(seed)
    X = rng.uniform(-np.pi, np.pi, (n_samples, 1))
    y = np.sin(X) + noise * rng.normal(size=(n_samples, 1))
    return _finish(X, y, rng, dtype)


def make_polynomial(n_samples: int = 200, coefs: Sequence[float] = (0.0, -2.0, 0.0, 1.0),
                    noise: float = 0.1, seed: Seed = None,
                    dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``y = Σₖ coefs[k]·xᵏ + noise·ε`` with ``x ~ U(-2, 2)`` (default ``x³ − 2x``)."""
    _check(n_samples, noise)
    if len(coefs) == 0:
        raise ValueError("coefs must hold at least one coefficient (coefs[k] multiplies x**k)")
    rng = _rng(seed)
    X = rng.uniform(-2, 2, (n_samples, 1))
    y = np.polynomial.polynomial.polyval(X, np.asarray(coefs, dtype=np.float64))
    y = y + noise * rng.normal(size=(n_samples, 1))
    return _finish(X, y, rng, dtype)
