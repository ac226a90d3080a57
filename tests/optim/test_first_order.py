"""First-order optimizers: 100 float64 steps against torch.optim on a small MLP, flat == per-tensor
bit for bit, Lion/Lookahead against the papers' formulas, state_dict round trips, bad input."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

import descentlab as dl
from descentlab import optim

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 5))
Y = RNG.standard_normal((16, 3))
INIT = [RNG.standard_normal(s) * 0.5 for s in [(5, 8), (8,), (8, 3), (3,)]]


def mlp_loss(P: list, X: object, Y: object) -> object:
    """Mean squared error of a tanh MLP; written with ops both libraries share."""
    out = (X @ P[0] + P[1]).tanh() @ P[2] + P[3]
    return ((out - Y) ** 2).mean()


def run_dl(make, steps: int = 100, **kw) -> list[np.ndarray]:
    P = [dl.tensor(a.copy(), dtype=dl.float64, requires_grad=True) for a in INIT]
    opt = make(P, **kw)
    x, y = dl.tensor(X), dl.tensor(Y)
    for _ in range(steps):
        opt.zero_grad()
        mlp_loss(P, x, y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in P]


def run_torch(make, steps: int = 100) -> list[np.ndarray]:
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch keeps scalar state (NAdam's mu_product) in it
    try:
        P = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
        opt = make(P)
        x, y = torch.tensor(X), torch.tensor(Y)
        for _ in range(steps):
            opt.zero_grad()
            mlp_loss(P, x, y).backward()
            opt.step()
    finally:
        torch.set_default_dtype(prev)
    return [p.detach().numpy().copy() for p in P]


def grid(**axes: list) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*axes.values())]


def sgd_cases() -> list[dict]:
    out = []
    for c in grid(momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                  weight_decay=[0, 0.05], maximize=[False, True]):
        if c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0):
            continue
        if c["momentum"] == 0 and c["dampening"] != 0:
            continue
        out.append(dict(c, lr=1e-3 if c["maximize"] else 0.1))
    return out


CASES = (
    [("SGD", c) for c in sgd_cases()]
    + [("Adagrad", dict(c, lr=0.1)) for c in grid(
        lr_decay=[0, 0.01], weight_decay=[0, 0.05], initial_accumulator_value=[0, 0.1],
        maximize=[False, True])]
    + [("RMSprop", dict(c, lr=1e-3)) for c in grid(
        momentum=[0, 0.5], centered=[False, True], weight_decay=[0, 0.05], maximize=[False, True])]
    + [("Adadelta", c) for c in grid(lr=[1.0, 0.5], weight_decay=[0, 0.05],
                                     maximize=[False, True])]
    + [("Adam", dict(c, lr=1e-2)) for c in grid(
        amsgrad=[False, True], weight_decay=[0, 0.05], maximize=[False, True],
        decoupled_weight_decay=[False, True])]
    + [("AdamW", dict(c, lr=1e-2)) for c in grid(amsgrad=[False, True], weight_decay=[0.01, 0.1],
                                                 maximize=[False, True])]
    + [("Adamax", dict(c, lr=1e-2)) for c in grid(weight_decay=[0, 0.05], maximize=[False, True],
                                                  betas=[(0.9, 0.999), (0.3, 0.99)])]
    + [("NAdam", dict(c, lr=1e-2)) for c in grid(
        weight_decay=[0, 0.05], decoupled_weight_decay=[False, True], momentum_decay=[4e-3, 0.1],
        maximize=[False, True])]
    + [("RAdam", dict(c, lr=1e-2)) for c in grid(
        weight_decay=[0, 0.05], decoupled_weight_decay=[False, True], maximize=[False, True])]
)


def close(a: list[np.ndarray], b: list[np.ndarray], rtol: float = 1e-10) -> None:
    for x, y in zip(a, b, strict=True):
        assert np.abs(x - y).max() <= rtol * np.abs(y).max(), np.abs(x - y).max()


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_matches_torch_and_flat_equals_per_tensor(name: str, kw: dict) -> None:
    ours = run_dl(lambda P: getattr(optim, name)(P, **kw))
    theirs = run_torch(lambda P: getattr(torch.optim, name)(P, **kw))
    close(ours, theirs)
    per_tensor = run_dl(lambda P: getattr(optim, name)(P, flat=False, **kw))
    for a, b in zip(ours, per_tensor):
        assert np.array_equal(a, b)


def test_param_groups_with_own_hyperparameters_match_torch() -> None:
    def groups(P: list) -> list[dict]:
        return [{"params": P[:2], "lr": 3e-2}, {"params": P[2:], "betas": (0.5, 0.9)}]

    close(run_dl(lambda P: optim.Adam(groups(P), lr=1e-2)),
          run_torch(lambda P: torch.optim.Adam(groups(P), lr=1e-2)))


def test_parameters_without_grad_are_skipped_like_torch() -> None:
    """A parameter whose grad is None for a while keeps its own step count (per-tensor path)."""
    def run(lib: object, P: list, opt: object, x: object, y: object) -> list[np.ndarray]:
        for k in range(30):
            opt.zero_grad()
            mlp_loss(P, x, y).backward()
            if k % 3 == 0:
                P[1].grad = None
            opt.step()
        return [p.detach().numpy().copy() for p in P]

    P = [dl.tensor(a.copy(), dtype=dl.float64, requires_grad=True) for a in INIT]
    ours = run(dl, P, optim.Adam(P, lr=1e-2), dl.tensor(X), dl.tensor(Y))
    Q = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
    theirs = run(torch, Q, torch.optim.Adam(Q, lr=1e-2), torch.tensor(X), torch.tensor(Y))
    close(ours, theirs)


def test_mixed_dtypes_flat_equals_per_tensor() -> None:
    def run(flat: bool) -> list[np.ndarray]:
        P = [dl.tensor(a.copy(), dtype=dl.float64 if i % 2 else dl.float32, requires_grad=True)
             for i, a in enumerate(INIT)]
        opt = optim.Adam(P, lr=1e-2, flat=flat)
        for _ in range(10):
            opt.zero_grad()
            sum((p.double() ** 2).sum() for p in P).backward()
            opt.step()
        return [p.detach().numpy().copy() for p in P]

    for a, b in zip(run(True), run(False)):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_large_parameter_is_chunked_identically() -> None:
    from descentlab.optim.engine import CHUNK

    g = np.random.default_rng(1).standard_normal(3 * CHUNK + 17)

    def run(flat: bool) -> np.ndarray:
        w = dl.tensor(np.zeros_like(g), requires_grad=True)
        opt = optim.Adam([w], lr=1e-2, flat=flat)
        for k in range(3):
            w.grad = dl.tensor(g * (k + 1))
            opt.step()
        return w.detach().numpy().copy()

    assert np.array_equal(run(True), run(False))


ONEPASS_VARIANTS = [("SGD", kw) for kw in [
    dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
    dict(momentum=0.8, dampening=0.3), dict(momentum=0.9, weight_decay=1e-2),
    dict(momentum=0.9, weight_decay=1e-2, maximize=True), dict(maximize=True),
    dict(weight_decay=5e-3), dict(momentum=0.7, nesterov=True, weight_decay=1e-3, maximize=True),
]] + [("Adam", kw) for kw in [
    dict(), dict(betas=(0.3, 0.99)), dict(weight_decay=1e-2), dict(amsgrad=True),
    dict(maximize=True, weight_decay=1e-2), dict(eps=1e-3, betas=(0.8, 0.9), amsgrad=True),
]] + [("AdamW", kw) for kw in [dict(), dict(amsgrad=True, maximize=True, weight_decay=0.1)]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", ONEPASS_VARIANTS,
                         ids=[f"{n}-{kw}" for n, kw in ONEPASS_VARIANTS])
def test_one_pass_kernel_equals_numpy_rule(name: str, kw: dict, dtype, monkeypatch) -> None:
    """The compiled one-pass updates (parameters over ONEPASS_MIN elements, numba installed)
    give the NumPy rule's numbers bit for bit, on the first step and later ones."""
    pytest.importorskip("numba")
    from descentlab.optim import _onepass
    from descentlab.optim.engine import ONEPASS_MIN

    rng = np.random.default_rng(3)
    n = ONEPASS_MIN + 1001
    w0 = rng.standard_normal(n).astype(dtype)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(3)]

    def run(onepass: bool) -> tuple[np.ndarray, np.ndarray | None]:
        monkeypatch.setattr(_onepass, "_KERNELS", None if onepass else {})
        monkeypatch.setattr(_onepass, "_READY", {})
        w = dl.tensor(w0.copy(), requires_grad=True)
        opt = getattr(optim, name)([w], lr=0.05, **kw)
        for g in grads:
            w.grad = dl.tensor(g)
            opt.step()
        state = {k: v.numpy().copy() for k, v in opt.state[w].items()}
        return w.detach().numpy().copy(), state

    monkeypatch.delenv("DESCENTLAB_ONEPASS", raising=False)
    (w1, s1), (w2, s2) = run(True), run(False)
    assert _onepass.kernel(name.lower().rstrip("w")) is None  # the reference used NumPy
    monkeypatch.setattr(_onepass, "_KERNELS", None)
    assert _onepass.kernel(name.lower().rstrip("w")) is not None
    assert w1.dtype == dtype and np.array_equal(w1, w2)
    assert s1.keys() == s2.keys() and all(np.array_equal(s1[k], s2[k]) for k in s1)
    assert not np.array_equal(w1, w0)


