"""Models and optimizers by name."""

from __future__ import annotations

import numpy as np
import pytest
from train_helpers import blobs, loader, mlp

import descentlab as dl
from descentlab import nn, optim
from descentlab.train import OPTIMIZERS, build_mlp, fit, make_optimizer, parse_hidden


def test_build_mlp_layout_and_torch_keys():
    model = build_mlp(2, (16, 8), 3, "tanh")
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                        "4.bias"]
    assert tuple(model.state_dict()["4.weight"].shape) == (3, 8)
    assert [type(m).__name__ for m in build_mlp(4, (), 2)] == ["Linear"]
    with pytest.raises(ValueError, match="unknown activation 'swish'; choose from relu"):
        build_mlp(2, (4,), 2, "swish")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_named_optimizer_builds_and_trains(name):
    model = mlp()
    opt = make_optimizer(name, model.parameters())
    assert type(opt).__name__ == OPTIMIZERS[name].cls
    assert opt.param_groups[0]["lr"] == OPTIMIZERS[name].lr
    fit(model, opt, nn.CrossEntropyLoss(), loader(blobs(32)), epochs=1, verbose="none")


def test_make_optimizer_options_and_errors():
    params = list(mlp().parameters())
    opt = make_optimizer("momentum", params, 0.05, weight_decay=1e-4)
    assert isinstance(opt, optim.SGD)
    assert opt.param_groups[0]["momentum"] == 0.9 and opt.param_groups[0]["weight_decay"] == 1e-4
    assert make_optimizer("rmsprop", params, momentum=0.5).param_groups[0]["momentum"] == 0.5
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; choose from sgd"):
        make_optimizer("adamm", params)
    with pytest.raises(ValueError, match="'adam' has no momentum setting"):
        make_optimizer("adam", params, momentum=0.9)
    with pytest.raises(ValueError, match="learning rate must be > 0"):
        make_optimizer("sgd", params, lr=-1.0)


def test_parse_hidden():
    assert parse_hidden("16, 16") == (16, 16) and parse_hidden("none") == ()
    for bad in ("16,,a", "16,-2", "x", "1.5", "0", "16,0"):
        with pytest.raises(ValueError, match="malformed hidden sizes"):
            parse_hidden(bad)


def test_progress_bar_mode_runs(capsys):
    model = mlp()
    fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader(blobs()),
        epochs=2, verbose="bar")
    assert "epoch" in capsys.readouterr().err


@pytest.mark.parametrize("shape, pools", [((1, 8, 8), 2), ((1, 28, 28), 2), ((3, 6, 5), 1),
                                          ((1, 3, 3), 0)])
def test_build_cnn_matches_the_same_torch_network(shape, pools):
    torch = pytest.importorskip("torch")
    from descentlab.train import build_cnn

    model = build_cnn(shape, (12,), 4, "relu")
    assert sum(type(m).__name__ == "MaxPool2d" for m in model) == pools
    c, h, w = shape
    layers, ch = [torch.nn.Unflatten(1, shape)], c
    for out_c in (8, 16):
        layers += [torch.nn.Conv2d(ch, out_c, 3, padding=1), torch.nn.ReLU()]
        if min(h, w) >= 4:
            layers.append(torch.nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        ch = out_c
    layers += [torch.nn.Flatten(), torch.nn.Linear(ch * h * w, 12), torch.nn.ReLU(),
               torch.nn.Linear(12, 4)]
    reference = torch.nn.Sequential(*layers)
    # Same state_dict keys as torch's, so the weights carry over one to one.
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, c * shape[1] * shape[2])).astype(np.float32)
    np.testing.assert_allclose(model(dl.tensor(x)).detach().numpy(),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
