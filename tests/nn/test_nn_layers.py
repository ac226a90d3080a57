"""Layers against PyTorch: forward values, input and parameter gradients, running buffers."""

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.nn import functional as F

torch = pytest.importorskip("torch")

from nn_compare import check, check_module, randn  # noqa: E402


def test_linear_matches_torch_with_batch_dims():
    check_module(nn.Linear(5, 3), torch.nn.Linear(5, 3), randn(2, 4, 5))


def test_linear_without_bias():
    m = nn.Linear(5, 3, bias=False)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    check_module(m, torch.nn.Linear(5, 3, bias=False), randn(4, 5))


def test_linear_wrong_feature_count_names_shapes():
    with pytest.raises(ValueError, match=r"input has 4 features.*\(3, 5\)"):
        nn.Linear(5, 3)(dl.randn(2, 4))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=3, dilation=2, padding=2),
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=2, padding="same", dilation=3),
    dict(kernel_size=3, bias=False),
    dict(kernel_size=3, groups=2),
    dict(kernel_size=1, groups=4),
])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_matches_torch(kwargs):
    cin, cout = 4, 6 if kwargs.get("groups") != 4 else 8
    dl_conv = nn.Conv2d(cin, cout, **kwargs)
    check_module(dl_conv, torch.nn.Conv2d(cin, cout, **kwargs), randn(2, cin, 7, 8))


def test_conv2d_unbatched_input():
    check_module(nn.Conv2d(3, 2, 3), torch.nn.Conv2d(3, 2, 3), randn(3, 6, 6))


def test_conv_and_pooling_second_order_match_torch():
    """Gradients through conv2d and both poolings are themselves differentiable (im2col's
    adjoint is col2im and back), so Hessian-vector products agree with torch's."""
    x, w = randn(2, 3, 8, 8), randn(4, 3, 3, 3, seed=1)
    v = randn(4, 3, 3, 3, seed=2)

    def hvp(lib, fn):
        wt = lib.tensor(w, requires_grad=True)
        h = fn.conv2d(lib.tensor(x), wt, stride=1, padding=1)
        h = fn.avg_pool2d(fn.max_pool2d(h, 2), 3, stride=1, padding=1)
        (g,) = lib.autograd.grad((h ** 3).sum(), [wt], create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v)).sum(), [wt])
        return hv.detach().numpy()

    np.testing.assert_allclose(hvp(dl, F), hvp(torch, torch.nn.functional), rtol=1e-7, atol=1e-9)


def test_conv2d_channel_mismatch_is_clear():
    with pytest.raises(ValueError, match="expected input.*to have 3 channels, but got 4"):
        nn.Conv2d(3, 2, 3)(dl.randn(1, 4, 5, 5))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=1),
    dict(kernel_size=3, stride=1, dilation=2),
])
def test_max_pool2d_matches_torch(kwargs):
    check(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), [randn(2, 3, 7, 8)])


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(2, 1)),
    dict(kernel_size=2, divisor_override=3),
])
def test_avg_pool2d_matches_torch(kwargs):
    check(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), [randn(2, 3, 7, 8)])


@pytest.mark.parametrize("shape", [(8, 5), (8, 5, 3)])
def test_batchnorm1d_train_then_eval_matches_torch(shape):
    dl_bn, t_bn = nn.BatchNorm1d(5), torch.nn.BatchNorm1d(5)
    for step in range(3):  # running statistics accumulate over several batches
        check_module(dl_bn, t_bn, randn(*shape, seed=step) * 2 + 1)
    assert int(dl_bn.num_batches_tracked.item()) == 3
    dl_bn.eval()
    t_bn.eval()
    check_module(dl_bn, t_bn, randn(*shape, seed=9))


@pytest.mark.parametrize("kwargs", [
    dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
    dict(track_running_stats=False), dict(bias=False),
])
def test_batchnorm2d_options_match_torch(kwargs):
    dl_bn, t_bn = nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs)
    with torch.no_grad():
        for p in t_bn.parameters():
            p.uniform_(0.5, 1.5)  # not the identity affine, so its gradients are exercised
    for step in range(2):
        check_module(dl_bn, t_bn, randn(4, 3, 5, 5, seed=step) + 3)
    dl_bn.eval()
    t_bn.eval()
    check_module(dl_bn, t_bn, randn(4, 3, 5, 5, seed=7))


def test_batchnorm_single_sample_training_is_an_error():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(dl.randn(1, 3))


@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5))])
def test_layernorm_matches_torch(shape, normalized):
    t_ln = torch.nn.LayerNorm(normalized)
    with torch.no_grad():
        for p in t_ln.parameters():
            p.uniform_(0.5, 1.5)
    check_module(nn.LayerNorm(normalized), t_ln, randn(*shape) * 3 + 2)


