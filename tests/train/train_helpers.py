"""Small models and data shared by the training tests (fast: a few hundred samples, 2-D)."""

from __future__ import annotations

import numpy as np

import descentlab as dl
from descentlab import nn
from descentlab.data import DataLoader, TensorDataset
from descentlab.train import build_mlp


def blobs(n: int = 128, seed: int = 0, separation: float = 2.0) -> TensorDataset:
    """Two Gaussian blobs in 2-D (centres ±separation, unit spread), float32 inputs and int64
    labels; the default is separable, small separations overlap."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + separation * (2 * y[:, None] - 1)
    return TensorDataset(dl.tensor(x.astype(np.float32)), dl.tensor(y.astype(np.int64)))


def loader(ds: TensorDataset, seed: int = 0, batch_size: int = 16) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, shuffle=True,
                      generator=dl.Generator().manual_seed(seed))


def dropout_mlp(seed: int = 0) -> nn.Module:
    """An MLP with dropout, so the global generator's state matters for exact resumes."""
    dl.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 2))


def mlp(seed: int = 0) -> nn.Module:
    dl.manual_seed(seed)
    return build_mlp(2, (8,), 2, "relu")


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}
