"""Every op of the engine against PyTorch: forward, backward and double backward (float64).

Each case goes through the one shared checker ``autograd_helpers.check_op``; hypothesis draws the
shapes (broadcast-compatible pairs, reductions over random dims).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import descentlab as dl

torch = pytest.importorskip("torch")
F = torch.nn.functional

from autograd_helpers import check_op  # noqa: E402

FAST = settings(max_examples=15, deadline=None)

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonempty_dims = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def broadcast_pair(min_dims: int = 0):
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=3,
                                             min_side=1, max_side=4).map(lambda s: s.input_shapes)


# ---------------------------------------------------------------------------- binary arithmetic
BINARY = {
    "add": (lambda lib, x, y: x + y, "any"),
    "sub": (lambda lib, x, y: x - y, "any"),
    "mul": (lambda lib, x, y: x * y, "any"),
    "div": (lambda lib, x, y: x / y, ("any", "nonzero")),
    "pow_tensor": (lambda lib, x, y: x ** y, ("positive", "any")),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), "any"),
    "minimum": (lambda lib, x, y: lib.minimum(x, y), "any"),
    "where": (lambda lib, x, y: lib.where(x > 0.1, x, y), "any"),
    "add_method_alpha": (lambda lib, x, y: x.add(y, alpha=2.5), "any"),
    "sub_method_alpha": (lambda lib, x, y: x.sub(y, alpha=-0.5), "any"),
    "chain": (lambda lib, x, y: (x * y).sin() / (1 + y * y) - x.exp() * 0.5, "any"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(shapes=broadcast_pair())
def test_binary_broadcasting(name, shapes):
    fn, dom = BINARY[name]
    check_op(fn, shapes, domain=dom)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_one_input_without_grad(name):
    fn, dom = BINARY[name]
    check_op(fn, [(3, 1), (4,)], domain=dom, grad_inputs=[False, True])
    check_op(fn, [(2, 3), (3,)], domain=dom, grad_inputs=[True, False])


SCALAR_FORMS = {
    "radd": lambda lib, x: 2.5 + x,
    "rsub": lambda lib, x: 2.5 - x,
    "rmul": lambda lib, x: 3 * x,
    "rdiv": lambda lib, x: 2.0 / x,
    "div_scalar": lambda lib, x: x / 4,
    "pow_2": lambda lib, x: x ** 2,
    "pow_3": lambda lib, x: x ** 3,
    "pow_half": lambda lib, x: x ** 0.5,
    "pow_neg": lambda lib, x: x ** -1.5,
    "pow_0": lambda lib, x: x ** 0,
    "pow_1": lambda lib, x: x ** 1,
    "rpow": lambda lib, x: 2.0 ** x,
    "neg": lambda lib, x: -x,
    "pow_method": lambda lib, x: x.pow(2.5),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FORMS))
def test_scalar_operand(name):
    check_op(SCALAR_FORMS[name], [(3, 4)], domain="positive")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_tensor_at_zero_base():
    # torch: d(a**b)/db = 0 where a == 0 and b >= 0 (instead of 0·log 0 = nan).
    a = np.array([0.0, 0.0, 1.5, 2.0])
    b = np.array([2.0, 3.0, 0.5, 1.5])
    check_op(lambda lib, x, y: x ** y, None, arrays=[a, b], double=False)


# ---------------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
    ((1, 3, 4), (2, 4, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    check_op(lambda lib, a, b: lib.matmul(a, b), [sa, sb])
    check_op(lambda lib, a, b: a @ b, [sa, sb], grad_inputs=[False, True], seed=1)


def test_mm_bmm_dot():
    check_op(lambda lib, a, b: lib.mm(a, b), [(3, 4), (4, 2)])
    check_op(lambda lib, a, b: a.mm(b), [(3, 4), (4, 2)])
    check_op(lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 4, 5)])
    check_op(lambda lib, a, b: lib.dot(a, b), [(5,), (5,)])


@FAST
@given(data=st.data())
def test_matmul_batched_broadcast_hypothesis(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    ba, bb = data.draw(broadcast_pair())
    check_op(lambda lib, a, b: a @ b, [ba + (n, k), bb + (k, m)])


# ---------------------------------------------------------------------------- unary
UNARY = {
    "abs": (lambda lib, x: lib.abs(x), "nonzero"),
    "exp": (lambda lib, x: lib.exp(x), "any"),
    "log": (lambda lib, x: lib.log(x), "positive"),
    "log1p": (lambda lib, x: lib.log1p(x), "unit"),
    "sqrt": (lambda lib, x: lib.sqrt(x), "positive"),
    "sin": (lambda lib, x: lib.sin(x), "any"),
    "cos": (lambda lib, x: lib.cos(x), "any"),
    "tanh": (lambda lib, x: lib.tanh(x), "any"),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), "any"),
    "relu": (lambda lib, x: lib.relu(x), "nonzero"),
    "neg": (lambda lib, x: -x, "any"),
    "square": (lambda lib, x: lib.square(x), "any"),
    "rsqrt": (lambda lib, x: lib.rsqrt(x), "positive"),
    "reciprocal": (lambda lib, x: lib.reciprocal(x), "nonzero"),
    "tan": (lambda lib, x: lib.tan(x), "unit"),
    "erf": (lambda lib, x: lib.erf(x), "any"),
    "abs_method": (lambda lib, x: abs(x), "nonzero"),
    "clamp_both": (lambda lib, x: lib.clamp(x, -0.5, 0.7), "nonzero"),
    "clamp_min": (lambda lib, x: x.clamp(min=0.3), "nonzero"),
    "clamp_max": (lambda lib, x: x.clamp(max=-0.3), "nonzero"),
    "clip": (lambda lib, x: x.clip(-1.0, 1.0), "nonzero"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(shape=small_shapes)
def test_unary(name, shape):
    fn, dom = UNARY[name]
    check_op(fn, [shape], domain=dom)


def test_clamp_tensor_bounds():
    check_op(lambda lib, x, lo, hi: x.clamp(lo, hi), [(3, 4), (4,), (3, 1)],
             arrays=[np.linspace(-2, 2, 12).reshape(3, 4) + 0.01, -np.linspace(0.3, 1, 4) + 0.005,
                     np.array([[0.5], [1.03], [1.51]])])


# ---------------------------------------------------------------------------- activations
def _act(dl_fn, t_fn):
    return (dl_fn, t_fn)


ACTIVATIONS = {
    "leaky_relu": _act(lambda x: x.leaky_relu(), lambda x: F.leaky_relu(x)),
    "leaky_relu_0.2": _act(lambda x: x.leaky_relu(0.2), lambda x: F.leaky_relu(x, 0.2)),
    "elu": _act(lambda x: x.elu(), lambda x: F.elu(x)),
    "elu_alpha": _act(lambda x: x.elu(alpha=0.7), lambda x: F.elu(x, alpha=0.7)),
    "softplus": _act(lambda x: x.softplus(), lambda x: F.softplus(x)),
    "softplus_beta": _act(lambda x: x.softplus(beta=2.0, threshold=3.0),
                          lambda x: F.softplus(x, beta=2.0, threshold=3.0)),
    "gelu": _act(lambda x: x.gelu(), lambda x: F.gelu(x)),
    "gelu_tanh": _act(lambda x: x.gelu(approximate="tanh"),
                      lambda x: F.gelu(x, approximate="tanh")),
    "gelu_fn": _act(lambda x: dl.nn.functional.gelu(x, approximate="tanh"),
                    lambda x: F.gelu(x, approximate="tanh")),
    "relu_fn": _act(lambda x: dl.nn.functional.relu(x), lambda x: F.relu(x)),
    "silu_like": _act(lambda x: x * x.sigmoid(), lambda x: F.silu(x)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_activation(name, scale):
    x = np.random.default_rng(3).uniform(0.1, 2.0, (4, 5)) * np.where(
        np.arange(20).reshape(4, 5) % 2, 1.0, -1.0) * scale
    check_op(ACTIVATIONS[name], None, arrays=[x])


# ---------------------------------------------------------------------------- reductions
@st.composite
def shape_and_dims(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "neg", "tuple"]))
    if kind == "none":
        dim = None
    elif kind == "int":
        dim = draw(st.integers(0, nd - 1))
    elif kind == "neg":
        dim = draw(st.integers(-nd, -1))
    else:
        dim = tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)))
    return shape, dim, draw(st.booleans())


def _red(method, **kw):
    def f(lib, x, dim, keepdim):
        if dim is None:
            return getattr(x, method)(**kw)
        return getattr(x, method)(dim=dim, keepdim=keepdim, **kw)
    return f


REDUCTIONS = {
    "sum": (_red("sum"), "any"),
    "mean": (_red("mean"), "any"),
    "prod": (_red("prod"), "positive"),
    "logsumexp": (_red("logsumexp"), "any"),
    "amax": (_red("amax"), "distinct"),
    "amin": (_red("amin"), "distinct"),
    "var": (_red("var"), "any"),
    "std": (_red("std"), "any"),
    "var_biased": (_red("var", unbiased=False), "any"),
    "std_biased": (_red("std", unbiased=False), "any"),
    "var_corr0": (_red("var", correction=0), "any"),
    "var_corr2": (_red("var", correction=2), "any"),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@FAST
@given(sdk=shape_and_dims())
def test_reduction(name, sdk):
    shape, dim, keepdim = sdk
    fn, dom = REDUCTIONS[name]
    if name == "logsumexp" and dim is None:
        dim = tuple(range(len(shape)))  # torch.logsumexp requires dim
    if name == "prod" and isinstance(dim, tuple):
        dim = dim[0]  # torch.prod takes a single dim
    n = int(np.prod([shape[d] for d in ((dim,) if isinstance(dim, int) else dim or
                                       range(len(shape)))]))
    if name.startswith(("var", "std")):
        corr = 2 if name.endswith("corr2") else (0 if "biased" in name or "corr0" in name else 1)
        if n - corr <= 0:
            return  # 0/0 or negative dof: nan/inf in both, not a gradient check
    # std of one value is 0: torch's double backward there is nan (it masks only the first order)
    double = not (name.startswith("std") and n == 1)
    check_op(lambda lib, x: fn(lib, x, dim, keepdim), [shape], domain=dom, double=double)


@pytest.mark.parametrize("method", ["max", "min"])
@FAST
@given(sdk=shape_and_dims())
def test_max_min_dim(method, sdk):
    shape, dim, keepdim = sdk
    if dim is None:
        check_op(lambda lib, x: getattr(x, method)(), [shape], domain="distinct")
        return
    d = dim[0] if isinstance(dim, tuple) else dim
    check_op(lambda lib, x: getattr(x, method)(d, keepdim=keepdim)[0], [shape],
             domain="distinct")
    check_op(lambda lib, x: getattr(lib, method)(x, dim=d, keepdim=keepdim).values, [shape],
             domain="distinct")
    a = np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape)
    ind = getattr(dl.tensor(a), method)(d, keepdim=keepdim).indices
    ind_t = getattr(torch.tensor(a), method)(d, keepdim=keepdim).indices
    assert ind.dtype == dl.int64
    np.testing.assert_array_equal(ind.numpy(), ind_t.numpy())


def test_max_ties_like_torch():
    # full max / amax split the gradient evenly among ties; max(dim) sends it to one index.
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check_op(lambda lib, x: x.max(), None, arrays=[a])
    check_op(lambda lib, x: x.amax(dim=1), None, arrays=[a])
    check_op(lambda lib, x: x.min(), None, arrays=[np.array([1.0, 0.5, 0.5, 2.0])])
    check_op(lambda lib, x: lib.maximum(x, x.flip(0)), None,
             arrays=[np.array([1.0, 2.0, 3.0, 2.0, 1.0])])


def test_prod_with_zeros_first_order():
    a = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])
    check_op(lambda lib, x: x.prod(dim=1), None, arrays=[a], double=False)
    check_op(lambda lib, x: x.prod(), None, arrays=[np.array([2.0, 0.0, 3.0])], double=False)


def test_prod_with_one_zero_second_order():
    check_op(lambda lib, x: x.prod(dim=1), None,
             arrays=[np.array([[1.5, 0.0, 2.0], [1.0, 2.0, 3.0]])])


@pytest.mark.parametrize("fn_name", ["softmax", "log_softmax"])
@FAST
@given(shape=nonempty_dims, data=st.data())
def test_softmax(fn_name, shape, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda lib, x: getattr(x, fn_name)(d), [shape])
    check_op(lambda lib, x: getattr(lib, fn_name)(x * 30.0, dim=d), [shape], seed=2)


def test_softmax_functional():
    check_op((lambda x: dl.nn.functional.softmax(x, dim=1), lambda x: F.softmax(x, dim=1)),
             [(3, 4)])
    check_op((lambda x: dl.nn.functional.log_softmax(x, dim=-1),
              lambda x: F.log_softmax(x, dim=-1)), [(3, 4)])


@FAST
@given(shape=nonempty_dims, data=st.data())
def test_cumsum_flip(shape, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda lib, x: lib.cumsum(x, dim=d), [shape])
    check_op(lambda lib, x: x.flip(d), [shape])
    check_op(lambda lib, x: lib.flip(x, dims=list(range(len(shape)))), [shape])


# ---------------------------------------------------------------------------- shapes
SHAPE_OPS = {
    "reshape": (lambda lib, x: x.reshape(4, 6), (2, 3, 4)),
    "reshape_neg": (lambda lib, x: x.reshape(-1, 3), (2, 3, 4)),
    "reshape_tuple": (lambda lib, x: x.reshape((6, -1)), (2, 3, 4)),
    "view": (lambda lib, x: x.view(2, 12), (2, 3, 4)),
    "flatten": (lambda lib, x: x.flatten(), (2, 3, 4)),
    "flatten_1": (lambda lib, x: x.flatten(1), (2, 3, 4)),
    "flatten_mid": (lambda lib, x: lib.flatten(x, 0, 1), (2, 3, 4)),
    "unsqueeze": (lambda lib, x: x.unsqueeze(1), (2, 3)),
    "unsqueeze_neg": (lambda lib, x: x.unsqueeze(-1), (2, 3)),
    "squeeze": (lambda lib, x: x.squeeze(), (2, 1, 3, 1)),
    "squeeze_dim": (lambda lib, x: x.squeeze(1), (2, 1, 3, 1)),
    "squeeze_noop": (lambda lib, x: x.squeeze(0), (2, 1, 3, 1)),
    "transpose": (lambda lib, x: x.transpose(0, 2), (2, 3, 4)),
    "transpose_neg": (lambda lib, x: lib.transpose(x, -1, -2), (2, 3, 4)),
    "permute": (lambda lib, x: x.permute(2, 0, 1), (2, 3, 4)),
    "permute_tuple": (lambda lib, x: x.permute((1, 2, 0)), (2, 3, 4)),
    "t": (lambda lib, x: x.t(), (3, 4)),
    "t_1d": (lambda lib, x: x.t(), (3,)),
    "T": (lambda lib, x: x.T, (3, 4)),
    "mT": (lambda lib, x: x.mT, (2, 3, 4)),
    "expand": (lambda lib, x: x.expand(2, 3, 4), (3, 1)),
    "expand_neg": (lambda lib, x: x.expand(5, -1), (1, 4)),
    "expand_as": (lambda lib, x: x.expand_as(lib.zeros(2, 3, 4, dtype=lib.float64)), (1, 4)),
    "repeat": (lambda lib, x: x.repeat(2, 1, 3), (3, 2)),
    "clone": (lambda lib, x: x.clone() * 1.0, (3, 2)),
    "contiguous_T": (lambda lib, x: x.T.contiguous().reshape(-1), (3, 2)),
    "narrow": (lambda lib, x: x.narrow(1, 1, 2), (3, 4)),
    "unbind": (lambda lib, x: x.unbind(1), (3, 4)),
    "unflatten": (lambda lib, x: x.unflatten(1, (2, 2)), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_op(name):
    fn, shape = SHAPE_OPS[name]
    check_op(fn, [shape])


@pytest.mark.parametrize("how", ["split_int", "split_sizes", "chunk", "chunk_uneven"])
def test_split_chunk(how):
    fns = {
        "split_int": lambda lib, x: x.split(2, dim=1),
        "split_sizes": lambda lib, x: lib.split(x, [1, 3, 1], dim=1),
        "chunk": lambda lib, x: x.chunk(5, dim=1),
        "chunk_uneven": lambda lib, x: lib.chunk(x, 2, dim=0),
    }
    check_op(fns[how], [(3, 5)])


def test_split_partial_use():
    # Only some pieces reach the loss: the others get zero gradient.
    check_op(lambda lib, x: x.split(2, dim=0)[1] * 3.0, [(5, 2)])


@FAST
@given(shape=nonempty_dims, data=st.data())
def test_permute_hypothesis(shape, data):
    perm = data.draw(st.permutations(list(range(len(shape)))))
    check_op(lambda lib, x: x.permute(*perm) * lib.arange(shape[perm[-1]]), [shape])


# ---------------------------------------------------------------------------- indexing
IDX = np.array([2, 0, 2, 2, 1])
INDEXING = {
    "int": lambda lib, x: x[1],
    "neg_int": lambda lib, x: x[-1, 2],
    "slice": lambda lib, x: x[1:3],
    "slice_step": lambda lib, x: x[::2, 1::2],
    # torch refuses negative steps: compare with the same selection made by flip
    "neg_step": (lambda x: x[::-1], lambda x: x.flip(0)),
    "neg_step_2": (lambda x: x[:, 3:0:-2], lambda x: x.flip(1)[:, 1:4:2]),
    "none": lambda lib, x: x[None, :, None, 1],
    "ellipsis": lambda lib, x: x[..., 1],
    "ellipsis_none": lambda lib, x: x[1, ..., None],
    "int_array_repeats": lambda lib, x: x[lib.tensor(IDX)],
    "int_list_repeats": lambda lib, x: x[[0, 0, 3, 1, 0]],
    "int_array_2": lambda lib, x: x[lib.tensor([0, 1, 0]), lib.tensor([2, 2, 2])],
    "int_array_mixed": lambda lib, x: x[1:, lib.tensor([3, 3, 0])],
    "int_array_2d": lambda lib, x: x[lib.tensor([[0, 1], [1, 0]])],
    "bool_mask": lambda lib, x: x[x > 0.2],
    "bool_mask_rows": lambda lib, x: x[lib.tensor([True, False, True, True])],
    "scalar_tensor_index": lambda lib, x: x[lib.tensor(2)],
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_getitem(name):
    check_op(INDEXING[name], [(4, 5)])


def test_getitem_3d_mixed():
    check_op((lambda x: x[:, dl.tensor([1, 1]), ::-1],
              lambda x: x[:, torch.tensor([1, 1])].flip(-1)), [(2, 3, 4)])
    check_op(lambda lib, x: x[lib.tensor([0, 1, 1]), :, lib.tensor([3, 3, 0])], [(2, 3, 4)])


@FAST
@given(shape=nonempty_dims, data=st.data())
def test_gather(shape, data):
    d = data.draw(st.integers(0, len(shape) - 1))
    ishape = list(shape)
    ishape[d] = data.draw(st.integers(1, 5))
    idx = np.random.default_rng(0).integers(0, shape[d], ishape)
    check_op(lambda lib, x: lib.gather(x, d, lib.tensor(idx)), [shape])
    check_op(lambda lib, x: x.gather(d - len(shape), lib.tensor(idx)), [shape])


# ---------------------------------------------------------------------------- joining, padding
@FAST
@given(shape=nonempty_dims, data=st.data())
def test_cat_stack(shape, data):
    d = data.draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[d] = data.draw(st.integers(1, 3))
    check_op(lambda lib, a, b, c: lib.cat([a, b, c], dim=d), [shape, tuple(other), shape])
    sd = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda lib, a, b: lib.stack((a, b), dim=sd), [shape, shape])
    check_op(lambda lib, a, b: lib.cat([a * b, a], dim=-1), [shape, shape], seed=3)


def test_cat_partial_grad():
    check_op(lambda lib, a, b: lib.cat([a, b], 1), [(2, 3), (2, 1)], grad_inputs=[True, False])


PADS = [(1, 2), (0, 1, 2, 0), (1, 1, 1, 1, 1, 1), (-1, 2), (2, -1, -1, 1)]


@pytest.mark.parametrize("p", PADS)
def test_pad(p):
    check_op((lambda x: dl.pad(x, p), lambda x: F.pad(x, p)), [(2, 3, 4)])
    check_op((lambda x: dl.pad(x, p, value=1.5), lambda x: F.pad(x, p, value=1.5)), [(2, 3, 4)])
    check_op((lambda x: dl.nn.functional.pad(x, p), lambda x: F.pad(x, p)), [(2, 3, 4)])


# ---------------------------------------------------------------------------- comparisons
@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_bool_without_grad(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    x = dl.tensor(a, requires_grad=True)
    y = dl.tensor(b, requires_grad=True)
    pyop = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__",
            "ge": "__ge__"}[op]
    for out, ref in [
        (getattr(x, op)(y), getattr(torch.tensor(a), op)(torch.tensor(b))),
        (getattr(x, pyop)(y), getattr(torch.tensor(a), pyop)(torch.tensor(b))),
        (getattr(x, pyop)(2.0), getattr(torch.tensor(a), pyop)(2.0)),
    ]:
        assert out.dtype == dl.bool
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_logical_ops_on_masks():
    x = dl.tensor([1.0, -1.0, 2.0])
    m = (x > 0) & ~(x > 1.5)
    assert m.tolist() == [True, False, False]
    assert ((x > 0) | (x < -0.5)).tolist() == [True, True, True]


# ---------------------------------------------------------------------------- compositions
def test_mlp_like_composition():
    def f(lib, x, w1, b1, w2):
        h = lib.tanh(x @ w1 + b1)
        return (h @ w2).log_softmax(dim=1)[:, 0].mean()

    check_op(f, [(5, 3), (3, 4), (4,), (4, 2)])


def test_normalization_composition():
    def f(lib, x, g):
        m = x.mean(dim=0, keepdim=True)
        v = x.var(dim=0, unbiased=False, keepdim=True)
        return (x - m) / (v + 1e-5).sqrt() * g

    check_op(f, [(6, 3), (3,)])


# ---------------------------------------------------------------------------- 0-d and ties
def test_zero_dim_tensors():
    check_op(lambda lib, x: x.sum(0) * x.mean(-1) + x.amax(0) + x.sum(), [()])
    check_op(lambda lib, x, y: (x * y).exp() + x.unsqueeze(0).reshape(1, 1).squeeze(), [(), ()])
    check_op(lambda lib, x, y: x * y, [(), (2, 3)])


def test_max_min_dim_ties_go_to_the_returned_index():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check_op(lambda lib, x: x.max(dim=1)[0], None, arrays=[a])
    check_op(lambda lib, x: x.min(dim=0).values, None, arrays=[np.array([[1.0, 0.0], [1.0, 2.0]])])
    check_op(lambda lib, x: lib.clamp(x, 2.0, 3.0), None, arrays=[a])  # bounds inclusive


# ---------------------------------------------------------------------------- the checker itself
class _MatVecTransposeBug(dl.autograd.Function):
    """x @ M with the backward using M instead of Mᵀ: invisible to an all-ones upstream."""

    M = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0], [0.7, -0.2, 1.0]])

    @staticmethod
    def forward(ctx, x):
        return x @ dl.tensor(_MatVecTransposeBug.M)

    @staticmethod
    def backward(ctx, g):
        return g @ dl.tensor(_MatVecTransposeBug.M)


def test_checker_catches_a_transpose_bug():
    bad = (_MatVecTransposeBug.apply, lambda x: x @ torch.tensor(_MatVecTransposeBug.M))
    with pytest.raises(AssertionError, match="gradient w.r.t. input 0"):
        check_op(bad, [(2, 3)], double=False)


def test_checker_catches_wrong_double_backward():
    def dl_fn(x):  # right values and gradient, but the gradient is detached (no 2nd order)
        return _Square.apply(x)

    with pytest.raises(AssertionError, match="double backward"):
        check_op((dl_fn, lambda x: x * x), [(3,)])


class _Square(dl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * x * 2).detach()


@pytest.mark.parametrize("shapes,grads", [
    ([(5, 3), (4, 3), (4,)], [True, True, True]),
    ([(2, 5, 3), (4, 3), (4,)], [True, True, True]),   # batch dims folded into ∂W and ∂b
    ([(3,), (4, 3), (4,)], [True, True, True]),        # unbatched input
    ([(5, 3), (4, 3)], [True, True]),                  # no bias
    ([(5, 3), (4, 3), (4,)], [False, True, True]),     # data that needs no gradient
])
def test_linear_op(shapes, grads):
    """The fused x·Wᵀ + b node behind nn.Linear, against torch.nn.functional.linear."""
    fns = (lambda *xs: dl.nn.functional.linear(*xs),
           lambda *xs: torch.nn.functional.linear(*xs))
    check_op(fns, shapes, grad_inputs=grads)


@pytest.mark.parametrize("kw", [
    {}, {"reduction": "sum"}, {"reduction": "none"},
    {"weight": [0.2, 1.0, 3.0, 0.5]}, {"ignore_index": 1},
    {"weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 2, "reduction": "none"},
])
def test_fused_cross_entropy(kw):
    """The one-node cross-entropy behind F.cross_entropy for (N, C) logits and class indices:
    values, gradients and double backward against torch."""
    target = np.array([0, 1, 2, 3, 1, 2])
    kd = {k: (dl.tensor(v, dtype=dl.float64) if k == "weight" else v) for k, v in kw.items()}
    kt = {k: (torch.tensor(v, dtype=torch.float64) if k == "weight" else v)
          for k, v in kw.items()}
    fns = (lambda x: dl.nn.functional.cross_entropy(x, dl.tensor(target), **kd),
           lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(target), **kt))
    check_op(fns, [(6, 4)])
