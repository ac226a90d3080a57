"""Embedding, Conv1d, ConvTranspose2d, AdaptiveAvgPool2d, channel dropout, ParameterList/Dict,
SmoothL1Loss and the legacy size_average/reduce arguments, against PyTorch."""

import re
import warnings

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.nn import functional as F

torch = pytest.importorskip("torch")

from nn_compare import check, check_module, copy_module, randn  # noqa: E402


def _ids(*shape, high=7, seed=0):
    return np.random.default_rng(seed).integers(0, high, size=shape)


# ----------------------------------------------------------------------------- Embedding


@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=2), dict(padding_idx=-1)])
def test_embedding_matches_torch_with_repeated_ids(kwargs):
    ids = _ids(4, 5)
    ids[0, :3] = 2  # repeats accumulate; row 2 is the padding row in one case
    ids[1, 0] = 6
    dl_emb, t_emb = nn.Embedding(7, 3, **kwargs), torch.nn.Embedding(7, 3, **kwargs)
    if "padding_idx" in kwargs:
        assert np.all(dl_emb.weight.detach().numpy()[kwargs["padding_idx"]] == 0)
        with torch.no_grad():
            t_emb.weight[kwargs["padding_idx"]] = 0.5  # a non-zero padding row: no grad still
    check_module(dl_emb, t_emb, ids)
    assert list(dl_emb.state_dict()) == ["weight"]


def test_embedding_max_norm_renormalizes_like_torch():
    ids = np.array([[0, 1, 1], [3, 4, 0]])
    dl_emb, t_emb = nn.Embedding(6, 4, max_norm=1.0), torch.nn.Embedding(6, 4, max_norm=1.0)
    with torch.no_grad():
        t_emb.weight.mul_(3)  # most rows above the cap
    check_module(dl_emb, t_emb, ids)
    # The looked-up rows were rescaled in place in both tables, the others left alone.
    np.testing.assert_allclose(dl_emb.weight.detach().numpy(), t_emb.weight.detach().numpy(),
                               rtol=1e-7, atol=1e-9)


def test_embedding_from_pretrained_and_errors():
    table = np.arange(12.0).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(dl.tensor(table))
    t_emb = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert emb.weight.requires_grad is False and t_emb.weight.requires_grad is False
    np.testing.assert_array_equal(emb(dl.tensor([3, 0])).numpy(),
                                  t_emb(torch.tensor([3, 0])).numpy())
    assert nn.Embedding.from_pretrained(dl.tensor(table), freeze=False).weight.requires_grad
    with pytest.raises(IndexError, match=r"index 4 is out of range.*\[0, 3\]"):
        emb(dl.tensor([4]))
    with pytest.raises(ValueError, match="integer tensor"):
        emb(dl.tensor([1.0]))
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == repr(torch.nn.Embedding(10, 3,
                                                                                padding_idx=0))


# ----------------------------------------------------------------------------- convolutions


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, dilation=3, padding=2, bias=False),
    dict(kernel_size=4, padding="same"),
    dict(kernel_size=3, padding="valid", groups=2),
])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv1d_matches_torch(kwargs):
    cin, cout = 4, 6
    check_module(nn.Conv1d(cin, cout, **kwargs), torch.nn.Conv1d(cin, cout, **kwargs),
                 randn(3, cin, 11))


def test_conv1d_unbatched_and_repr():
    check_module(nn.Conv1d(2, 3, 3), torch.nn.Conv1d(2, 3, 3), randn(2, 9))
    assert repr(nn.Conv1d(2, 3, 3, stride=2)) == repr(torch.nn.Conv1d(2, 3, 3, stride=2))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2),
    dict(kernel_size=4, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=(2, 3), stride=(2, 1), padding=(0, 1), bias=False),
    dict(kernel_size=3, dilation=2, padding=1),
    dict(kernel_size=3, stride=2, groups=2),
])
def test_conv_transpose2d_matches_torch(kwargs):
    cin, cout = 4, 6
    check_module(nn.ConvTranspose2d(cin, cout, **kwargs),
                 torch.nn.ConvTranspose2d(cin, cout, **kwargs), randn(2, cin, 5, 4))


def test_conv_transpose2d_unbatched_repr_and_shape_errors():
    check_module(nn.ConvTranspose2d(3, 2, 2, stride=2), torch.nn.ConvTranspose2d(3, 2, 2, stride=2),
                 randn(3, 4, 4))
    kw = dict(stride=2, padding=1, output_padding=1)
    assert repr(nn.ConvTranspose2d(3, 2, 3, **kw)) == repr(torch.nn.ConvTranspose2d(3, 2, 3, **kw))
    with pytest.raises(ValueError, match="output_padding.*smaller than either stride"):
        nn.ConvTranspose2d(3, 2, 3, stride=1, output_padding=1)(dl.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match="to have 3 channels, but got 4"):
        nn.ConvTranspose2d(3, 2, 3)(dl.randn(1, 4, 4, 4))


