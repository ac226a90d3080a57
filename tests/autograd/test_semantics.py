"""Autograd semantics against PyTorch: accumulation, retain/create graph, autograd.grad, grad
modes, custom Functions, hooks, detach/clone, dtype promotion, in-place ops, functional
transforms, higher order, deep graphs."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl
from descentlab.autograd import Function
from descentlab.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

from autograd_helpers import close  # noqa: E402


def pair(a, requires_grad=True):
    a = np.asarray(a, dtype=np.float64)
    return (dl.tensor(a, dtype=dl.float64, requires_grad=requires_grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


def npy(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------------- the notes' example
def test_notes_example():
    x = dl.tensor(2.0, requires_grad=True)
    w = dl.tensor(3.0, requires_grad=True)
    y = x * w
    loss = y ** 2
    loss.backward()
    assert x.grad.item() == 36.0
    assert w.grad.item() == 24.0
    assert loss.item() == 36.0 and y.grad is None and not y.is_leaf and x.is_leaf


# ---------------------------------------------------------------------------- accumulation
def test_grad_accumulates_over_two_backwards():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    (xd, xt), (wd, wt) = pair(a), pair(b)
    for x, w in ((xd, wd), (xt, wt)):
        (x * w).sin().sum().backward()
        (x @ w).exp().sum().backward()
    close(npy(xd.grad), npy(xt.grad), "x.grad")
    close(npy(wd.grad), npy(wt.grad), "w.grad")
    g_before = xd.grad
    xd.grad = None
    (xd * 2).sum().backward()
    np.testing.assert_array_equal(xd.grad.numpy(), np.full((3, 4), 2.0))
    assert g_before is not xd.grad


def test_grad_is_not_aliased_to_upstream_or_another_grad():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    y = dl.tensor([1.0, 2.0], requires_grad=True)
    g = dl.tensor([1.0, 1.0])
    (x + y).backward(g)
    x.grad += 1.0
    assert y.grad.tolist() == [1.0, 1.0] and g.tolist() == [1.0, 1.0]


def test_retain_graph():
    x, xt = pair([0.5, -1.0, 2.0])
    for t in (x, xt):
        y = (t * t).exp().sum()
        y.backward(retain_graph=True)
        y.backward()
    close(npy(x.grad), npy(xt.grad), "grad after two backwards with retain_graph")


def test_create_graph_second_derivative_via_backward():
    x, xt = pair([0.3, -0.7, 1.1])
    for t in (x, xt):
        y = (t ** 3 * t.sin()).sum()
        (g,) = (dl if t is x else torch).autograd.grad(y, t, create_graph=True)
        (g * g).sum().backward()
    close(npy(x.grad), npy(xt.grad), "grad of |grad|^2")


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_backward_create_graph_fills_differentiable_grad():
    x, xt = pair([0.3, -0.7])
    for t in (x, xt):
        (t ** 4).sum().backward(create_graph=True)
    assert x.grad.requires_grad and xt.grad.requires_grad
    close(npy(x.grad), npy(xt.grad), "grad")
    gd = dl.autograd.grad(x.grad.sum(), x)[0]
    gt = torch.autograd.grad(xt.grad.sum(), xt)[0]
    close(npy(gd), npy(gt), "second derivative through .grad")


def test_third_derivative():
    x = dl.tensor(0.7, dtype=dl.float64, requires_grad=True)
    y = x.sin() * x ** 4
    (g1,) = dl.autograd.grad(y, x, create_graph=True)
    (g2,) = dl.autograd.grad(g1, x, create_graph=True)
    (g3,) = dl.autograd.grad(g2, x)
    xt = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    yt = xt.sin() * xt ** 4
    (h1,) = torch.autograd.grad(yt, xt, create_graph=True)
    (h2,) = torch.autograd.grad(h1, xt, create_graph=True)
    (h3,) = torch.autograd.grad(h2, xt)
    close(g3.item(), h3.item(), "third derivative")
    # analytic: d³/dx³ [x⁴ sin x]
    v = 0.7
    exact = (24 * v * np.sin(v) + 36 * v ** 2 * np.cos(v) - 12 * v ** 3 * np.sin(v)
             - v ** 4 * np.cos(v))
    close(g3.item(), exact, "third derivative, analytic")


def test_autograd_grad_allow_unused_and_no_accumulation():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    z = dl.tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    gx, gz = dl.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0, 4.0]
    assert x.grad is None  # autograd.grad never touches .grad
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        dl.autograd.grad(y, [x, z])
    y = (x * x).sum()
    gx, gz = dl.autograd.grad(y, [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_autograd_grad_several_outputs_and_grad_outputs():
    rng = np.random.default_rng(1)
    (xd, xt), v = pair(rng.standard_normal((2, 3))), rng.standard_normal((2, 3))
    outs_d = [xd.exp(), (xd * xd).sum()]
    outs_t = [xt.exp(), (xt * xt).sum()]
    gd = dl.autograd.grad(outs_d, xd, [dl.tensor(v), None])
    gt = torch.autograd.grad(outs_t, xt, [torch.tensor(v), None])
    close(npy(gd[0]), npy(gt[0]), "grad of several outputs")


def test_autograd_backward_function():
    x, xt = pair([1.0, 2.0, 3.0])
    dl.autograd.backward([(x * x).sum(), x.exp()], [None, dl.tensor([1.0, 0.0, 2.0],
                                                                     dtype=dl.float64)])
    torch.autograd.backward([(xt * xt).sum(), xt.exp()],
                            [None, torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)])
    close(npy(x.grad), npy(xt.grad), "autograd.backward")


def test_backward_inputs_argument():
    x, xt = pair([1.0, 2.0])
    w, wt = pair([3.0, 4.0])
    (x * w).sum().backward(inputs=[x])
    (xt * wt).sum().backward(inputs=[xt])
    close(npy(x.grad), npy(xt.grad), "x.grad")
    assert w.grad is None and wt.grad is None


# ---------------------------------------------------------------------------- grad modes
def test_no_grad_enable_grad_context_and_decorator():
    x = dl.tensor([1.0], requires_grad=True)
    with dl.no_grad():
        y = x * 2
        assert not dl.is_grad_enabled()
        with dl.enable_grad():
            z = x * 2
            assert dl.is_grad_enabled()
        assert not dl.is_grad_enabled()
    assert dl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @dl.no_grad()
    def f(t):
        return t * 3

    @dl.enable_grad()
    def g(t):
        return t * 3

    assert not f(x).requires_grad
    with dl.no_grad():
        assert g(x).requires_grad
    assert dl.is_grad_enabled()


def test_no_grad_restores_after_exception():
    with pytest.raises(ValueError):
        with dl.no_grad():
            raise ValueError("boom")
    assert dl.is_grad_enabled()


def test_set_grad_enabled():
    x = dl.tensor([1.0], requires_grad=True)
    with dl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert dl.is_grad_enabled()
    dl.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        dl.set_grad_enabled(True)
    assert (x * 2).requires_grad

    @dl.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert dl.is_grad_enabled()


# ---------------------------------------------------------------------------- custom Function
class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x * ctx.scale, None


class CubeT(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x * ctx.scale, None


class SplitTwo(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2, x.exp()

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return g1 * 2 + g2 * x.exp()


def test_custom_function():
    x, xt = pair([0.5, -1.0, 2.0])
    y = Cube.apply(x, 2.0)
    yt = CubeT.apply(xt, 2.0)
    assert y.grad_fn is not None and not y.is_leaf
    close(npy(y), npy(yt), "forward")
    v = [1.0, -2.0, 0.5]
    (gd,) = dl.autograd.grad(y, x, dl.tensor(v, dtype=dl.float64), create_graph=True)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(v, dtype=torch.float64), create_graph=True)
    close(npy(gd), npy(gt), "backward")
    # The backward is written with tensor ops, so it is differentiable too.
    close(npy(dl.autograd.grad(gd.sum(), x)[0]), npy(torch.autograd.grad(gt.sum(), xt)[0]),
          "double backward")


def test_custom_function_two_outputs_one_used():
    x = dl.tensor([0.5, 1.0], dtype=dl.float64, requires_grad=True)
    a, b = SplitTwo.apply(x)
    (a * 3).sum().backward()  # b unused: its gradient arrives as zeros
    assert x.grad.tolist() == [6.0, 6.0]


def test_custom_function_without_grad_inputs():
    y = Cube.apply(dl.tensor([2.0]), 1.0)
    assert not y.requires_grad and y.tolist() == [8.0]


def test_custom_function_saved_tensor_modified_inplace():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = Cube.apply(h, 1.0)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---------------------------------------------------------------------------- hooks, retain_grad
def test_register_hook_on_leaf_and_non_leaf():
    seen = []
    for lib in (dl, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 3
        h.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
        x.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
        (h * h).sum().backward()
        seen.append(x.grad.numpy().copy())
    np.testing.assert_allclose(seen[0], seen[2])
    np.testing.assert_allclose(seen[1], seen[3])
    np.testing.assert_allclose(seen[1], [180.0, 360.0])


def test_retain_grad():
    for lib in (dl, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 3
        h.retain_grad()
        assert h.retains_grad
        (h * h).sum().backward()
        assert h.grad.tolist() == [6.0, 12.0]
        assert x.grad.tolist() == [18.0, 36.0]
    h2 = dl.tensor([1.0], requires_grad=True) * 2
    (h2 * 1).sum().backward()
    assert h2.grad is None  # not retained


# ---------------------------------------------------------------------------- detach, clone
def test_detach_clone_requires_grad_():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0  # shares memory
    assert x.tolist()[0] == 5.0
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    (c * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with dl.no_grad():
        c2 = x.clone()
    c2[1] = 7.0
    assert x.tolist()[1] == 2.0
    y = dl.tensor([1.0])
    assert y.requires_grad_() is y and y.requires_grad
    y.requires_grad_(False)
    assert not y.requires_grad
    nl = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        nl.requires_grad_(False)


def test_data_and_numpy():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    x.data[0] = 3.0
    assert x.detach().numpy()[0] == 3.0
    assert not x.data.requires_grad


# ---------------------------------------------------------------------------- dtypes
def test_dtype_promotion_like_torch():
    f32 = [1.0, 2.0]
    cases = [
        lambda lib: lib.tensor(f32) + lib.tensor(f32, dtype=lib.float64),
        lambda lib: lib.tensor(f32, dtype=lib.float64) * lib.tensor(f32),
        lambda lib: lib.tensor([1, 2]) + lib.tensor(f32),
        lambda lib: lib.tensor([1, 2]) * 2.5,
        lambda lib: lib.tensor([1, 2]) * 2,
        lambda lib: lib.tensor([1, 2]) / 2,
        lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 4]),
        lambda lib: lib.tensor(f32) * 2,
        lambda lib: lib.tensor(f32, dtype=lib.float64) * 2.5,
        lambda lib: 2.5 - lib.tensor(f32),
        lambda lib: lib.tensor(f32) + lib.tensor(1.0, dtype=lib.float64),
        lambda lib: lib.tensor([1, 2]) + lib.tensor(1.5, dtype=lib.float64),
        lambda lib: lib.tensor([True, False]) + lib.tensor([1, 2]),
        lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor([1, 2]),
        lambda lib: lib.tensor([1.0], dtype=lib.float64) ** lib.tensor([2.0]),
        lambda lib: lib.tensor([1, 2]) ** 2,
        lambda lib: lib.tensor([1, 2]) ** 0.5,
        lambda lib: lib.tensor([1, 2]).sum(),
        lambda lib: lib.tensor([True, True]).sum(),
        lambda lib: lib.where(lib.tensor([True, False]), lib.tensor(f32), 0.0),
        lambda lib: lib.tensor([1, 2]).exp(),
        lambda lib: lib.maximum(lib.tensor(f32), lib.tensor(f32, dtype=lib.float64)),
    ]
    for i, f in enumerate(cases):
        a, b = f(dl), f(torch)
        assert str(a.dtype) == str(b.dtype).replace("torch.", "descentlab."), (
            f"case {i}: {a.dtype} vs {b.dtype}")
        np.testing.assert_allclose(np.asarray(a.tolist(), dtype=float),
                                   np.asarray(b.tolist(), dtype=float), rtol=1e-6)


def test_mixed_dtype_grads_keep_input_dtype():
    x32 = dl.tensor([1.0, 2.0], requires_grad=True)
    x64 = dl.tensor([3.0, 4.0], dtype=dl.float64, requires_grad=True)
    y = x32 * x64
    assert y.dtype == dl.float64
    y.sum().backward()
    assert x32.grad.dtype == dl.float32 and x64.grad.dtype == dl.float64
    assert x32.grad.tolist() == [3.0, 4.0]


def test_to_float_double():
    x = dl.tensor([1.5, 2.5], requires_grad=True)
    d = x.double()
    assert d.dtype == dl.float64 and d.requires_grad and d.grad_fn is not None
    assert x.float() is x and x.to(dl.float32) is x and x.to("cpu") is x
    assert x.to(dl.float64).dtype == dl.float64
    assert x.to(dtype=dl.double).dtype == dl.float64
    assert x.to("cpu", dl.float64).dtype == dl.float64
    assert x.to(dl.tensor([1], dtype=dl.float64)).dtype == dl.float64
    (d * d).sum().backward()
    assert x.grad.dtype == dl.float32 and x.grad.tolist() == [3.0, 5.0]
    assert dl.tensor([1.7, -2.2]).long().tolist() == torch.tensor([1.7, -2.2]).long().tolist()
    assert dl.tensor([1, 0]).bool().dtype == dl.bool
    assert dl.float is dl.float32 and dl.double is dl.float64 and dl.long is dl.int64


# ---------------------------------------------------------------------------- in-place ops
INPLACE = [
    ("add_", lambda t: t.add_(2.0)),
    ("add_alpha", lambda t: t.add_(t * 1, alpha=0.5)),
    ("sub_", lambda t: t.sub_(1.5)),
    ("mul_", lambda t: t.mul_(3.0)),
    ("div_", lambda t: t.div_(4.0)),
    ("clamp_", lambda t: t.clamp_(-0.5, 0.5)),
    ("copy_", lambda t: t.copy_(t * 0 + 7.0)),
    ("zero_", lambda t: t.zero_()),
    ("fill_", lambda t: t.fill_(2.5)),
    ("iadd", lambda t: t.__iadd__(1.0)),
    ("isub", lambda t: t.__isub__(1.0)),
    ("imul", lambda t: t.__imul__(2.0)),
    ("idiv", lambda t: t.__itruediv__(2.0)),
    ("setitem_mask", lambda t: t.__setitem__(t < 0, 0.0)),
    ("setitem_slice", lambda t: t.__setitem__((slice(None), 0), 9.0)),
]


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_under_no_grad(name, op):
    a = np.array([[0.3, -1.2, 2.0], [-0.1, 0.7, -2.5]])
    xd, xt = pair(a)
    for lib, x in ((dl, xd), (torch, xt)):
        with lib.no_grad():
            r = op(x)
        assert (r is None if name.startswith("setitem") else r is x)
        assert x.requires_grad and x.is_leaf and x.grad_fn is None
    close(npy(xd), npy(xt), name)


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_on_leaf_requiring_grad_raises(name, op):
    xd, xt = pair([[0.3, -1.2], [2.0, -0.1]])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        op(xd)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(xt)


def test_optimizer_step_by_hand():
    w = dl.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    with dl.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


def _nonleaf_cases():
    def c1(lib, x, w):
        y = x * 2
        y[0] = 5 * w[0]
        y.mul_(3)
        return y

    def c2(lib, x, w):
        y = x.sin()
        y.add_(w)
        y.div_(w + 3)
        y.sub_(x, alpha=0.5)
        return y

    def c3(lib, x, w):
        y = x * 1.0
        y[y > 0.5] = 0.0
        y[1:] += w[1:] * 2
        return y * x

    def c4(lib, x, w):
        y = x.sin()
        y.clamp_(-0.5, 0.5)
        y.copy_(x * w)
        return y.exp()

    def c5(lib, x, w):
        y = x * 3
        y[lib.tensor([0, 2])] = w[:2] * x[1]
        y.pow_(2)
        return y

    def c6(lib, x, w):
        y = lib.zeros(3, dtype=lib.float64)
        y[1] = (x * w).sum()
        y += w
        return y

    def c7(lib, x, w):
        y = x * 2
        y.mul_(w)
        return y

    def c8(lib, x, w):
        y = x + 0
        y *= w
        y /= 2
        y -= x
        return y

    def c9(lib, x, w):
        y = x * 1.5
        m = y > 0
        y[m] = w[m] * 2
        y[lib.tensor([0, 2])] = (x * w)[lib.tensor([1, 1])]
        return lib.where(y > 1, y, 0.0) * lib.masked_fill(y, y < 0, 5.0)

    return [c1, c2, c3, c4, c5, c6, c7, c8, c9]


@pytest.mark.parametrize("case", _nonleaf_cases(), ids=lambda f: f.__name__)
def test_inplace_on_non_leaf_gradients_match_torch(case):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, 3), rng.uniform(0.5, 1.5, 3)
    (xd, xt), (wd, wt) = pair(a), pair(b)
    yd, yt = case(dl, xd, wd), case(torch, xt, wt)
    close(npy(yd), npy(yt), "forward")
    v = rng.standard_normal(3)
    yt.backward(torch.tensor(v))
    yd.backward(dl.tensor(v, dtype=dl.float64))
    for (n, d, t) in (("x", xd, xt), ("w", wd, wt)):
        if t.grad is None:
            assert d.grad is None or np.all(d.grad.numpy() == 0), n
        else:
            close(npy(d.grad), npy(t.grad), f"{n}.grad")


def _saved_then_modified_cases():
    def exp_out(lib, x, w):  # exp saves its output
        y = x.exp()
        y.add_(w)
        return y

    def mul_in(lib, x, w):  # mul saves its inputs
        y = x.sin()
        z = y * w
        y.copy_(y * w)
        return z

    def view_of_saved(lib, x, w):  # modifying a view bumps the base's version
        y = x * 2
        z = y.sin()  # saves y
        y[1:].mul_(w[1:])
        return z

    def sigmoid_out(lib, x, w):
        y = x.sigmoid()
        y *= 2
        return y

    return [exp_out, mul_in, view_of_saved, sigmoid_out]


@pytest.mark.parametrize("case", _saved_then_modified_cases(), ids=lambda f: f.__name__)
def test_inplace_on_saved_tensor_detected_like_torch(case):
    (xd, xt), (wd, wt) = pair([0.1, 0.2, 0.3]), pair([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        case(torch, xt, wt).sum().backward()
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: .*Backward"):
        case(dl, xd, wd).sum().backward()


def test_inplace_under_no_grad_bumps_version_for_saved_check():
    x = dl.tensor([1.0, 2.0], requires_grad=True)
    w = dl.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    with dl.no_grad():
        w.mul_(2)  # w was saved by the multiplication
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*MulBackward"):
        y.sum().backward()


# ---------------------------------------------------------------------------- functional
def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def test_hessian_rosenbrock():
    h = AF.hessian(rosenbrock, dl.tensor([1.0, 1.0], dtype=dl.float64))
    np.testing.assert_array_equal(h.numpy(), [[802.0, -400.0], [-400.0, 200.0]])
    ht = TF.hessian(rosenbrock, torch.tensor([1.0, 1.0], dtype=torch.float64))
    close(h.numpy(), ht.numpy(), "hessian vs torch")


def test_hvp_equals_hessian_times_v():
    rng = np.random.default_rng(2)
    x = dl.tensor(rng.standard_normal(2), dtype=dl.float64)
    v = dl.tensor(rng.standard_normal(2), dtype=dl.float64)
    h = AF.hessian(rosenbrock, x)
    val, hv = AF.hvp(rosenbrock, x, v)
    close(hv.numpy(), h.numpy() @ v.numpy(), "hvp = H v")
    close(val.item(), rosenbrock(x).item(), "hvp value")
    _, hvt = TF.hvp(rosenbrock, torch.tensor(x.numpy()), torch.tensor(v.numpy()))
    close(hv.numpy(), hvt.numpy(), "hvp vs torch")
    _, vh = AF.vhp(rosenbrock, x, v)
    close(vh.numpy(), hv.numpy(), "vhp")


def _f_multi(a, b):
    return (a.unsqueeze(1) * b).tanh() + a.unsqueeze(1).exp()


def test_jacobian_vjp_jvp_vs_torch():
    rng = np.random.default_rng(3)
    a, b, v, u = (rng.standard_normal(s) for s in ((3,), (4,), (3, 4), (3,)))
    ad, bd = dl.tensor(a, dtype=dl.float64), dl.tensor(b, dtype=dl.float64)
    at, bt = torch.tensor(a), torch.tensor(b)
    jd = AF.jacobian(_f_multi, (ad, bd))
    jt = TF.jacobian(_f_multi, (at, bt))
    for x, y in zip(jd, jt):
        close(x.numpy(), y.numpy(), "jacobian")
    jd1 = AF.jacobian(lambda x: x.exp() * x.sum(), ad)
    jt1 = TF.jacobian(lambda x: x.exp() * x.sum(), at)
    close(jd1.numpy(), jt1.numpy(), "jacobian single")
    od, vjd = AF.vjp(_f_multi, (ad, bd), dl.tensor(v, dtype=dl.float64))
    ot, vjt = TF.vjp(_f_multi, (at, bt), torch.tensor(v))
    close(od.numpy(), ot.numpy(), "vjp output")
    for x, y in zip(vjd, vjt):
        close(x.numpy(), y.numpy(), "vjp")
    f1 = lambda x: x.sin() * x.sum()  # noqa: E731
    od, jvd = AF.jvp(f1, ad, dl.tensor(u, dtype=dl.float64))
    ot, jvt = TF.jvp(f1, at, torch.tensor(u))
    close(jvd.numpy(), jvt.numpy(), "jvp")
    close(jvd.numpy(), AF.jacobian(f1, ad).numpy() @ u, "jvp = J u")
    hd = AF.hessian(lambda x, y: (x.unsqueeze(1) * y).sin().sum(), (ad, bd))
    ht = TF.hessian(lambda x, y: (x.unsqueeze(1) * y).sin().sum(), (at, bt))
    for r1, r2 in zip(hd, ht):
        for x, y in zip(r1, r2):
            close(x.numpy(), y.numpy(), "hessian block")


def test_vjp_jvp_refuse_a_v_of_the_wrong_length_as_torch():
    def f(a, b):
        return a * b, a + b

    for af, tf in ((AF.vjp, TF.vjp), (AF.jvp, TF.jvp)):
        with pytest.raises(RuntimeError, match="invalid length: should be 2 but got 1") as ours:
            af(f, (dl.ones(2), dl.ones(2)), (dl.ones(2),))
        with pytest.raises(RuntimeError) as theirs:
            tf(f, (torch.ones(2), torch.ones(2)), (torch.ones(2),))
        assert str(ours.value) == str(theirs.value)


def test_functional_create_graph():
    x = dl.tensor([0.5, 1.5], dtype=dl.float64, requires_grad=True)
    xt = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    hd = AF.hessian(lambda t: (t ** 3).sum() * t.prod(), x, create_graph=True)
    ht = TF.hessian(lambda t: (t ** 3).sum() * t.prod(), xt, create_graph=True)
    close(npy(dl.autograd.grad(hd.sum(), x)[0]), npy(torch.autograd.grad(ht.sum(), xt)[0]),
          "derivative of the hessian")


# ---------------------------------------------------------------------------- deep graphs
def test_deep_chain_10000_ops_no_recursion_limit():
    x = dl.tensor(1.0, dtype=dl.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    close(x.grad.item(), 1.0001 ** 10_000, "deep chain grad", rtol=1e-9)


def test_deep_chain_double_backward():
    x = dl.tensor(0.5, dtype=dl.float64, requires_grad=True)
    y = x
    for _ in range(2000):
        y = (y * 0.999).sin() + 0.001 * x
    (g,) = dl.autograd.grad(y, x, create_graph=True)
    (h,) = dl.autograd.grad(g, x)
    xt = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    yt = xt
    for _ in range(2000):
        yt = (yt * 0.999).sin() + 0.001 * xt
    (gt,) = torch.autograd.grad(yt, xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt, xt)
    close(g.item(), gt.item(), "deep grad", rtol=1e-9)
    close(h.item(), ht.item(), "deep second derivative", rtol=1e-8)


def test_diamond_graph_shared_subexpression():
    x, xt = pair([0.3, 0.9])
    for t in (x, xt):
        h = t.exp()
        y = (h * h + h.sin() * h).sum()
        y.backward()
    close(npy(x.grad), npy(xt.grad), "diamond")


def test_saved_output_makes_no_reference_cycle():
    # tanh, exp, relu and sigmoid save their output; the graph must still be freed by reference
    # counting alone (a cycle would wait for the garbage collector and pile up arrays).
    import gc
    import weakref

    x = dl.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    gc.disable()
    try:
        y = x.tanh().exp().relu().sigmoid()
        node = weakref.ref(y.grad_fn)
        out_values = weakref.ref(y._data)
        del y
        assert node() is None and out_values() is None
    finally:
        gc.enable()


def test_saved_output_still_double_differentiable_and_version_checked():
    x, xt = pair([0.2, -0.7, 1.3])
    for t in (x, xt):
        y = t.tanh()
        (g,) = (dl if t is x else torch).autograd.grad(y.sum(), t, create_graph=True)
        g.sum().backward()
    close(npy(x.grad), npy(xt.grad), "d²/dx² tanh through the rebuilt saved output")
    y = x.tanh()
    with dl.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace.*output of TanhBackward"):
        y.sum().backward()


def test_backward_order_when_a_branch_is_recorded_late():
    # z depends on a (early) and on b, recorded after a long detour from a: a's gradient must
    # collect every contribution before a's node runs, whatever order they were recorded in.
    x, xt = pair([0.4, -0.2])
    for t in (x, xt):
        a = t * 2.0
        b = a
        for _ in range(5):
            b = b.sin() * 1.5
        z = (a * b + a.exp()).sum()
        z.backward()
    close(npy(x.grad), npy(xt.grad), "late branch")


def test_graph_kept_by_a_plain_backward_then_differentiated_again_matches_torch():
    # The first pass runs each node's backward on arrays; the second, with create_graph, must
    # see Tensors again and record them (d²/dx² of Σ tanh(x·w + c)·x, against torch).
    def run(lib, x, w):
        y = ((x * w + 0.5).tanh() * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        x.grad = None
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        gx.sum().backward()
        return first, gx, x.grad
    d = run(dl, *[pair(v)[0] for v in ([0.3, -1.2, 2.0], [1.5, 0.2, -0.7])])
    t = run(torch, *[pair(v)[1] for v in ([0.3, -1.2, 2.0], [1.5, 0.2, -0.7])])
    assert d[1].grad_fn is not None
    for a, b, what in zip(d, t, ("first grad", "grad with graph", "second derivative")):
        close(npy(a), npy(b), what)


def test_a_backward_that_fails_on_arrays_leaves_the_graph_usable():
    x, tx = pair([0.5, -1.0, 2.0])
    y = (x * x).sum()
    original = dl.autograd.ops.Mul.backward

    def failing(ctx, g):
        raise ValueError("boom")
    dl.autograd.ops.Mul.backward = staticmethod(failing)
    try:
        with pytest.raises(ValueError, match="boom"):
            y.backward(retain_graph=True)
    finally:
        dl.autograd.ops.Mul.backward = staticmethod(original)
    (gx,) = dl.autograd.grad(y, x, create_graph=True)  # runs on Tensors: records the product
    ty = (tx * tx).sum()
    (tgx,) = torch.autograd.grad(ty, tx, create_graph=True)
    assert gx.grad_fn is not None
    close(npy(gx), npy(tgx), "grad after the failed pass")
