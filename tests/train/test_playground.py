"""train.playground sessions and data.playground data, against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.data.playground import feature_columns, make_multi_gaussian, make_plane
from descentlab.train.playground import PlaygroundConfig, PlaygroundSession


def test_plane_and_multi_gaussian_closed_forms():
    X, y = make_plane(200, noise=0.0, seed=3, dtype=np.float64)
    np.testing.assert_allclose(y[:, 0], (X[:, 0] + X[:, 1]) / 12, rtol=1e-12)
    assert np.all(np.abs(X) <= 6)
    X, y = make_multi_gaussian(200, noise=0.0, seed=3, dtype=np.float64)
    bump = lambda cx, cy: np.exp(-((X[:, 0] - cx) ** 2 + (X[:, 1] - cy) ** 2) / 2)
    expected = (bump(-4, 2.5) - bump(0, 2.5) + bump(4, 2.5) - bump(-4, -2.5) + bump(0, -2.5)
                - bump(4, -2.5))
    np.testing.assert_allclose(y[:, 0], expected, rtol=1e-12)


def test_feature_columns():
    p = np.array([[0.5, -2.0], [3.0, 1.0]])
    cols = feature_columns(p, ["x2", "xy", "siny"])
    np.testing.assert_allclose(cols, np.stack([p[:, 0] ** 2, p[:, 0] * p[:, 1],
                                               np.sin(p[:, 1])], axis=1))
    with pytest.raises(ValueError, match="unknown feature"):
        feature_columns(p, ["cos x"])


def _numpy_forward(session, points):
    """Independent forward pass from the session's weights: tanh MLP in NumPy."""
    h = feature_columns(points, session.features)
    for i, lin in enumerate(session.linears):
        h = h @ lin.weight.detach().numpy().T.astype(np.float64) + lin.bias.detach().numpy()
        if i < len(session.linears) - 1:
            h = np.tanh(h)
    return h


def test_output_and_unit_maps_match_a_numpy_forward_pass():
    s = PlaygroundSession(PlaygroundConfig(dataset="xor", features=("x", "y", "xy"),
                                           hidden=(3, 2), optimizer="adam", lr=0.03))
    s.train(5)
    out = _numpy_forward(s, s._grid(20))
    p = np.exp(out - out.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(s.output_map(20).ravel(), p[:, 1] - p[:, 0], atol=1e-5)
    first = np.tanh(feature_columns(s._grid(8), s.features)
                    @ s.linears[0].weight.detach().numpy().T + s.linears[0].bias.detach().numpy())
    np.testing.assert_allclose(s.neuron_maps(8)[0], first.T.reshape(3, 8, 8), atol=1e-5)


def test_gradient_norms_match_torch_on_a_full_batch_step():
    torch = pytest.importorskip("torch", reason="torch is the gradient oracle")
    s = PlaygroundSession(PlaygroundConfig(dataset="circle", hidden=(4, 3), batch_size=2000,
                                           regularization="l2", reg_rate=0.01))
    ws = [(torch.tensor(lin.weight.detach().numpy(), dtype=torch.float64, requires_grad=True),
           torch.tensor(lin.bias.detach().numpy(), dtype=torch.float64, requires_grad=True))
          for lin in s.linears]
    s.train(1)  # one full-batch step: the gradient is at the initial weights
    x = torch.tensor(feature_columns(s.points["train"], s.features))
    h = x
    for i, (w, b) in enumerate(ws):
        h = h @ w.T + b
        if i < len(ws) - 1:
            h = torch.tanh(h)
    loss = torch.nn.functional.cross_entropy(h, torch.tensor(s.targets["train"]))
    loss = loss + 0.01 * 0.5 * sum((w * w).sum() for w, _ in ws)
    loss.backward()
    expected = [float(torch.sqrt((w.grad ** 2).sum() + (b.grad ** 2).sum())) for w, b in ws]
    np.testing.assert_allclose(s.grad_norms(), expected, rtol=1e-4)


def test_same_config_same_run_and_divergence_is_caught():
    config = PlaygroundConfig(dataset="spiral", hidden=(6, 6), optimizer="adam", lr=0.02,
                              init="he", activation="relu", batchnorm=True, schedule="step")
    a, b = PlaygroundSession(config), PlaygroundSession(config)
    a.train(4)
    b.train(4)
    assert a.history == b.history
    s = PlaygroundSession(PlaygroundConfig(dataset="plane", optimizer="sgd", lr=50.0,
                                           hidden=(8, 8), activation="relu", init="he"))
    assert s.train(20) < 20
    assert "diverged" in s.diverged and "lower the learning rate" in s.diverged
    frame = s.frame()
    assert all(v is not None for row in frame["output"] for v in row)
    assert s.train(5) == 0  # a diverged run stays stopped


def test_stop_flag_and_time_limit_end_training_between_epochs():
    s = PlaygroundSession(PlaygroundConfig())
    calls = []
    assert s.train(50, should_stop=lambda: len(calls.append(1) or calls) > 3) == 3
    assert s.train(10_000, max_seconds=0.05) < 10_000


def test_bad_configs_are_named():
    with pytest.raises(ValueError, match="dataset: unknown value 'mnist'"):
        PlaygroundSession(PlaygroundConfig(dataset="mnist"))
    with pytest.raises(ValueError, match="test_fraction"):
        PlaygroundSession(PlaygroundConfig(test_fraction=1.0))
    with pytest.raises(ValueError, match="momentum"):
        PlaygroundSession(PlaygroundConfig(optimizer="adam", momentum=0.9))


def test_full_batch_lbfgs_session_matches_torch_lbfgs():
    torch = pytest.importorskip("torch", reason="torch is the optimizer oracle")
    s = PlaygroundSession(PlaygroundConfig(dataset="moons", hidden=(3,), batch_size=10_000,
                                           optimizer="lbfgs", lr=0.5, test_fraction=0.3))
    ws = [(torch.tensor(lin.weight.detach().numpy(), requires_grad=True),
           torch.tensor(lin.bias.detach().numpy(), requires_grad=True)) for lin in s.linears]
    params = [t for pair in ws for t in pair]
    opt = torch.optim.LBFGS(params, lr=0.5, max_iter=1, max_eval=25)
    x = torch.tensor(feature_columns(s.points["train"], s.features), dtype=torch.float32)
    y = torch.tensor(s.targets["train"])

    def closure():
        opt.zero_grad()
        h = torch.tanh(x @ ws[0][0].T + ws[0][1]) @ ws[1][0].T + ws[1][1]
        loss = torch.nn.functional.cross_entropy(h, y)
        loss.backward()
        return loss

    for _ in range(6):
        opt.step(closure)
    assert s.train(6) == 6 and s.diverged is None
    for lin, (w, b) in zip(s.linears, ws):
        np.testing.assert_allclose(lin.weight.detach().numpy(), w.detach().numpy(), atol=2e-4)
        np.testing.assert_allclose(lin.bias.detach().numpy(), b.detach().numpy(), atol=2e-4)


def test_newton_is_limited_to_small_networks():
    with pytest.raises(ValueError, match="Hessian"):
        PlaygroundSession(PlaygroundConfig(optimizer="newton", hidden=(8, 8)))
    s = PlaygroundSession(PlaygroundConfig(optimizer="newton", hidden=(3,), batch_size=1000,
                                           lr=1.0))
    first = s.frame()["last"]["loss"]
    s.train(3)
    assert s.history[-1]["loss"] < first