def test_a_broken_one_pass_kernel_falls_back_to_numpy_with_a_warning(monkeypatch) -> None:
    from descentlab.optim import _onepass
    from descentlab.optim.engine import ONEPASS_MIN

    def broken(*args):
        raise RuntimeError("LLVM said no")

    monkeypatch.setattr(_onepass, "_KERNELS", {"sgd": broken})
    monkeypatch.setattr(_onepass, "_READY", {})
    g = np.random.default_rng(2).standard_normal(ONEPASS_MIN + 3)
    w = dl.tensor(np.zeros_like(g), requires_grad=True)
    opt = optim.SGD([w], lr=0.5, momentum=0.9)
    w.grad = dl.tensor(g)
    with pytest.warns(RuntimeWarning, match="one-pass sgd kernel does not work here.*LLVM"):
        opt.step()
    assert np.array_equal(w.detach().numpy(), -0.5 * g)
    assert _onepass.kernel("sgd", np.float64) is None  # decided once


def test_one_pass_kernels_can_be_turned_off(monkeypatch) -> None:
    from descentlab.optim import _onepass

    monkeypatch.setenv("DESCENTLAB_ONEPASS", "0")
    monkeypatch.setattr(_onepass, "_KERNELS", None)
    assert _onepass.kernel("sgd") is None


