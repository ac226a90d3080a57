"""A trial computes what the library's own entry points compute for the same options."""

import numpy as np
import pytest

from descentlab.lab.functions import get_function
from descentlab.lab.trajectories import run_trajectories
from descentlab.sweep.trial import run_trial
from descentlab.train import RunConfig, train_run


@pytest.mark.parametrize("extra", [
    {"optimizer": "momentum", "lr": 0.05, "scheduler": "cosine", "val_split": 0.2},
    {"optimizer": "adam", "lr": 0.01, "val_split": 0.0, "weight_decay": 1e-3},
])
def test_train_trial_equals_descentlab_train(tmp_path, extra):
    params = {"dataset": "moons", "hidden": [8], "activation": "tanh", "batch_size": 50,
              "epochs": 4, "seed": 3, "momentum": None, "betas": None, "weight_decay": None,
              "clip": None, "scheduler": "none", **extra}
    result = run_trial("train", params)
    cfg = {k: v for k, v in params.items() if k != "betas"}
    cfg["hidden"] = tuple(cfg["hidden"])
    oracle = train_run(RunConfig(**cfg, out=str(tmp_path), verbose="none"))
    assert result["status"] == "done"
    for key in ("loss", "accuracy", "lr") + (("val_loss",) if extra["val_split"] else ()):
        assert [m[key] for m in result["metrics"]] == oracle.history[key], key
    want = oracle.final["val_loss" if extra["val_split"] else "loss"]
    assert result["objective"] == want
    steps_per_epoch = int(np.ceil(500 * (1 - extra["val_split"]) / 50))
    assert [m["step"] for m in result["metrics"]] == [steps_per_epoch * e for e in range(1, 5)]


@pytest.mark.parametrize("optimizer", ["lbfgs", "bfgs"])
def test_second_order_trial_equals_descentlab_train_full_batch(tmp_path, optimizer):
    from descentlab.sweep.spec import SweepSpec

    base = {"dataset": "moons", "hidden": [4], "activation": "tanh", "epochs": 3, "seed": 1,
            "val_split": 0.2, "lr": 1.0}
    spec = SweepSpec("train", base, {"optimizer": [optimizer], "batch_size": [16, 50]})
    (trial,) = spec.trials()  # the batch size does not apply: one trial, on the whole set
    assert trial.params["batch_size"] is None
    result = run_trial("train", trial.params)
    oracle = train_run(RunConfig(dataset="moons", hidden=(4,), activation="tanh",
                                 optimizer=optimizer, lr=1.0, epochs=3, seed=1, val_split=0.2,
                                 out=str(tmp_path), verbose="none"))
    assert result["status"] == "done", result["reason"]
    assert oracle.batch_size == 400
    for key in ("loss", "accuracy", "val_loss"):
        assert [m[key] for m in result["metrics"]] == oracle.history[key], key
    assert [m["step"] for m in result["metrics"]] == [1, 2, 3]
    assert result["objective"] == oracle.final["val_loss"]


def test_betas_reach_the_optimizer():
    base = {"dataset": "spiral", "hidden": [4], "activation": "relu", "batch_size": 100,
            "epochs": 2, "seed": 0, "momentum": None, "weight_decay": None, "clip": None,
            "scheduler": "none", "val_split": 0.0, "optimizer": "adam", "lr": 0.01}
    default = run_trial("train", {**base, "betas": None})
    explicit = run_trial("train", {**base, "betas": [0.9, 0.999]})
    other = run_trial("train", {**base, "betas": [0.5, 0.9]})
    assert default["metrics"][-1]["loss"] == explicit["metrics"][-1]["loss"]
    assert other["metrics"][-1]["loss"] != default["metrics"][-1]["loss"]


def test_diverging_trial_is_recorded_not_raised():
    params = {"dataset": "polynomial", "hidden": [16], "activation": "relu", "batch_size": 16,
              "epochs": 5, "seed": 0, "momentum": None, "betas": None, "weight_decay": None,
              "clip": None, "scheduler": "none", "val_split": 0.0, "optimizer": "sgd",
              "lr": 50.0}
    result = run_trial("train", params)
    assert result["status"] == "diverged" and result["objective"] is None
    assert "step" in result["reason"]


def test_function_trial_matches_run_trajectories():
    params = {"function": "rosenbrock", "optimizer": "adam", "lr": 0.05, "momentum": None,
              "betas": None, "weight_decay": None, "steps": 200, "starts": 8, "seed": 4}
    result = run_trial("function", params)
    f = get_function("rosenbrock")
    lo, hi = np.array(f.domain).T
    starts = lo + (hi - lo) * np.random.default_rng(4).random((8, 2))
    tr = run_trajectories(f, starts, "adam", 200, lr=0.05)
    assert result["objective"] == pytest.approx(float(np.median(tr.final_losses)), rel=1e-12)
    assert result["final"]["converged"] + result["final"]["max_steps"] == 8


def test_broken_trial_is_failed_with_its_reason():
    result = run_trial("train", {"dataset": "spiral", "optimizer": "adam"})
    assert result["status"] == "failed" and "KeyError" in result["reason"]


def _digits():
    from descentlab.data import load_dataset

    return load_dataset("digits")


def test_default_init_is_build_mlp_and_other_inits_have_their_variance():
    import descentlab as dl
    from descentlab.sweep.trial import build_model
    from descentlab.train import build_mlp

    info = _digits()
    p = {"model": "mlp", "hidden": [400, 300], "activation": "relu"}
    dl.manual_seed(5)
    ours = build_model(info, {**p, "init": "default"}).state_dict()
    dl.manual_seed(5)
    theirs = build_mlp(64, (400, 300), 10, "relu").state_dict()
    assert all(np.array_equal(ours[k].numpy(), theirs[k].numpy()) for k in theirs)
    dl.manual_seed(5)
    xavier = build_model(info, {**p, "init": "xavier_normal"}).state_dict()
    dl.manual_seed(5)
    kaiming = build_model(info, {**p, "init": "kaiming_normal"}).state_dict()
    w1, w2 = xavier["2.weight"].numpy(), kaiming["2.weight"].numpy()      # 300 × 400
    assert w1.std() == pytest.approx(np.sqrt(2 / (400 + 300)), rel=0.02)  # Glorot
    assert w2.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)          # He, fan_in
    assert not xavier["2.bias"].numpy().any()


def test_cnn_is_the_same_network_as_torch_with_the_same_weights():
    torch = pytest.importorskip("torch", reason="torch is the oracle for the conv net")
    from descentlab import tensor
    from descentlab.sweep.trial import build_model

    info = _digits()
    model = build_model(info, {"model": "cnn", "hidden": [4, 6], "activation": "tanh"})
    ref = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 8, 8)), torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Tanh(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.Tanh(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(6 * 2 * 2, 10)).double()
    ref.load_state_dict({k: torch.tensor(v.numpy(), dtype=torch.float64)
                         for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 64))
    got = model(tensor(x.astype(np.float32))).detach().numpy()
    want = ref(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_cnn_refuses_non_square_inputs():
    from descentlab.data import load_dataset
    from descentlab.sweep.trial import build_model

    with pytest.raises(ValueError, match="square images"):
        build_model(load_dataset("wine"), {"model": "cnn", "hidden": [4],
                                           "activation": "relu"})