def test_conv_transpose2d_and_conv1d_second_order_match_torch():
    """Hessian-vector products through both layers: their backward is made of differentiable
    ops (col2im ↔ im2col), so double backward agrees with torch's."""
    x, w, w1 = randn(2, 3, 4, 4), randn(3, 2, 3, 3, seed=1), randn(2, 2, 3, seed=3)
    v = randn(3, 2, 3, 3, seed=2)

    def hvp(lib, fn):
        wt = lib.tensor(w, requires_grad=True)
        h = fn.conv_transpose2d(lib.tensor(x), wt, stride=2, padding=1, output_padding=1)
        h = fn.conv1d(h.flatten(2), lib.tensor(w1), padding=1)
        h = fn.adaptive_avg_pool2d(h.unsqueeze(1), (3, 5))
        (g,) = lib.autograd.grad((h ** 3).sum(), [wt], create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v)).sum(), [wt])
        return hv.detach().numpy()

    np.testing.assert_allclose(hvp(dl, F), hvp(torch, torch.nn.functional), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("size,out", [
    ((7, 8), (3, 5)), ((7, 8), 1), ((6, 6), 4), ((5, 9), (None, 2)), ((4, 4), (4, 4)),
    ((3, 5), (6, 7)),
])
def test_adaptive_avg_pool2d_matches_torch(size, out):
    check(nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out), [randn(2, 3, *size)])
    check(nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out), [randn(3, *size)])


# ----------------------------------------------------------------------------- channel dropout


@pytest.mark.parametrize("layer,shape", [
    (nn.Dropout1d, (40, 50, 6)), (nn.Dropout1d, (300, 7)), (nn.Dropout2d, (40, 50, 3, 4)),
])
def test_channel_dropout_zeroes_whole_channels_and_rescales(layer, shape):
    p = 0.3
    drop = layer(p)
    x = dl.tensor(np.random.default_rng(0).uniform(1, 2, size=shape), requires_grad=True)
    dl.manual_seed(5)
    y = drop(x)
    ratio = y.detach().numpy() / x.detach().numpy()
    chan = ratio.reshape(ratio.shape[:2] + (-1,)) if len(shape) > 2 else ratio.reshape(1, *shape)
    # Every channel is either all dropped or all kept and scaled by 1/(1 − p).
    first = chan[..., :1]
    np.testing.assert_allclose(chan, np.broadcast_to(first, chan.shape))
    kept = first != 0
    np.testing.assert_allclose(first[kept], 1 / (1 - p))
    assert abs(kept.mean() - (1 - p)) < 0.05
    upstream = np.random.default_rng(1).standard_normal(shape)
    y.backward(dl.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), upstream * ratio)
    dl.manual_seed(5)
    np.testing.assert_array_equal(drop(x).detach().numpy(), y.detach().numpy())
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == repr(getattr(torch.nn, layer.__name__)(p))


def test_channel_dropout_dims_follow_torch():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        nn.Dropout1d()(dl.randn(2, 3, 4, 5))
    for lib in (dl, torch):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            lib.nn.Dropout2d()(lib.randn(2, 3, 4))
    assert nn.Dropout2d(1.0)(dl.ones(2, 3, 2, 2)).abs().sum().item() == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(-0.1)


# ----------------------------------------------------------------------------- parameter containers


def test_parameter_list_and_dict_register_like_torch():
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.ws = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)),
                                                lib.zeros(3)])  # a plain tensor is wrapped
                self.ws.append(lib.nn.Parameter(lib.ones(4)))
                self.named = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2)),
                                                   "b": lib.ones(1)})
                self.named["c"] = lib.nn.Parameter(lib.zeros(5))

        return Net()

    net, t_net = build(dl), build(torch)
    assert list(net.state_dict()) == list(t_net.state_dict())
    assert [tuple(p.shape) for p in net.parameters()] == [tuple(p.shape)
                                                          for p in t_net.parameters()]
    assert all(isinstance(p, nn.Parameter) for p in net.ws)
    assert len(net.ws) == 3 and net.ws[-1].shape == (4,) and len(net.ws[:2]) == 2
    assert list(net.named) == ["a", "b", "c"] and "b" in net.named
    assert net.named.pop("b").shape == (1,) and "named.b" not in net.state_dict()
    del t_net.named["b"]
    assert list(net.state_dict()) == list(t_net.state_dict())
    # Same layout as torch's repr; only the dtype spelling inside the brackets differs.
    def layout(text):
        return re.sub(r"\[[^\]]* of size", "[… of size", text)

    assert layout(repr(net.ws)) == layout(repr(t_net.ws))
    assert layout(repr(net.named)) == layout(repr(t_net.named))
    loss = sum((p * p).sum() for p in net.parameters())
    loss.backward()
    assert all(p.grad is not None for p in net.parameters())


