"""Grids, hashes and random search."""

import math

import numpy as np
import pytest

from descentlab.sweep.spec import SweepSpec, Trial, parse_lr_grid


def test_log_grid_matches_closed_form():
    got = parse_lr_grid("1e-4:1:13")
    want = [1e-4 * (1 / 1e-4) ** (i / 12) for i in range(13)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[0] == pytest.approx(1e-4) and got[-1] == pytest.approx(1.0)
    assert parse_lr_grid("0.1, 0.01") == [0.1, 0.01]
    assert parse_lr_grid("3e-3:1:1") == [3e-3]


@pytest.mark.parametrize("text, words", [
    ("", "empty"), ("1e-3:1:0", "empty"), ("0,0.1", "> 0"), ("-1e-3", "> 0"),
    ("nan", "finite"), ("inf", "finite"), ("1e-3:1", "LOW:HIGH:COUNT"), ("abc", "not a number"),
    ("1:1e-3:4", "HIGH must exceed LOW"),
])
def test_bad_lr_grids_are_refused(text, words):
    with pytest.raises(ValueError, match=words.replace("+", r"\+")):
        parse_lr_grid(text)


def test_grid_size_and_inapplicable_options_are_dropped():
    spec = SweepSpec("train", {"epochs": 1},
                     {"optimizer": ["sgd", "adam"], "lr": [0.1, 0.01, 0.001],
                      "momentum": [0.0, 0.9], "seed": [0, 1]})
    trials = spec.trials()
    # sgd: 3 lr × 2 momentum × 2 seeds; adam ignores momentum: 3 lr × 2 seeds.
    assert len(trials) == 3 * 2 * 2 + 3 * 2
    assert all(t.params["momentum"] is None for t in trials if t.params["optimizer"] == "adam")
    assert len({t.hash for t in trials}) == len(trials)


def test_hash_depends_on_every_value_and_nothing_else():
    a = Trial("train", {"lr": 0.1, "seed": 0, "hidden": [8]})
    b = Trial("train", {"seed": 0, "hidden": (8,), "lr": 0.1})     # order and tuple/list
    c = Trial("train", {"lr": 0.1, "seed": 1, "hidden": [8]})
    assert a.hash == b.hash and a.hash != c.hash
    assert a.group_key == c.group_key


def test_random_search_is_seeded_and_log_uniform_within_the_range():
    spec = SweepSpec("function", {"function": "quadratic_bowl", "steps": 5},
                     {"optimizer": ["sgd", "adam"], "lr": [1e-4, 1.0]}, search="random",
                     samples=200, lr_range=True, search_seed=3)
    first = [t.hash for t in spec.trials()]
    assert first == [t.hash for t in spec.trials()]
    lrs = np.log10([t.params["lr"] for t in spec.trials()])
    assert lrs.min() >= -4 and lrs.max() <= 0
    # log-uniform on [-4, 0]: mean -2, sd 4/√12 ≈ 1.15 (loose bounds for ~200 draws)
    assert abs(lrs.mean() + 2) < 0.35 and abs(lrs.std() - 4 / math.sqrt(12)) < 0.25


@pytest.mark.parametrize("kind, base, axes, words", [
    ("train", {}, {"optimizer": ["adamm"]}, "unknown optimizer"),
    ("train", {}, {"optimizer": []}, "empty"),
    ("train", {}, {"lr": [0.0]}, "> 0"),
    ("train", {}, {"lr": [float("nan")]}, "> 0"),
    ("train", {"dataset": "nope"}, {}, "unknown dataset"),
    ("function", {"function": "nope"}, {}, "unknown function"),
    ("train", {}, {"colour": [1]}, "cannot sweep over colour"),
])
def test_spec_validation(kind, base, axes, words):
    with pytest.raises(ValueError, match=words):
        SweepSpec(kind, base, axes).trials()
