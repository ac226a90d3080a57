"""Vanishing / exploding gradients: per-layer norms of deep MLPs and the remedies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from descentlab.lab import diagnostics as D


def _ratios(seeds=range(3), **cfg):
    return np.array([D.gradient_report(seed=s, **cfg).ratio for s in seeds])


def test_report_shapes_and_layer_order():
    r = D.gradient_report(depth=6, width=16, activation="tanh", init="xavier")
    assert r.grad_norms.shape == r.grad_rms.shape == (7,)
    assert r.activation_std.shape == r.activation_grad_norms.shape == (6,)
    assert r.ratio == pytest.approx(r.grad_rms[0] / r.grad_rms[5])
    # Layer 1 holds 2×16 weights, the others 16×16: the RMS divides that out.
    assert r.grad_rms[0] == pytest.approx(r.grad_norms[0] / math.sqrt(32))
    assert r.total_norm == pytest.approx(r.clipped_total_norm)
    assert r.verdict == D.classify_ratio(r.ratio)


def test_sigmoid_default_init_vanishes_by_orders_of_magnitude():
    r = D.gradient_report(depth=15, width=32, activation="sigmoid", init="default")
    assert r.ratio < 1e-6 and r.verdict == "vanishing"
    # The decay is monotone from output to input: each layer back multiplies by σ' ≤ 1/4.
    assert np.all(np.diff(np.log(r.grad_norms[:15])) > 0)


def test_relu_he_keeps_ratio_within_an_order_of_magnitude():
    ratios = _ratios(depth=15, width=64, activation="relu", init="he")
    assert np.all((ratios > 0.1) & (ratios < 10)), ratios


def test_residual_and_batchnorm_fix_sigmoid_vanishing():
    cfg = dict(depth=15, width=32, activation="sigmoid", init="default")
    plain = np.log10(_ratios(**cfg))
    for fix in (dict(residual=True), dict(batchnorm=True), dict(residual=True, batchnorm=True)):
        fixed = np.log10(_ratios(**cfg, **fix))
        assert np.all(fixed - plain > 6), (fix, fixed, plain)  # a million times better at least
    both = np.log10(_ratios(**cfg, residual=True, batchnorm=True))
    assert np.all(np.abs(both) < 2), both


def test_large_tanh_init_explodes():
    r = D.gradient_report(depth=15, width=64, activation="tanh", init="xavier", weight_scale=3)
    assert r.verdict == "exploding"
    assert r.activation_grad_norms[0] > 100 * r.activation_grad_norms[-1]


def test_clipping_caps_total_norm_by_the_closed_form():
    cfg = dict(depth=10, width=32, activation="tanh", init="xavier", weight_scale=3)
    free = D.gradient_report(**cfg)
    c = free.total_norm / 10
    clipped = D.gradient_report(**cfg, clip_norm=c)
    assert clipped.total_norm == pytest.approx(free.total_norm, rel=1e-12)
    assert clipped.clipped_total_norm == pytest.approx(c, rel=1e-6)
    coef = c / (free.total_norm + 1e-6)  # torch's clip_grad_norm_ factor
    np.testing.assert_allclose(clipped.grad_norms, free.grad_norms * coef, rtol=1e-10)
    assert clipped.ratio == pytest.approx(free.ratio)  # clipping scales every layer alike
    loose = D.gradient_report(**cfg, clip_norm=10 * free.total_norm)
    np.testing.assert_allclose(loose.grad_norms, free.grad_norms, rtol=1e-12)


def test_classify_ratio_thresholds():
    assert D.classify_ratio(0.05) == "vanishing"
    assert D.classify_ratio(0.5) == "healthy"
    assert D.classify_ratio(50) == "exploding"
    assert D.classify_ratio(float("nan")) == "exploding"
    assert D.classify_ratio(0.05, vanishing_below=0.01) == "healthy"


def test_sweep_table_rows_and_format():
    reports = D.gradient_sweep(activations=("sigmoid", "relu"), inits=("default", "he"),
                               batchnorm=(False,), depth=4, width=8)
    assert [r.label for r in reports] == ["sigmoid/default", "sigmoid/he", "relu/default",
                                          "relu/he"]
    row = reports[0].row()
    assert {"activation", "init", "ratio", "verdict", "first_grad_norm"} <= set(row)
    table = D.format_gradient_table(reports)
    assert len(table.splitlines()) == 6 and "relu/he" in table


def test_inits_match_their_variance_formulas():
    m = D.build_mlp(depth=3, width=256, activation="relu", init="he", seed=1)
    w = m.linears[1].weight.detach().numpy()
    assert w.var() == pytest.approx(2 / 256, rel=0.05)
    m = D.build_mlp(depth=3, width=256, activation="tanh", init="xavier", seed=1)
    w = m.linears[1].weight.detach().numpy()
    assert w.var() == pytest.approx((5 / 3) ** 2 * 2 / 512, rel=0.05)


def test_bad_arguments_name_the_choices():
    with pytest.raises(ValueError, match="activation"):
        D.build_mlp(activation="swish")
    with pytest.raises(ValueError, match="init"):
        D.build_mlp(init="orthogonal")
    with pytest.raises(ValueError, match="clip_norm"):
        D.gradient_report(depth=2, width=4, clip_norm=0)
