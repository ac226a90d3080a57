"""Pooling's two code paths (windows that tile the input, and overlapping windows) against torch,
including the NaN rule of torch's max-pool kernel: a window holding NaN outputs NaN and sends its
gradient to its last NaN."""

from __future__ import annotations

import numpy as np
import pytest

import descentlab as dl

torch = pytest.importorskip("torch", reason="torch is the oracle for pooling")


def _pool_both(x: np.ndarray, g: np.ndarray, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
    results = []
    for lib in (dl, torch):
        t = lib.tensor(x.copy(), requires_grad=True)
        out = lib.nn.functional.max_pool2d(t, **kwargs)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), t.grad.numpy()))
    return results


@pytest.mark.parametrize("kwargs, size", [
    (dict(kernel_size=2), (7, 8)),                      # tiles, with a cropped last row
    (dict(kernel_size=3, stride=3), (9, 9)),            # tiles exactly
    (dict(kernel_size=3, stride=2), (9, 8)),            # overlapping windows
    (dict(kernel_size=2, stride=1, dilation=2), (7, 7)),
    (dict(kernel_size=2, padding=1), (6, 5)),
])
def test_max_pool_paths_match_torch_with_ties_and_nans(kwargs, size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + size)
    x[0, 0] = np.round(x[0, 0])          # many ties: the gradient goes to one entry, as torch
    x[0, 0, :4, :4] = 0.0
    x[1, 1, 1, 1] = x[1, 1, 2, 2] = np.nan  # several NaNs, some in one window
    x[1, 2, 0, 0] = np.inf
    out_shape = torch.nn.functional.max_pool2d(torch.from_numpy(x), **kwargs).shape
    g = rng.standard_normal(tuple(out_shape))
    (ours, ours_grad), (theirs, theirs_grad) = _pool_both(x, g, **kwargs)
    np.testing.assert_array_equal(ours, theirs)
    # overlapping windows sum gradients in another order: equal up to rounding
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-12, atol=1e-15)


def test_col2im_tiling_path_is_the_adjoint_of_im2col():
    """<im2col(x), c> = <x, col2im(c)> for tiling windows, with a cropped border."""
    from descentlab.autograd.ops.nn import col2im_array, im2col_array

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 9))
    cols = im2col_array(x, (2, 3), (2, 3), (1, 1))
    c = rng.standard_normal(cols.shape)
    back = col2im_array(c, x.shape, (2, 3), (1, 1))
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, back), rtol=1e-12)
    assert not back[:, :, 6:, :].any()  # the cropped row gets no gradient


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2)])
def test_max_pool_backward_with_infinite_upstream_gradient(kwargs):
    """An inf in the upstream gradient reaches only its window's maximum (no inf·0 = NaN)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 7, 7))
    out_shape = torch.nn.functional.max_pool2d(torch.from_numpy(x), **kwargs).shape
    g = rng.standard_normal(tuple(out_shape))
    g[0, 0, 1, 1], g[0, 1, 0, 2] = np.inf, -np.inf
    (_, ours_grad), (_, theirs_grad) = _pool_both(x, g, **kwargs)
    np.testing.assert_array_equal(ours_grad, theirs_grad)


@pytest.mark.parametrize("size", [(11, 11), (10, 13), (8, 8)])
def test_max_pool_gradient_leaves_uncovered_entries_zero_across_steps(size):
    # Tiling windows write every entry they cover into a reused buffer; the rows and columns past
    # the last whole window must read 0 on every step, whatever the buffer held before.
    rng = np.random.default_rng(1)
    for step in range(3):
        x = rng.standard_normal((4, 2) + size).astype(np.float32)
        out_shape = (4, 2, size[0] // 2, size[1] // 2)
        g = rng.standard_normal(out_shape).astype(np.float32) * (step + 1)
        (_, ours_grad), (_, theirs_grad) = _pool_both(x, g, kernel_size=2)
        np.testing.assert_array_equal(ours_grad, theirs_grad)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_of_a_strided_view_matches_torch(kwargs, dtype):
    # A recorded pooling copies its windows into contiguous planes through the input's strides;
    # a channels-last array seen as NCHW (a permuted view) must give torch's values and gradient.
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((3, 9, 10, 4)) * 2).astype(dtype)  # NHWC, with ties
    g = None
    results = []
    for lib in (dl, torch):
        t = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.max_pool2d(t.permute(0, 3, 1, 2), **kwargs)
        if g is None:
            g = rng.standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), t.grad.numpy()))
    (ours, ours_grad), (theirs, theirs_grad) = results
    np.testing.assert_array_equal(ours, theirs)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=tol, atol=tol)
