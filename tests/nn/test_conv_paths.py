"""conv2d's batched-product path against torch: values, first and second derivatives in x, W and
b for the stride / padding / dilation / groups combinations it takes, and float32 kept float32."""

import numpy as np
import pytest

import descentlab as dl

torch = pytest.importorskip("torch")

COMBOS = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=1, padding=2, dilation=2, groups=1),
    dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1), groups=2),
    dict(stride=2, padding=0, dilation=1, groups=4),
    dict(stride=1, padding=1, dilation=(1, 2), groups=2),  # unit stride, grouped
]


def _inputs(kernel, groups, h=7, w=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, h, w))
    wt = rng.standard_normal((6 if groups != 4 else 8, 4 // groups) + kernel)
    b = rng.standard_normal(wt.shape[0])
    return x, wt, b


def _derivatives(lib, x, w, b, kwargs, vectors):
    """y, ∂L/∂(x, W, b) and the Hessian of L = Σ y³ applied to ``vectors``."""
    leaves = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = lib.nn.functional.conv2d(*leaves, **kwargs)
    grads = lib.autograd.grad((y ** 3).sum(), leaves, create_graph=True)
    dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vectors))
    hv = lib.autograd.grad(dot, leaves)
    return [t.detach().numpy() for t in (y, *grads, *hv)]


@pytest.mark.parametrize("kernel", [(3, 3), (2, 3)])
@pytest.mark.parametrize("kwargs", COMBOS)
def test_conv2d_first_and_second_derivatives_match_torch(kernel, kwargs):
    x, w, b = _inputs(kernel, kwargs["groups"])
    rng = np.random.default_rng(1)
    vectors = [rng.standard_normal(a.shape) for a in (x, w, b)]
    ours = _derivatives(dl, x, w, b, kwargs, vectors)
    theirs = _derivatives(torch, x, w, b, kwargs, vectors)
    for name, a, t in zip(["y", "gx", "gw", "gb", "Hx", "Hw", "Hb"], ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("h, w", [(8, 6), (7, 9)])
def test_conv2d_with_tiling_windows_matches_torch(h, w):
    """stride = kernel: the transposed convolution is one copy when the windows cover the input
    exactly, and strided adds when a border is left over."""
    x, wt, b = _inputs((2, 2), 1, h, w)
    rng = np.random.default_rng(2)
    vectors = [rng.standard_normal(a.shape) for a in (x, wt, b)]
    kwargs = dict(stride=2)
    ours = _derivatives(dl, x, wt, b, kwargs, vectors)
    theirs = _derivatives(torch, x, wt, b, kwargs, vectors)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-7, atol=1e-9)


def test_conv2d_float32_stays_float32():
    x, w, b = (a.astype(np.float32) for a in _inputs((3, 3), 1))
    leaves = [dl.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = dl.nn.functional.conv2d(*leaves, padding=1)
    y.sum().backward()
    assert y.dtype == dl.float32
    assert all(t.grad.dtype == dl.float32 for t in leaves)
    ref = torch.nn.functional.conv2d(*(torch.from_numpy(a) for a in (x, w, b)), padding=1)
    np.testing.assert_allclose(y.detach().numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    dict(stride=1),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 1), dilation=(1, 2), groups=2),
])
def test_conv_transpose2d_first_and_second_derivatives_match_torch(kwargs):
    """conv_transpose2d is conv2d's input gradient: its derivatives in x, W and b (and their
    derivatives) come from conv2d and the weight-gradient product."""
    rng = np.random.default_rng(3)
    groups = kwargs.get("groups", 1)
    x, w, b = (rng.standard_normal(s) for s in ((2, 4, 5, 4), (4, 6 // groups, 3, 2), (6,)))
    vectors = [rng.standard_normal(a.shape) for a in (x, w, b)]

    def derivatives(lib):
        leaves = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = lib.nn.functional.conv_transpose2d(*leaves, **kwargs)
        grads = lib.autograd.grad((y ** 3).sum(), leaves, create_graph=True)
        hv = lib.autograd.grad(sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vectors)),
                               leaves)
        return [t.detach().numpy() for t in (y, *grads, *hv)]

    for a, t in zip(derivatives(dl), derivatives(torch)):
        np.testing.assert_allclose(a, t, rtol=1e-7, atol=1e-9)


def test_reused_buffers_never_overwrite_values_still_held():
    """Convolution and pooling reuse scratch arrays across calls: outputs, gradients and arrays
    taken from them that are still referenced must keep their values."""
    x, w, b = _inputs((3, 3), 1)
    leaves = [dl.tensor(a, requires_grad=True) for a in (x, w, b)]

    def net():
        return dl.nn.functional.max_pool2d(dl.nn.functional.conv2d(*leaves, padding=1), 2)

    first = net()
    kept = first.detach().numpy()
    snapshot = kept.copy()
    first.sum().backward()
    grads = [t.grad.numpy().copy() for t in leaves]
    second = net()
    second.sum().backward()  # accumulates into the .grad arrays the first backward made
    np.testing.assert_array_equal(kept, snapshot)
    assert second.detach().numpy() is not kept
    for t, g in zip(leaves, grads):
        np.testing.assert_allclose(t.grad.numpy(), 2 * g, rtol=1e-12)
    tx = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ref = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(*tx, padding=1), 2)
    ref.sum().backward()
    for t, r in zip(leaves, tx):
        np.testing.assert_allclose(t.grad.numpy(), 2 * r.grad.numpy(), rtol=1e-7, atol=1e-9)
