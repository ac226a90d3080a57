"""Finite differences: gradcheck / gradgradcheck on a representative op set, and the checker
itself failing on a deliberately wrong backward."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl
from descentlab.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _x(shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return dl.tensor(a, dtype=dl.float64, requires_grad=True)


CASES = {
    "add_broadcast": (lambda a, b: a + b, [(2, 3), (3,)], None),
    "mul_broadcast": (lambda a, b: a * b, [(2, 1, 3), (4, 1)], None),
    "div": (lambda a, b: a / b, [(2, 3), (2, 3)], (0.5, 2.0)),
    "pow": (lambda a, b: a ** b, [(3,), (3,)], (0.5, 2.0)),
    "pow_scalar": (lambda a: a ** 3.5, [(2, 3)], (0.5, 2.0)),
    "matmul_batched": (lambda a, b: a @ b, [(2, 2, 3), (3, 2)], None),
    "matmul_vec": (lambda a, b: a @ b, [(3,), (2, 3, 2)], None),
    "exp_log": (lambda a: a.exp().log1p() + a.abs().log(), [(4,)], (0.3, 2.0)),
    "trig": (lambda a: a.sin() * a.cos() + a.tanh(), [(2, 3)], None),
    "sigmoid_sqrt": (lambda a: a.sigmoid() + a.sqrt(), [(5,)], (0.3, 2.0)),
    "activations": (lambda a: a.elu() + a.softplus() + a.gelu() + a.gelu(approximate="tanh")
                    + a.leaky_relu(0.1), [(6,)], (0.2, 2.0)),
    "sum_mean_dims": (lambda a: a.sum(dim=(0, 2), keepdim=True) * a.mean(dim=1, keepdim=True),
                      [(2, 3, 2)], None),
    "var_std": (lambda a: a.var(dim=1) + a.std(dim=0).sum(), [(3, 4)], None),
    "logsumexp_softmax": (lambda a: a.logsumexp(dim=1) + a.softmax(1)[:, 0]
                          + a.log_softmax(0)[1].sum(), [(3, 4)], None),
    "prod": (lambda a: a.prod(dim=1), [(3, 4)], (0.5, 1.5)),
    "max_amax": (lambda a: a.max(dim=1)[0] + a.amax(dim=0).sum(), [(3, 4)], None),
    "where_clamp": (lambda a, b: dl.where(a > 0, a, b).clamp(-0.5, 0.5) + dl.maximum(a, b),
                    [(3, 4), (4,)], None),
    "shapes": (lambda a: a.reshape(4, 3).t().unsqueeze(0).expand(2, 3, 4).permute(2, 0, 1)
               .flatten(), [(3, 4)], None),
    "indexing": (lambda a: a[dl.tensor([0, 2, 2])][:, ::2] + a[a > 0].sum(), [(3, 4)], None),
    "cat_stack_pad": (lambda a, b: (dl.pad(dl.cat([a, b], 0), (1, 1), value=0.5) ** 2).sum(1)
                      + dl.stack([a[1], b[0], a[0]], 1).prod(1), [(2, 3), (1, 3)], None),
    "cumsum_flip_gather": (lambda a: a.cumsum(1).flip(0).gather(1, dl.tensor([[2, 0], [1, 1]])),
                           [(2, 3)], None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, shapes, rng = CASES[name]
    xs = [_x(s, i, *(rng or (None, None))) for i, s in enumerate(shapes)]
    # Keep every element away from the kinks (|x| >= 0.05) for abs/relu/clamp/max.
    for x in xs:
        with dl.no_grad():
            x[(x.abs() < 0.05)] = 0.3
    assert gradcheck(fn, xs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck(name):
    fn, shapes, rng = CASES[name]
    xs = [_x(s, i + 7, *(rng or (None, None))) for i, s in enumerate(shapes)]
    for x in xs:
        with dl.no_grad():
            x[(x.abs() < 0.05)] = 0.3
    assert gradgradcheck(fn, xs)


class WrongSquare(Function):
    """x² with a backward off by a factor (2·g·x·1.01)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x * 2.02


class TransposedMatVec(Function):
    """A @ x with the gradient for x computed with A instead of Aᵀ (a transpose bug)."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return a @ x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        return g.unsqueeze(1) * x.unsqueeze(0), a @ g


class RightSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x * 2.0


class FirstOrderOnlyCube(Function):
    """x³ whose backward is correct but not differentiable (it leaves the graph)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return dl.tensor(3.0 * g.detach().numpy() * x.detach().numpy() ** 2)


def test_gradcheck_passes_on_correct_function():
    assert gradcheck(RightSquare.apply, (_x((3,)),))
    assert gradgradcheck(RightSquare.apply, (_x((3,)),))


def test_gradcheck_fails_on_wrong_backward():
    with pytest.raises(GradcheckError, match=r"Jacobian mismatch for output 0 with respect to "
                                             r"input 0"):
        gradcheck(WrongSquare.apply, (_x((3,)),))
    assert gradcheck(WrongSquare.apply, (_x((3,)),), raise_exception=False) is False


def test_gradcheck_fails_on_transpose_bug():
    a = _x((3, 3), 1)
    x = _x((3,), 2)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(TransposedMatVec.apply, (a, x))


def test_gradgradcheck_fails_on_non_differentiable_backward():
    x = _x((3,), 4, 0.5, 2.0)
    assert gradcheck(FirstOrderOnlyCube.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(FirstOrderOnlyCube.apply, (x,))


def test_gradcheck_warns_on_float32():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda t: t * 2.0, (x,), eps=1e-2, atol=1e-2, rtol=1e-2)


def test_gradcheck_multiple_outputs_and_non_tensor_args():
    def f(a, scale, b):
        return a * scale + b, (a * b).sum()

    assert gradcheck(f, (_x((2, 3)), 1.5, _x((3,), 1)))
