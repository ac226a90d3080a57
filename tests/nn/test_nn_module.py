"""Module, Parameter and the containers: registration, traversal, modes, state_dict, dtype."""

from collections import OrderedDict

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn

torch = pytest.importorskip("torch")

from nn_compare import check_module, randn  # noqa: E402


def mlp(lib):
    n = lib.nn
    return n.Sequential(n.Linear(4, 8), n.BatchNorm1d(8), n.ReLU(), n.Dropout(0.1), n.Linear(8, 3))


def cnn(lib):
    n = lib.nn
    return n.Sequential(OrderedDict([
        ("conv1", n.Conv2d(1, 4, 3, padding=1)), ("bn1", n.BatchNorm2d(4)), ("act", n.ReLU()),
        ("pool", n.MaxPool2d(2)),
        ("conv2", n.Conv2d(4, 8, kernel_size=3, stride=2, dilation=1, bias=False)),
        ("gap", n.AvgPool2d(2)), ("flat", n.Flatten()),
        ("head", n.ModuleList([n.Linear(8, 5), n.LayerNorm(5)])),
        ("extra", n.ModuleDict({"prelu": n.PReLU(5), "out": n.Linear(5, 2)})),
    ]))


@pytest.mark.parametrize("build", [mlp, cnn])
def test_state_dict_keys_shapes_and_repr_match_torch(build):
    ours, theirs = build(dl).state_dict(), build(torch).state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert tuple(ours[k].shape) == tuple(theirs[k].shape), k
    assert repr(build(dl)) == repr(build(torch))
    assert [n for n, _ in build(dl).named_modules()] == [n for n, _ in build(torch).named_modules()]
    assert [n for n, _ in build(dl).named_buffers()] == [n for n, _ in build(torch).named_buffers()]


def test_torch_weights_load_and_the_whole_mlp_matches():
    dl_net, t_net = mlp(dl), mlp(torch)
    dl_net.eval()
    t_net.eval()
    check_module(dl_net, t_net, randn(5, 4))


def test_load_state_dict_strict_reports_missing_unexpected_and_mismatched():
    net = mlp(dl)
    sd = dict(net.state_dict())
    sd.pop("0.bias")
    sd["9.weight"] = dl.zeros(2)
    sd["4.weight"] = dl.zeros(3, 9)
    before = net[0].weight.detach().numpy().copy()
    sd["0.weight"] = dl.zeros(8, 4)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "0.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "9.weight"' in msg
    assert "size mismatch for 4.weight: copying a param with shape (3, 9)" in msg
    assert "(3, 8)" in msg
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), before)  # nothing copied

    sd["4.weight"] = dl.ones(3, 8)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["9.weight"]
    assert np.all(net[4].weight.detach().numpy() == 1)
    assert np.all(net[0].weight.detach().numpy() == 0)
    sd["4.weight"] = dl.ones(2, 8)
    with pytest.raises(RuntimeError, match="size mismatch for 4.weight"):
        net.load_state_dict(sd, strict=False)  # shapes are checked even when not strict


def test_state_dict_shares_memory_and_round_trips():
    a, b = mlp(dl), mlp(dl)
    sd = a.state_dict()
    assert not sd["0.weight"].requires_grad
    b.load_state_dict(sd)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy())
    assert b[0].weight is not a[0].weight and b[1].num_batches_tracked.dtype == dl.int64


def test_parameter_is_a_leaf_tensor_that_shares_data():
    t = dl.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, dl.Tensor) and p.requires_grad and p.is_leaf
    t[0] = 5.0
    assert p[0].item() == 5.0
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is dl.Tensor
    assert not nn.Parameter(dl.ones(2), requires_grad=False).requires_grad


def test_registration_by_assignment_and_errors():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.scale = nn.Parameter(dl.ones(1))
            self.register_buffer("steps", dl.zeros(1))
            self.register_buffer("cache", dl.zeros(1), persistent=False)
            self.plain = 3

        def forward(self, x):
            return self.fc(x) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    assert list(net.state_dict()) == ["scale", "steps", "fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.get_parameter("fc.bias") is net.fc.bias and net.get_submodule("fc") is net.fc
    with pytest.raises(TypeError, match="nn.Parameter"):
        net.scale = dl.ones(1)
    net.fc = None
    assert [n for n, _ in net.named_parameters()] == ["scale"]
    del net.scale
    assert list(net.parameters()) == []
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = net.missing

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgot()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]


def _nested_with_sharing(lib):
    n = lib.nn
    torch_shared = n.Linear(2, 2)
    inner = n.Sequential(torch_shared, n.Linear(2, 3, bias=False))
    tied = n.Linear(3, 3)
    tied.weight = n.Parameter(tied.weight.detach().clone())
    twin = n.Linear(3, 3)
    twin.weight = tied.weight  # a tied weight: one Parameter in two layers
    return n.Sequential(inner, torch_shared, n.ModuleList([tied, inner, twin]),
                        n.ModuleDict({"b": n.Linear(3, 1), "a": n.Identity()}))


def test_parameters_follow_named_parameters_order_like_torch():
    d, t = _nested_with_sharing(dl), _nested_with_sharing(torch)
    names = [name for name, _ in d.named_parameters()]
    assert names == [name for name, _ in t.named_parameters()]
    assert [id(p) for p in d.parameters()] == [id(p) for _, p in d.named_parameters()]
    assert [p.shape for p in d.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert [id(m) for m in d.modules()] == [id(m) for _, m in d.named_modules()]
    assert list(d.parameters(recurse=False)) == []


def test_train_eval_zero_grad_requires_grad_apply():
    net = mlp(dl)
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    net(dl.randn(6, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "Sequential"]


def test_to_dtype_keeps_parameter_identity_and_int_buffers():
    net = mlp(dl)
    w = net[0].weight
    net(dl.randn(5, 4)).sum().backward()
    assert net.double() is net
    assert net[0].weight is w and w.dtype == dl.float64 and w.grad.dtype == dl.float64
    assert net[1].running_var.dtype == dl.float64
    assert net[1].num_batches_tracked.dtype == dl.int64
    assert net(dl.randn(5, 4, dtype=dl.float64)).dtype == dl.float64
    assert net.to(dl.float32)[0].weight.dtype == dl.float32
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(dl.int64)


def test_sequential_indexing_slicing_and_iteration():
    net = mlp(dl)
    assert len(net) == 5 and isinstance(net[-1], nn.Linear) and net[0] is list(net)[0]
    head = net[3:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["3", "4"]
    with pytest.raises(IndexError, match="out of range"):
        net[5]
    net.append(nn.Softmax(dim=1))
    assert len(net) == 6 and net.eval()(dl.randn(2, 4)).sum().item() == pytest.approx(2.0)
    del net[5]
    net[2] = nn.Tanh()
    assert isinstance(net[2], nn.Tanh)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.insert(0, nn.ReLU())
    del layers[1]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2"]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    d = nn.ModuleDict({"a": nn.Linear(1, 2)})
    d["b"] = nn.ReLU()
    assert list(d) == ["a", "b"] and "a" in d and len(d) == 2
    assert [k for k, _ in d.items()] == ["a", "b"] and d.pop("b").__class__ is nn.ReLU
    with pytest.raises(KeyError, match="keys are"):
        d["zz"]
