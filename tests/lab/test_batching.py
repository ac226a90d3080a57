"""GD vs SGD vs mini-batch: same init, loss per epoch / iteration / second; gradient noise ~ 1/B."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.data import DataLoader, TensorDataset
from descentlab.lab import batching as B


def test_epoch_vs_iteration_count_from_the_notes():
    # 1000 images, batch 25: 40 iterations per epoch; 100 epochs = 4000 iterations.
    assert B.iterations_per_epoch(1000, 25) == 40
    assert 100 * B.iterations_per_epoch(1000, 25) == 4000
    assert B.iterations_per_epoch(1000, 32) == 32 and B.iterations_per_epoch(1000, 32, True) == 31
    ds = TensorDataset(dl.zeros(1000, 1), dl.zeros(1000))
    assert len(DataLoader(ds, batch_size=25)) == B.iterations_per_epoch(1000, 25)
    with pytest.raises(ValueError):
        B.iterations_per_epoch(10, 0)


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return B.compare_batch_sizes((X, y), {"GD": None, "SGD": 1, "mini-batch": 16}, epochs=4,
                                 lr=0.1, hidden=(8,), seed=0)


def test_runs_share_the_init_and_count_iterations(runs):
    assert list(runs) == ["GD", "SGD", "mini-batch"]
    starts = {r.epoch_loss[0] for r in runs.values()}
    assert len(starts) == 1  # the same model and init for every batch size
    for r, per_epoch in zip(runs.values(), (1, 64, 4)):
        assert r.iterations_per_epoch == per_epoch
        np.testing.assert_array_equal(r.epoch_iterations, np.arange(5) * per_epoch)
        assert len(r.iteration_loss) == len(r.iteration_time) == 4 * per_epoch
        assert r.epoch_loss.shape == r.epoch_time.shape == r.epochs.shape == (5,)
        assert np.all(np.diff(r.epoch_time) >= 0) and np.all(np.diff(r.iteration_time) >= 0)
    assert runs["GD"].batch_size == 64


def test_more_updates_per_epoch_descend_faster_per_epoch(runs):
    # Same α: GD takes 4 steps in 4 epochs, SGD 256, so SGD is further down after 4 epochs.
    final = {name: r.epoch_loss[-1] for name, r in runs.items()}
    assert final["SGD"] < final["mini-batch"] < final["GD"]
    # GD with a small step is a monotone descent on the full loss.
    assert np.all(np.diff(runs["GD"].epoch_loss) < 0)


def test_lr_per_run_and_validation():
    data = (np.random.default_rng(1).standard_normal((10, 2)), np.arange(10) % 2)
    out = B.compare_batch_sizes(data, {"a": 5, "b": 10}, epochs=1, lr={"a": 0.5, "b": 0.01})
    assert out["a"].lr == 0.5 and out["b"].lr == 0.01
    with pytest.raises(ValueError, match="lr has no entry"):
        B.compare_batch_sizes(data, {"a": 5}, epochs=1, lr={"b": 0.1})
    with pytest.raises(ValueError, match="batch size"):
        B.compare_batch_sizes(data, {"a": 11}, epochs=1)


def test_per_sample_gradients_average_to_the_batch_gradient():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((12, 2)), rng.integers(0, 2, 12)
    model = nn.Sequential(nn.Linear(2, 5, dtype=dl.float64), nn.Tanh(),
                          nn.Linear(5, 2, dtype=dl.float64))
    G = B.per_sample_gradients(model, X, y)
    idx = np.array([0, 3, 3, 7])
    nn.functional.cross_entropy(model(dl.tensor(X[idx])), dl.tensor(y[idx])).backward()
    batch_grad = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    np.testing.assert_allclose(G[idx].mean(0), batch_grad, rtol=1e-12, atol=1e-15)
    bn = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="eval"):
        B.per_sample_gradients(bn, X, y)


def test_gradient_noise_falls_like_one_over_batch_size():
    noise = B.gradient_noise(batch_sizes=(2, 8, 32), draws=3000, seed=0)
    ratios = noise.variance[:-1] / noise.variance[1:]
    np.testing.assert_allclose(ratios, 4.0, rtol=0.15)
    np.testing.assert_allclose(noise.variance, noise.predicted, rtol=0.1)
    np.testing.assert_allclose(noise.predicted * noise.batch_sizes, noise.trace_cov)


def test_gradient_noise_without_replacement_vanishes_at_full_batch():
    noise = B.gradient_noise(batch_sizes=(1, 200), draws=50, replace=False, seed=0)
    assert noise.variance[1] == pytest.approx(0.0, abs=1e-20)
    assert noise.predicted[1] == 0.0
