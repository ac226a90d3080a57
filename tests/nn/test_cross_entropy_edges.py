"""cross_entropy on an empty batch, against torch 2.x: 'mean' is nan (0/0), 'sum' is 0, 'none'
is empty, for index and probability targets, with weights and label smoothing; the gradient is
empty, and bad targets are still refused."""

import numpy as np
import pytest

import descentlab as dl
from descentlab.nn import functional as F

torch = pytest.importorskip("torch")

OPTIONS = [{}, {"weight": [1.0, 2.0, 0.5]}, {"label_smoothing": 0.1},
           {"weight": [1.0, 2.0, 0.5], "label_smoothing": 0.2}]


def both(shape, target_kind, options, reduction):
    """(ours, torch's) loss and input gradient for an empty batch of the given input shape."""
    x = dl.zeros(*shape, dtype=dl.float64, requires_grad=True)
    tx = torch.zeros(*shape, dtype=torch.float64, requires_grad=True)
    batch = (shape[0],) + shape[2:]
    if target_kind == "index":
        t, tt = dl.tensor(np.zeros(batch, dtype=np.int64)), torch.zeros(batch, dtype=torch.long)
    else:
        t, tt = dl.zeros(*shape, dtype=dl.float64), torch.zeros(*shape, dtype=torch.float64)
    kw = dict(options)
    tkw = dict(options)
    if "weight" in options:
        kw["weight"] = dl.tensor(options["weight"], dtype=dl.float64)
        tkw["weight"] = torch.tensor(options["weight"], dtype=torch.float64)
    ours = F.cross_entropy(x, t, reduction=reduction, **kw)
    ref = torch.nn.functional.cross_entropy(tx, tt, reduction=reduction, **tkw)
    return x, ours, tx, ref


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4)])
@pytest.mark.parametrize("target_kind", ["index", "probabilities"])
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_empty_batch_matches_torch(shape, target_kind, options, reduction):
    x, ours, tx, ref = both(shape, target_kind, options, reduction)
    assert ours.shape == tuple(ref.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), ref.detach().numpy())  # nan == nan here
    if reduction != "none":
        ours.backward()
        ref.backward()
        assert x.grad.shape == tuple(tx.grad.shape) == shape


def test_empty_batch_mean_is_nan_and_sum_is_zero_without_errors():
    x = dl.zeros(0, 5, requires_grad=True)
    t = dl.tensor(np.zeros(0, dtype=np.int64))
    assert np.isnan(float(F.cross_entropy(x, t)))
    assert float(F.cross_entropy(x, t, reduction="sum")) == 0.0
    assert float(dl.nn.CrossEntropyLoss()(x, t)) != float(dl.nn.CrossEntropyLoss()(x, t))


def test_empty_batch_still_checks_the_target():
    x = dl.zeros(0, 3, requires_grad=True)
    with pytest.raises((ValueError, IndexError, RuntimeError)):
        F.cross_entropy(x, dl.tensor(np.zeros(4, dtype=np.int64)))
    with pytest.raises((ValueError, RuntimeError)):
        torch.nn.functional.cross_entropy(torch.zeros(0, 3), torch.zeros(4, dtype=torch.long))


def test_an_array_as_input_is_refused_by_name_like_torch():
    x, y = np.zeros((2, 3)), [0, 1]
    with pytest.raises(TypeError) as theirs:
        torch.nn.functional.cross_entropy(x, torch.tensor(y))
    with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor, not "
                                        r"ndarray") as ours:
        F.cross_entropy(x, dl.tensor(y))
    assert "must be Tensor" in str(theirs.value) and "descentlab.tensor" in str(ours.value)
