"""lbfgs, bfgs, newton and newton-cg in the training loop: full batch, one ``step(closure)`` per
epoch, checked against torch.optim.LBFGS, least squares and SciPy's minimum."""

from __future__ import annotations

import numpy as np
import pytest
from train_helpers import blobs, mlp, weights

from descentlab import nn
from descentlab.data import DataLoader, load_dataset
from descentlab.train import OPTIMIZERS, RunConfig, Trainer, make_optimizer, train_run

SECOND_ORDER = [name for name, spec in OPTIMIZERS.items() if spec.closure]


def test_the_four_full_batch_methods_are_listed():
    assert SECOND_ORDER == ["lbfgs", "bfgs", "newton", "newton-cg"]


def test_lbfgs_in_the_trainer_matches_torch_lbfgs():
    torch = pytest.importorskip("torch")
    data = blobs(64, separation=0.7)
    model = mlp(seed=3)
    start = weights(model)
    opt = make_optimizer("lbfgs", model.parameters())
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), verbose="none")
    history = trainer.fit(DataLoader(data, batch_size=len(data)), epochs=6)

    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in start.items()})
    spec = dict(OPTIMIZERS["lbfgs"].fixed)
    topt = torch.optim.LBFGS(tmodel.parameters(), lr=OPTIMIZERS["lbfgs"].lr, **spec)
    X, y = (torch.tensor(t.numpy()) for t in data.tensors)

    def closure():
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tmodel(X), y)
        loss.backward()
        return loss

    losses = [float(topt.step(closure).detach()) for _ in range(6)]
    # Each epoch records the loss where its step started, as torch's step() returns it.
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-5)
    for key, value in weights(model).items():
        np.testing.assert_allclose(value, tmodel.state_dict()[key].numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, epochs", [("newton", 3), ("newton-cg", 3), ("bfgs", 12),
                                          ("lbfgs", 12)])
def test_full_batch_methods_reach_the_least_squares_fit(name, epochs, tmp_path):
    result = train_run(RunConfig(dataset="linear", hidden=(), optimizer=name, epochs=epochs,
                                 out=str(tmp_path), verbose="none"))
    assert result.batch_size == 200  # the whole training set
    X, y = (t.numpy().astype(np.float64) for t in load_dataset("linear").train.tensors)
    A = np.hstack([X, np.ones((len(X), 1))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    best = float(np.mean((A @ coef - y) ** 2))
    assert result.train["loss"] == pytest.approx(best, rel=1e-4)


@pytest.mark.parametrize("name, epochs", [("newton", 40), ("newton-cg", 10), ("bfgs", 60),
                                          ("lbfgs", 40)])
def test_full_batch_methods_reach_scipys_minimum_of_softmax_regression(name, epochs, tmp_path):
    optimize = pytest.importorskip("scipy.optimize")
    result = train_run(RunConfig(dataset="iris", hidden=(), optimizer=name, epochs=epochs,
                                 test_split=0.0, out=str(tmp_path), verbose="none"))
    X, y = (t.numpy() for t in load_dataset("iris", test_fraction=0.0).train.tensors)
    X = X.astype(np.float64)
    k = 3

    def nll(theta):
        W, b = theta[:-k].reshape(k, -1), theta[-k:]
        z = X @ W.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(y)), y]))
        p[np.arange(len(y)), y] -= 1
        grad_z = p / len(y)
        return loss, np.concatenate([(grad_z.T @ X).ravel(), grad_z.sum(axis=0)])

    ref = optimize.minimize(nll, np.zeros(k * X.shape[1] + k), jac=True, method="L-BFGS-B",
                            options={"gtol": 1e-10, "ftol": 1e-14, "maxiter": 10_000})
    # Iris is nearly separable: the minimum lies at large weights where the curvature is small,
    # so damped Newton approaches it last; all four get within 0.5% in float32.
    assert result.train["loss"] == pytest.approx(ref.fun, rel=5e-3)


@pytest.mark.parametrize("name", ["lbfgs", "bfgs"])
def test_full_batch_runs_resume_exactly(name, tmp_path):
    whole = train_run(RunConfig(dataset="moons", hidden=(8,), optimizer=name, epochs=6,
                                out=str(tmp_path / "a"), verbose="none"))
    train_run(RunConfig(dataset="moons", hidden=(8,), optimizer=name, epochs=3,
                        out=str(tmp_path / "b"), verbose="none"))
    resumed = train_run(RunConfig(dataset="moons", hidden=(8,), optimizer=name, epochs=6,
                                  out=str(tmp_path / "b"), verbose="none"), resume=True)
    assert resumed.resumed_from_epoch == 3
    assert resumed.history["loss"] == whole.history["loss"]


def test_newton_refuses_a_model_too_large_for_a_dense_hessian():
    with pytest.raises(ValueError, match=r"dense 1482×1482 Hessian.*use newton-cg"):
        make_optimizer("newton", nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16),
                                               nn.ReLU(), nn.Linear(16, 10)).parameters())


def test_newton_notes_an_indefinite_hessian_once_through_the_log(capsys):
    model = mlp(seed=0)
    data = blobs(32)
    trainer = Trainer(model, make_optimizer("newton", model.parameters()),
                      nn.CrossEntropyLoss(), verbose="lines")
    trainer.fit(DataLoader(data, batch_size=len(data)), epochs=3)
    out = capsys.readouterr()
    assert out.out.count("note: Newton: Hessian indefinite") <= 1 and "Warning" not in out.err