# ----------------------------------------------------------------------------- losses


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("beta", [1.0, 0.4, 0.0])
def test_smooth_l1_loss_matches_torch(reduction, beta):
    x, y = randn(6, 3) * 2, randn(6, 3, seed=1)
    check(nn.SmoothL1Loss(reduction=reduction, beta=beta),
          torch.nn.SmoothL1Loss(reduction=reduction, beta=beta), [x, y])
    check(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
          lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
          [x, y])


_LEGACY = [(s, r) for s in (None, True, False) for r in (None, True, False)
           if (s, r) != (None, None)]


def _loss_case(name, size_average, reduce):
    """(dl module, torch module, inputs, grad indices) for one loss with legacy arguments."""
    kw = dict(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_loss = getattr(torch.nn, name)(**kw)
    with pytest.warns(UserWarning, match=f"please use reduction='{t_loss.reduction}' instead"):
        dl_loss = getattr(nn, name)(**kw)
    assert dl_loss.reduction == t_loss.reduction
    x, y = randn(5, 4), randn(5, 4, seed=1)
    if name in ("NLLLoss", "CrossEntropyLoss"):
        y = _ids(5, high=4)
        if name == "NLLLoss":
            x = torch.log_softmax(torch.tensor(x), 1).numpy()
    elif name == "BCELoss":
        x, y = 1 / (1 + np.exp(-x)), np.random.default_rng(2).uniform(size=(5, 4))
    elif name == "BCEWithLogitsLoss":
        y = np.random.default_rng(2).uniform(size=(5, 4))
    return dl_loss, t_loss, [x, y], [0]


@pytest.mark.parametrize("size_average,reduce", _LEGACY)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "SmoothL1Loss", "NLLLoss",
                                  "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss"])
def test_legacy_size_average_reduce_map_like_torch(name, size_average, reduce):
    dl_loss, t_loss, inputs, grad = _loss_case(name, size_average, reduce)
    check(dl_loss, t_loss, inputs, grad=grad)


@pytest.mark.parametrize("size_average,reduce", _LEGACY)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss",
                                  "binary_cross_entropy_with_logits"])
def test_legacy_arguments_on_functional_forms(name, size_average, reduce):
    x, y = randn(4, 3), np.random.default_rng(1).uniform(size=(4, 3))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        check(lambda a, b: getattr(F, name)(a, b, size_average=size_average, reduce=reduce),
              lambda a, b: getattr(torch.nn.functional, name)(a, b, size_average=size_average,
                                                              reduce=reduce),
              [x, y], grad=[0])


def test_no_warning_without_legacy_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.MSELoss(reduction="sum")(dl.ones(2), dl.zeros(2))
        nn.CrossEntropyLoss()(dl.randn(2, 3), dl.tensor([0, 2]))


def test_copy_module_helper_roundtrip_for_new_layers():
    """State dicts load across libraries both ways (same keys, same shapes)."""
    for make in (lambda n: n.Embedding(5, 2), lambda n: n.Conv1d(2, 3, 2),
                 lambda n: n.ConvTranspose2d(2, 3, 2)):
        mine, theirs = make(nn), make(torch.nn)
        copy_module(mine, theirs)
        theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in mine.state_dict().items()})


def test_functional_loss_signatures_take_torchs_positional_order():
    """The same positional call means the same thing in both libraries (size_average and reduce
    sit where torch puts them)."""
    x, y = randn(4, 3), np.random.default_rng(1).uniform(size=(4, 3))
    lp = torch.log_softmax(torch.tensor(x), 1).numpy()
    labels = _ids(4, high=3)
    p = 1 / (1 + np.exp(-x))
    w = np.array([0.5, 1.0, 2.0])
    cases = [
        ("mse_loss", [x, y], (None, None, "sum")),
        ("l1_loss", [x, y], (None, None, "none")),
        ("smooth_l1_loss", [x, y], (None, None, "sum", 0.5)),
        ("huber_loss", [x, y], ("sum", 0.5)),
        ("nll_loss", [lp, labels], (None, None, 1, None, "sum")),
        ("binary_cross_entropy", [p, y], (None, None, None, "none")),
        ("binary_cross_entropy_with_logits", [x, y], (None, None, None, "sum", w)),
    ]

    def call(fn, rest, wrap):
        args = [wrap(r) if isinstance(r, np.ndarray) else r for r in rest]
        return lambda a, b: fn(a, b, *args)

    for name, inputs, rest in cases:
        check(call(getattr(F, name), rest, dl.tensor),
              call(getattr(torch.nn.functional, name), rest, torch.tensor), inputs, grad=[0])
