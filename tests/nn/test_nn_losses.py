"""Losses against PyTorch (every reduction, weights, smoothing, ignore_index) and their errors."""

import numpy as np
import pytest

import descentlab as dl
from descentlab import nn
from descentlab.nn import functional as F

torch = pytest.importorskip("torch")

from nn_compare import check, randn  # noqa: E402

REDUCTIONS = ["mean", "sum", "none"]


def _labels(n, c, seed=0, shape=None):
    return np.random.default_rng(seed).integers(0, c, size=shape or (n,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [
    ("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {}), ("HuberLoss", {"delta": 0.3}),
])
def test_regression_losses_match_torch(name, kwargs, reduction):
    loss, t_loss = (getattr(lib, name)(reduction=reduction, **kwargs) for lib in (nn, torch.nn))
    check(loss, t_loss, [randn(6, 3), randn(6, 3, seed=1)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sse_loss_is_half_sum_of_squares_with_error_gradient(reduction):
    x, y = randn(5, 2), randn(5, 2, seed=1)
    half_mse = torch.nn.MSELoss(reduction=reduction)
    check(nn.SSELoss(reduction=reduction), lambda a, b: 0.5 * half_mse(a, b), [x, y])
    pred = dl.tensor(x, requires_grad=True)
    nn.SSELoss()(pred, dl.tensor(y)).backward()
    np.testing.assert_allclose(pred.grad.numpy(), x - y)  # ∂E/∂ŷ = ŷ − y


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [
    {}, {"label_smoothing": 0.1}, {"ignore_index": 2}, {"ignore_index": 1, "label_smoothing": 0.2},
    {"weight": True}, {"weight": True, "label_smoothing": 0.15, "ignore_index": 0},
])
def test_cross_entropy_with_indices_matches_torch(kwargs, reduction):
    kwargs = dict(kwargs)
    w = None
    if kwargs.pop("weight", False):
        w = np.array([0.5, 2.0, 1.0, 3.0])
    dl_loss = nn.CrossEntropyLoss(weight=None if w is None else dl.tensor(w), reduction=reduction,
                                  **kwargs)
    t_loss = torch.nn.CrossEntropyLoss(weight=None if w is None else torch.tensor(w),
                                       reduction=reduction, **kwargs)
    check(dl_loss, t_loss, [randn(7, 4) * 3, _labels(7, 4)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched_match_torch(reduction):
    kw = dict(reduction=reduction, ignore_index=0, label_smoothing=0.1)
    check(nn.CrossEntropyLoss(**kw), torch.nn.CrossEntropyLoss(**kw),
          [randn(2, 3, 4, 5), _labels(0, 3, shape=(2, 4, 5))])
    check(nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
          [randn(5), np.array(3)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_with_probabilities_matches_torch(reduction, smoothing):
    probs = np.random.default_rng(1).dirichlet(np.ones(4), size=6)
    w = np.array([1.0, 2.0, 0.5, 1.5])
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(nn.CrossEntropyLoss(**kw), torch.nn.CrossEntropyLoss(**kw), [randn(6, 4), probs],
          grad=[0])
    check(nn.CrossEntropyLoss(weight=dl.tensor(w), **kw),
          torch.nn.CrossEntropyLoss(weight=torch.tensor(w), **kw), [randn(6, 4), probs], grad=[0])


def test_cross_entropy_is_stable_for_huge_logits():
    x = dl.tensor([[1000.0, -1000.0, 0.0]], dtype=dl.float64, requires_grad=True)
    loss = F.cross_entropy(x, dl.tensor([1]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(2000.0)
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(reduction):
    lp = torch.log_softmax(torch.tensor(randn(6, 5)), 1).numpy()
    w = np.array([1.0, 0.2, 3.0, 1.0, 0.5])
    kw = dict(reduction=reduction, ignore_index=3)
    check(nn.NLLLoss(weight=dl.tensor(w), **kw), torch.nn.NLLLoss(weight=torch.tensor(w), **kw),
          [lp, _labels(6, 5)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(reduction):
    p = np.random.default_rng(0).uniform(0.05, 0.95, size=(5, 3))
    y = np.random.default_rng(1).uniform(size=(5, 3))
    w = np.random.default_rng(2).uniform(0.5, 2, size=(5, 3))
    check(nn.BCELoss(reduction=reduction), torch.nn.BCELoss(reduction=reduction), [p, y], grad=[0])
    check(nn.BCELoss(weight=dl.tensor(w), reduction=reduction),
          torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction), [p, y], grad=[0])


def test_bce_clamps_log_at_minus_100_like_torch():
    p, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    check(nn.BCELoss(reduction="none"), torch.nn.BCELoss(reduction="none"), [p, y], grad=[])
    x = dl.tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, dl.tensor(y)).backward()
    assert np.all(np.isfinite(x.grad.numpy()))  # no log(0) anywhere, forward or backward
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(dl.tensor([1.5]), dl.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_torch(reduction):
    x = randn(5, 3) * 30  # large logits: must stay finite and exact
    y = (np.random.default_rng(1).uniform(size=(5, 3)) > 0.5).astype(float)
    pw = np.array([0.5, 2.0, 3.0])
    check(nn.BCEWithLogitsLoss(reduction=reduction),
          torch.nn.BCEWithLogitsLoss(reduction=reduction), [x, y], grad=[0])
    check(nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=dl.tensor(pw)),
          torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(pw)), [x, y],
          grad=[0])


def test_loss_errors_name_shapes_and_values():
    with pytest.raises(ValueError, match=r"target shape \(4, 1\) differs from input shape \(4,\)"):
        nn.MSELoss()(dl.randn(4), dl.randn(4, 1))
    with pytest.raises(ValueError, match=r"target class 5 is out of range.*3 classes"):
        nn.CrossEntropyLoss()(dl.randn(2, 3), dl.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not match input shape"):
        nn.CrossEntropyLoss()(dl.randn(2, 3), dl.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="integer tensor"):
        nn.NLLLoss()(dl.randn(2, 3), dl.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.L1Loss(reduction="avg")


def test_one_hot_matches_torch():
    idx = np.array([[0, 2], [1, 3]])
    np.testing.assert_array_equal(F.one_hot(dl.tensor(idx)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    assert F.one_hot(dl.tensor([1]), 4).shape == (1, 4)
    with pytest.raises(ValueError, match="class values"):
        F.one_hot(dl.tensor([4]), 3)
