"""TensorFlow Playground's data: its two regression sets and its input features.

The classification sets (circle, xor, gaussians, spiral, moons) live in :mod:`.datasets`; this
module adds the regression ones, "plane" and "multi-gaussian", on the same 2-D box, and the
feature columns the Playground lets you feed the network instead of (x, y):
x, y, x², y², xy, sin x, sin y.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .datasets import Seed, _check, _finish, _rng

__all__ = ["FEATURES", "make_plane", "make_multi_gaussian", "feature_columns"]

#: Feature name → the column it computes from a (n, 2) array of points (x, y).
FEATURES: dict[str, Any] = {
    "x": lambda p: p[:, 0],
    "y": lambda p: p[:, 1],
    "x2": lambda p: p[:, 0] * p[:, 0],
    "y2": lambda p: p[:, 1] * p[:, 1],
    "xy": lambda p: p[:, 0] * p[:, 1],
    "sinx": lambda p: np.sin(p[:, 0]),
    "siny": lambda p: np.sin(p[:, 1]),
}

# Centres and signs of the multi-gaussian bumps (a fixed layout, as in the Playground).
_BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
          (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def feature_columns(points: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """The chosen feature columns of (n, 2) points, shape (n, len(features)).

    Raises:
        ValueError: for an unknown or repeated feature, or none at all.
    """
    if not features:
        raise ValueError(f"choose at least one input feature from {', '.join(FEATURES)}")
    bad = [f for f in features if f not in FEATURES]
    if bad:
        raise ValueError(f"unknown feature(s) {', '.join(map(repr, bad))}; choose from "
                         f"{', '.join(FEATURES)}")
    if len(set(features)) != len(features):
        raise ValueError(f"features {list(features)} repeat a name; list each once")
    p = np.asarray(points, dtype=np.float64)
    return np.stack([FEATURES[f](p) for f in features], axis=1)


def make_plane(n_samples: int = 500, noise: float = 0.0, seed: Seed = None,
               dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground's regression "plane": ``y = (x₁ + x₂)/12`` on ``U(-6, 6)²`` (y in [-1, 1]).

    As in the Playground, noise moves the point the label is read at, by ``U(-6, 6)·noise``.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    X = rng.uniform(-6, 6, (n_samples, 2))
    noisy = X + rng.uniform(-6, 6, X.shape) * noise
    y = (noisy[:, :1] + noisy[:, 1:]) / 12.0
    return _finish(X, y, rng, dtype)


def make_multi_gaussian(n_samples: int = 500, noise: float = 0.0, seed: Seed = None,
                        dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground's regression "multi-gaussian": six signed bumps on ``U(-6, 6)²``.

    ``y = Σₖ sₖ·exp(−‖p − cₖ‖²/2)`` with centres cₖ on a 3×2 layout and signs sₖ = ±1 in a
    checkerboard, read at ``p = x + U(-6, 6)·noise`` (so y lies in about [-1, 1]).
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    X = rng.uniform(-6, 6, (n_samples, 2))
    p = X + rng.uniform(-6, 6, X.shape) * noise
    y = np.zeros(n_samples)
    for cx, cy, sign in _BUMPS:
        y += sign * np.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2) / 2.0)
    return _finish(X, y[:, None], rng, dtype)