@pytest.mark.parametrize("lr,kind", [(0.4, "monotone"), (0.6, "oscillating"), (1.2, "diverging")])
def test_gd_on_quadratic(lr: float, kind: str) -> None:
    """f(w) = w²: w_k = (1 − 2α)^k (to rounding: each step rounds w − α·2w once)."""
    w = dl.tensor([1.0], dtype=dl.float64, requires_grad=True)
    opt = optim.SGD([w], lr=lr)
    trace = [1.0]
    for k in range(1, 31):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
        trace.append(w.item())
        assert w.item() == pytest.approx((1 - 2 * lr) ** k, rel=1e-14 * k)
    steps = np.diff(np.abs(trace))
    signs = np.sign(trace)
    assert {"monotone": (steps < 0).all() and (signs > 0).all(),
            "oscillating": (steps < 0).all() and (signs[1:] * signs[:-1] < 0).all(),
            "diverging": (steps > 0).all() and (signs[1:] * signs[:-1] < 0).all()}[kind]


# ---------------------------------------------------------------------------- Lion, Lookahead
def test_lion_matches_paper() -> None:
    lr, (b1, b2), wd = 1e-3, (0.9, 0.99), 0.1
    ours = run_dl(lambda P: optim.Lion(P, lr=lr, betas=(b1, b2), weight_decay=wd))
    # Reference: the paper's Algorithm 2, written out with plain NumPy and a manual backward.
    W = [a.copy() for a in INIT]
    M = [np.zeros_like(a) for a in INIT]
    for _ in range(100):
        for w, m, g in zip(W, M, mlp_grads(W)):
            c = b1 * m + (1 - b1) * g
            w -= lr * (np.sign(c) + wd * w)
            m[...] = b2 * m + (1 - b2) * g
    close(ours, W, 1e-12)


