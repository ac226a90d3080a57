"""The one shared op checker: descentlab against PyTorch, forward, backward and double backward.

``check_op(fn, shapes)`` builds random float64 inputs of the given shapes, runs ``fn`` on both
libraries, compares the values, backpropagates a NON-UNIFORM random upstream gradient (an all-ones
one hides transposition bugs), compares the gradients, then differentiates vᵀ·∂out/∂x once more
(weighted by another random tensor, with create_graph=True) and compares the second derivatives,
with respect to the inputs and to v.

``fn`` is either one function ``fn(lib, *xs)`` written against the API both libraries share
(``lib`` is the ``descentlab`` or ``torch`` module) or a pair ``(descentlab_fn, torch_fn)`` of
functions ``f(*xs)``. It may return one tensor or a tuple/list of tensors.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pytest

import descentlab as dl

torch = pytest.importorskip("torch")

RTOL = 1e-10


def _gen(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    """Random float64 values; ``domain`` keeps them where the op is smooth and well defined."""
    if domain == "any":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":  # (-0.9, 0.9): log1p, atanh-like domains
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "nonzero":  # |x| in [0.2, 2]: away from kinks at 0 (abs, relu, ...)
        return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "distinct":  # a permutation of well-spaced values: no ties for max/min/sort
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape) + rng.uniform(0, 0.1, shape)
    raise ValueError(domain)


def close(actual: Any, expected: Any, what: str, rtol: float = RTOL) -> None:
    """Compare within ``rtol`` relative to the larger of the entry and the tensor's scale."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale, err_msg=what)


def _np(t: Any) -> np.ndarray:
    if isinstance(t, dl.Tensor):
        return t.detach().numpy()
    return t.detach().numpy(force=True)  # force: double backward may give a ZeroTensor


def _listify(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _grads(lib: Any, outs: list, ins: list, gos: list, create_graph: bool) -> list:
    """Gradients with allow_unused, None turned into zeros (both libraries alike)."""
    pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
    if not pairs:
        return [lib.zeros_like(x) for x in ins]
    gs = lib.autograd.grad([o for o, _ in pairs], ins, [g for _, g in pairs],
                           create_graph=create_graph, allow_unused=True)
    return [lib.zeros_like(x) if g is None else g for g, x in zip(gs, ins)]


def check_op(
    fn: Callable | tuple,
    shapes: Sequence[tuple],
    *,
    domain: str | Sequence[str] = "any",
    grad_inputs: Sequence[bool] | None = None,
    double: bool = True,
    seed: int = 0,
    rtol: float = RTOL,
    arrays: Sequence[np.ndarray] | None = None,
) -> None:
    """Forward, backward and double backward of ``fn`` against PyTorch (see module doc)."""
    rng = np.random.default_rng(seed)
    if arrays is None:
        doms = [domain] * len(shapes) if isinstance(domain, str) else list(domain)
        arrays = [_gen(rng, tuple(s), d) for s, d in zip(shapes, doms)]
    if grad_inputs is None:
        grad_inputs = [True] * len(arrays)
    if isinstance(fn, tuple):
        dl_fn, t_fn = fn
    else:
        dl_fn = lambda *xs: fn(dl, *xs)  # noqa: E731
        t_fn = lambda *xs: fn(torch, *xs)  # noqa: E731

    xd = [dl.tensor(a, dtype=dl.float64, requires_grad=r) for a, r in zip(arrays, grad_inputs)]
    xt = [torch.tensor(a, dtype=torch.float64, requires_grad=r)
          for a, r in zip(arrays, grad_inputs)]
    od, ot = _listify(dl_fn(*xd)), _listify(t_fn(*xt))
    assert len(od) == len(ot), f"{len(od)} outputs vs torch's {len(ot)}"
    for i, (a, b) in enumerate(zip(od, ot)):
        assert isinstance(a, dl.Tensor), f"output {i} is {type(a).__name__}, not a Tensor"
        assert str(a.dtype) == str(b.dtype).replace("torch.", "descentlab."), (
            f"output {i}: dtype {a.dtype} vs torch's {b.dtype}")
        close(_np(a), _np(b), f"forward output {i}", rtol)
        assert a.requires_grad == b.requires_grad, (
            f"output {i}: requires_grad {a.requires_grad} vs torch's {b.requires_grad}")

    diff_d = [x for x, r in zip(xd, grad_inputs) if r]
    diff_t = [x for x, r in zip(xt, grad_inputs) if r]
    if not diff_d or not any(o.requires_grad for o in ot):
        return
    # Non-uniform upstream gradients; they require grad so the double backward reaches them too.
    vs = [rng.standard_normal(tuple(o.shape)) for o in ot]
    vd = [dl.tensor(v, dtype=dl.float64, requires_grad=True) for v in vs]
    vt = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vs]
    gd = _grads(dl, od, diff_d, vd, create_graph=double)
    gt = _grads(torch, ot, diff_t, vt, create_graph=double)
    for j, (a, b) in enumerate(zip(gd, gt)):
        assert tuple(a.shape) == tuple(b.shape), f"grad {j}: shape {a.shape} vs {b.shape}"
        assert a.dtype == dl.float64, f"grad {j} has dtype {a.dtype}"
        close(_np(a), _np(b), f"gradient w.r.t. input {j}", rtol)
    if not double:
        return

    # Double backward: d/d(x, v) of Σⱼ wⱼ·(vᵀ ∂out/∂xⱼ), w random.
    ws = [rng.standard_normal(tuple(g.shape)) for g in gt]
    targets_d, targets_t = diff_d + vd, diff_t + vt
    sd = [(g * dl.tensor(w)).sum() for g, w in zip(gd, ws) if g.requires_grad]
    st = [(g * torch.tensor(w)).sum() for g, w in zip(gt, ws) if g.requires_grad]
    hd = _grads(dl, [sum(sd[1:], sd[0])] if sd else [], targets_d, [None], False)
    ht = _grads(torch, [sum(st[1:], st[0])] if st else [], targets_t, [None], False)
    for j, (a, b) in enumerate(zip(hd, ht)):
        close(_np(a), _np(b), f"double backward w.r.t. {'input' if j < len(diff_d) else 'v'} "
              f"{j if j < len(diff_d) else j - len(diff_d)}", rtol)