def test_flatten_identity_and_residual():
    x = randn(2, 3, 4, 5)
    check(nn.Flatten(), torch.nn.Flatten(), [x])
    check(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), [x])
    check(nn.Identity(54, unused=1), torch.nn.Identity(54, unused=1), [x])
    dl_lin, t_lin = nn.Linear(5, 5), torch.nn.Linear(5, 5)
    check_module(nn.Residual(dl_lin), _TorchResidual(t_lin), randn(3, 5))


class _TorchResidual(torch.nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return x + self.module(x)


def test_residual_block_shapes_and_gradient_path():
    block = nn.ResidualBlock(8, activation=nn.Tanh, norm=nn.LayerNorm)
    x = dl.randn(4, 8, requires_grad=True)
    y = block(x)
    assert y.shape == (4, 8)
    y.sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    with pytest.raises(ValueError, match="changed the shape"):
        nn.Residual(nn.Linear(8, 3))(dl.randn(2, 8))


def test_dropout_is_inverted_reproducible_and_identity_in_eval():
    drop = nn.Dropout(0.25)
    x = dl.ones(200, 500, dtype=dl.float64)
    dl.manual_seed(3)
    y = drop(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    dl.manual_seed(3)
    np.testing.assert_array_equal(drop(x).numpy(), y.numpy())
    drop.eval()
    assert drop(x) is x
    xg = dl.randn(10, 10, requires_grad=True)
    drop.train()
    out = drop(xg)
    out.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), (out.detach().numpy() != 0) / 0.75)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_prelu_per_channel_matches_torch():
    check_module(nn.PReLU(3), torch.nn.PReLU(3), randn(4, 3, 5))
    check_module(nn.PReLU(), torch.nn.PReLU(), randn(4, 3))


def test_small_cnn_end_to_end_matches_torch():
    def build(lib):
        n = lib.nn
        return n.Sequential(
            n.Conv2d(1, 4, 3, padding=1), n.BatchNorm2d(4), n.ReLU(), n.MaxPool2d(2),
            n.Conv2d(4, 6, 3, stride=2), n.ReLU(), n.AvgPool2d(2), n.Flatten(),
            n.Linear(6, 10),
        )

    dl_net, t_net = build(dl), build(torch)
    check_module(dl_net, t_net, randn(3, 1, 12, 12))


@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4), (4, 3, 5, 6)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_batch_norm_training_first_and_second_derivatives_match_torch(shape, affine):
    # Training-mode batch norm is one node with torch's closed-form gradient; its backward is
    # differentiable again (recomputed on Tensors under create_graph): L = Σ y³ · v.
    import numpy as np

    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape) * 3 + 1
    w, b = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    v = rng.standard_normal(shape)
    vecs = [rng.standard_normal(a.shape) for a in (x, w, b)]
    results = {}
    for lib in (dl, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        weight = leaves[1] if affine in ("both", "weight") else None
        bias = leaves[2] if affine in ("both", "bias") else None
        y = lib.nn.functional.batch_norm(leaves[0], None, None, weight, bias, training=True)
        name = y.grad_fn.name()
        used = [leaves[0]] + [t for t, on in ((leaves[1], weight is not None),
                                               (leaves[2], bias is not None)) if on]
        grads = lib.autograd.grad(((y ** 3) * lib.tensor(v)).sum(), used, create_graph=True)
        dot = sum((g * lib.tensor(vec)).sum() for g, vec in zip(grads, vecs))
        # torch's double backward has no bias-without-weight case; first order only there
        hv = lib.autograd.grad(dot, used) if affine != "bias" else ()
        results[lib.__name__] = (name, [t.detach().numpy() for t in (y, *grads, *hv)])
    (ours_name, ours), (torch_name, theirs) = results["descentlab"], results["torch"]
    if affine == "both":
        assert ours_name == torch_name == "NativeBatchNormBackward0"
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-7, atol=1e-9)


def test_batch_norm_training_float32_gradients_match_torch():
    import numpy as np

    rng = np.random.default_rng(5)
    x = (rng.standard_normal((16, 4, 7, 7)) * 2 + 3).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    out = {}
    for lib in (dl, torch):
        bn = lib.nn.BatchNorm2d(4)
        with (torch.no_grad() if lib is torch else dl.no_grad()):
            bn.weight.copy_(lib.tensor(np.linspace(0.5, 1.5, 4, dtype=np.float32)))
        xt = lib.tensor(x, requires_grad=True)
        y = bn(xt)
        y.backward(lib.tensor(g))
        out[lib.__name__] = [t.detach().numpy() for t in (y, xt.grad, bn.weight.grad, bn.bias.grad,
                                                           bn.running_mean, bn.running_var)]
    for a, t in zip(out["descentlab"], out["torch"]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, t, rtol=2e-5, atol=2e-5)