def mlp_grads(W: list[np.ndarray]) -> list[np.ndarray]:
    z = X @ W[0] + W[1]
    h = np.tanh(z)
    out = h @ W[2] + W[3]
    d_out = 2 * (out - Y) / out.size
    dh = d_out @ W[2].T
    dz = dh * (1 - h ** 2)
    return [X.T @ dz, dz.sum(0), h.T @ d_out, d_out.sum(0)]


def test_lookahead_matches_paper() -> None:
    lr, k, alpha = 0.1, 5, 0.5
    ours = run_dl(lambda P: optim.Lookahead(optim.SGD(P, lr=lr), k=k, alpha=alpha), steps=23)
    W = [a.copy() for a in INIT]
    slow = [a.copy() for a in INIT]
    for t in range(1, 24):
        for w, g in zip(W, mlp_grads(W)):
            w -= lr * g
        if t % k == 0:
            for w, s in zip(W, slow):
                s += alpha * (w - s)
                w[...] = s
    close(ours, W, 1e-12)


# --------------------------------------------------------------------------- state_dict
ROUND_TRIP = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adagrad", dict(lr=0.1)),
    ("RMSprop", dict(lr=1e-3, momentum=0.5, centered=True)), ("Adadelta", {}),
    ("Adam", dict(lr=1e-2, amsgrad=True)), ("AdamW", dict(lr=1e-2)), ("Adamax", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2)), ("RAdam", dict(lr=1e-2)), ("Lion", dict(lr=1e-3)),
    ("Lookahead", {}),
]


def make_opt(name: str, P: list, kw: dict, flat: bool = True) -> optim.Optimizer:
    if name == "Lookahead":
        return optim.Lookahead(optim.Adam(P, lr=1e-2, flat=flat), k=3)
    return getattr(optim, name)(P, flat=flat, **kw)


@pytest.mark.parametrize("name,kw", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_state_dict_round_trip_continues_identically(name: str, kw: dict) -> None:
    x, y = dl.tensor(X), dl.tensor(Y)

    def steps(P: list, opt: optim.Optimizer, n: int) -> None:
        for _ in range(n):
            opt.zero_grad()
            mlp_loss(P, x, y).backward()
            opt.step()

    P = [dl.tensor(a.copy(), dtype=dl.float64, requires_grad=True) for a in INIT]
    opt = make_opt(name, P, kw)
    steps(P, opt, 7)
    saved = copy.deepcopy(opt.state_dict())
    values = [p.detach().numpy().copy() for p in P]
    steps(P, opt, 8)
    # A fresh model and optimizer (per-tensor path, to cross the two layouts) resumes the run.
    Q = [dl.tensor(v, dtype=dl.float64, requires_grad=True) for v in values]
    opt2 = make_opt(name, Q, kw, flat=False)
    opt2.load_state_dict(saved)
    steps(Q, opt2, 8)
    for a, b in zip(P, Q):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_format_is_torchs() -> None:
    P = [dl.tensor(a.copy(), dtype=dl.float64, requires_grad=True) for a in INIT]
    opt = optim.Adam([{"params": P[:1]}, {"params": P[1:], "lr": 0.5}])
    mlp_loss(P, dl.tensor(X), dl.tensor(Y)).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert list(sd["state"][2]) == ["step", "exp_avg", "exp_avg_sq"]
    assert sd["state"][2]["step"].item() == 1 and sd["state"][2]["exp_avg"].shape == (8, 3)


# ------------------------------------------------------------------------------- bad input
def w() -> dl.Tensor:
    return dl.zeros(3, requires_grad=True)


@pytest.mark.parametrize("make,match", [
    (lambda: optim.SGD([w()], lr=-1), "SGD: lr must be a finite number >= 0, got -1"),
    (lambda: optim.Adam([w()], eps=-1e-8), "eps must be a finite number >= 0, got -1e-08"),
    (lambda: optim.Adam([w()], betas=(1.0, 0.999)),
     r"betas\[0\] must be a finite number in \[0, 1\), got 1.0; pass e.g. betas=\(0.9, 0.999\)"),
    (lambda: optim.AdamW([w()], betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda: optim.Lion([w()], betas=(0.9, 1.5)), r"betas\[1\]"),
    (lambda: optim.RMSprop([w()], weight_decay=-1), "weight_decay must be .* got -1"),
    (lambda: optim.SGD([w()], lr=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda: optim.Adam([]), "empty parameter list"),
    (lambda: optim.Adam([w() * 2]), "non-leaf Tensor"),
    (lambda: optim.Adam(w()), "iterable of Tensors"),
    (lambda: optim.Lookahead(optim.SGD([w()], lr=0.1), k=0), "k must be an integer >= 1, got 0"),
])
def test_bad_input_is_a_clear_error(make, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_parameter_in_two_groups_is_an_error() -> None:
    p = w()
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("flat", [True, False])
def test_nan_gradient_names_the_parameter(flat: bool) -> None:
    P = [w(), w()]
    opt = optim.Adam(P, flat=flat)
    P[0].grad = dl.zeros(3)
    P[1].grad = dl.tensor([0.0, float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="parameter 1 .* param group 0 contains NaN"):
        opt.step()
    assert np.array_equal(P[0].detach().numpy(), np.zeros(3))  # nothing was updated


@pytest.mark.parametrize("onepass", [True, False])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nonfinite_gradient_of_a_large_parameter_updates_nothing(bad, onepass,
                                                                  monkeypatch) -> None:
    from descentlab.optim import _onepass
    from descentlab.optim.engine import ONEPASS_MIN, PARALLEL_MIN

    if onepass:
        pytest.importorskip("numba")
    monkeypatch.setattr(_onepass, "_KERNELS", None if onepass else {})
    monkeypatch.delenv("DESCENTLAB_ONEPASS", raising=False)
    w0 = np.random.default_rng(5).standard_normal(max(ONEPASS_MIN, PARALLEL_MIN) + 7)
    p = dl.tensor(w0.copy(), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    g = np.ones_like(w0)
    g[-3] = bad  # in the last span: earlier spans must not have been stepped either
    p.grad = dl.tensor(g)
    with pytest.raises(RuntimeError, match="parameter 0 .* contains NaN or inf"):
        opt.step()
    assert np.array_equal(p.detach().numpy(), w0)


@pytest.mark.parametrize("onepass", [True, False])
@pytest.mark.parametrize("name,kw", [("SGD", dict(momentum=0.9)), ("Adam", dict())])
def test_nan_in_the_last_span_of_a_10m_parameter_leaves_everything_bit_identical(
        name, kw, onepass, monkeypatch) -> None:
    """The benchmark's size (10M float32, well past the caches and split into spans): after a
    good step, a step whose only bad entry is near the end raises and changes no bit of the
    parameter or of its state, and the step after it matches torch's as if it never happened."""
    from descentlab.optim import _onepass

    if onepass:
        pytest.importorskip("numba")
    monkeypatch.setattr(_onepass, "_KERNELS", None if onepass else {})
    monkeypatch.setattr(_onepass, "_READY", {})
    monkeypatch.delenv("DESCENTLAB_ONEPASS", raising=False)
    n = 10_000_000
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(n, dtype=np.float32)
    g1 = rng.standard_normal(n, dtype=np.float32)
    p = dl.tensor(w0.copy(), requires_grad=True)
    q = torch.tensor(w0.copy(), requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.01, **kw)
    ref = getattr(torch.optim, name)([q], lr=0.01, **kw)
    p.grad, q.grad = dl.tensor(g1), torch.tensor(g1)
    opt.step()
    ref.step()
    before = p.detach().numpy().copy()
    state = {k: v.numpy().copy() for k, v in opt.state[p].items()}
    bad = g1.copy()
    bad[-5] = np.nan
    p.grad = dl.tensor(bad)
    with pytest.raises(RuntimeError, match="parameter 0 .* param group 0 contains NaN or inf"):
        opt.step()
    assert np.array_equal(p.detach().numpy(), before)
    assert all(np.array_equal(v.numpy(), state[k]) for k, v in opt.state[p].items())
    p.grad, q.grad = dl.tensor(g1), torch.tensor(g1)
    opt.step()
    ref.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_zero_grad() -> None:
    p = w()
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(p.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("make", [
    lambda params, flat: optim.Adam(params, lr=1e-2, weight_decay=0.1, flat=flat),
    lambda params, flat: optim.SGD(params, lr=1e-2, momentum=0.9, nesterov=True, flat=flat),
])
def test_parallel_spans_equal_the_per_tensor_path(make, monkeypatch) -> None:
    """Large parameters are updated in one span per thread; the numbers must not change."""
    from descentlab.optim import engine

    monkeypatch.setattr(engine, "PARALLEL_MIN", 1)
    monkeypatch.setattr(engine, "CHUNK", 1000)
    monkeypatch.setattr(engine, "_workers", lambda: 3)
    monkeypatch.setattr(engine, "_POOL", None)
    g = np.random.default_rng(2).standard_normal(7 * 1000 + 13).astype(np.float32)

    def run(flat: bool) -> np.ndarray:
        w = dl.tensor(np.zeros_like(g), requires_grad=True)
        opt = make([w], flat)
        for k in range(3):
            w.grad = dl.tensor(g * (k + 1))
            opt.step()
        return w.detach().numpy().copy()

    assert np.array_equal(run(True), run(False))


@pytest.mark.parametrize("size", [1000, 3_000_000])  # one span, and one span per thread
def test_nonfinite_check_catches_nan_but_not_large_finite_gradients(size) -> None:
    """g·g detects NaN/inf in one pass; finite entries whose squares overflow must still pass."""
    w = dl.zeros(size, requires_grad=True)
    g = np.zeros(size, dtype=np.float32)
    g[size // 3] = 3e38
    g[size // 3 + 1] = -3e38
    w.grad = dl.tensor(g)
    optim.SGD([w], lr=1e-40).step()
    assert np.isfinite(w.detach().numpy()).all()
    g[size // 2] = np.nan
    w.grad = dl.tensor(g)
    before = w.detach().numpy().copy()
    with pytest.raises(RuntimeError, match="contains NaN or inf"):
        optim.SGD([w], lr=0.1).step()
    assert np.array_equal(w.detach().numpy(), before)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 3e38])
def test_gathered_gradients_are_checked_chunk_by_chunk(bad, monkeypatch) -> None:
    """Several parameters share one gradient buffer, checked while it is gathered: a non-finite
    entry in any chunk (here the last) stops the step before anything moves; entries whose
    squares overflow are finite and pass."""
    from descentlab.optim import engine

    monkeypatch.setattr(engine, "CHUNK", 1000)
    sizes = [10, 2500, 7, 1200]
    ws = [dl.zeros(n, requires_grad=True) for n in sizes]
    opt = optim.Adam(ws, lr=0.1)
    for w in ws:
        w.grad = dl.ones(w.shape[0])
    opt.step()
    before = [w.detach().numpy().copy() for w in ws]
    g = np.ones(sizes[-1], dtype=np.float32)
    g[-2] = bad
    ws[-1].grad = dl.tensor(g)
    if np.isfinite(bad):
        opt.step()
        assert all(np.isfinite(w.detach().numpy()).all() for w in ws)
        return
    with pytest.raises(RuntimeError, match="parameter 3 .* contains NaN or inf"):
        opt.step()
    assert all(np.array_equal(w.detach().numpy(), b) for w, b in zip(ws, before))
