"""Run one trial in the current process: the function every backend calls.

A ``train`` trial is exactly ``descentlab train`` with the same options (same data, split, initial
weights, batches and update rule, through ``descentlab.train``'s public pieces), minus the files:
a sweep keeps the per-epoch records in its store instead. A ``function`` trial runs
``descentlab.lab.trajectories.run_trajectories`` from ``starts`` seeded random points of the
landscape's domain.

The result is a JSON-ready dict::

    {"status": "done" | "diverged" | "pruned" | "failed", "reason": str | None,
     "metrics": [per-epoch (or per-recorded-step) records], "final": {...},
     "objective": float | None, "seconds": float}

``objective`` is what a sweep minimizes: the last validation loss when there is a validation
split, else the last training loss (train); the median final f over the starts (function).
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["INITS", "MODELS", "build_model", "objective_name", "run_trial"]

#: ``model`` choices: an MLP (``hidden`` = layer widths, ``descentlab.train.build_mlp``) or a
#: small conv net (``hidden`` = channels of its 3×3 conv + activation + 2×2 max-pool blocks) on
#: square images (a flat input of s² features is read as one s×s channel: digits, MNIST).
MODELS = ("mlp", "cnn")

#: ``init`` choices for the weights of every Linear/Conv2d layer (biases then start at 0);
#: ``default`` keeps PyTorch's default initialization. Kaiming uses ReLU's gain √2.
INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")


def objective_name(kind: str, params: dict[str, Any]) -> str:
    """The metric a trial's ``objective`` is: ``val_loss``, ``loss`` or ``median_f``."""
    if kind == "function":
        return "median_f"
    return "val_loss" if params.get("val_split") else "loss"


def run_trial(kind: str, params: dict[str, Any],
              on_epoch: Callable[[int, float], bool] | None = None) -> dict[str, Any]:
    """Run one trial and return its result dict (never raises for a failing run).

    Args:
        kind: ``"train"`` or ``"function"``.
        params: the trial's parameters (see ``spec.TRAIN_DEFAULTS`` / ``FUNCTION_DEFAULTS``).
        on_epoch: train trials only: called after each epoch with (epoch, objective so far);
            returning ``True`` stops the run there with status ``"pruned"`` (Optuna's pruning).
    """
    start = time.perf_counter()
    try:
        result = _train(params, on_epoch) if kind == "train" else _function(params)
    except Exception as e:  # a sweep records a broken trial and carries on with the others
        last = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
        where = f" ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})" if last else ""
        result = {"status": "failed", "reason": f"{type(e).__name__}: {e}{where}",
                  "metrics": [], "final": {}, "objective": None}
    result["seconds"] = time.perf_counter() - start
    return result


def build_model(info: Any, p: dict[str, Any]) -> Any:
    """The network a train trial trains, from its dataset info and its parameters (``model``,
    ``hidden``, ``activation``, ``init``); draws from the global seed like ``build_mlp``."""
    from .. import nn
    from ..train import build_mlp

    model_kind = p.get("model", "mlp")
    hidden = tuple(p["hidden"])
    if model_kind == "mlp":
        model = build_mlp(info.in_features, hidden, info.out_features, p["activation"])
    elif model_kind == "cnn":
        model = _cnn(info, hidden, p["activation"])
    else:
        raise ValueError(f"unknown model {model_kind!r}; choose from {', '.join(MODELS)}")
    init = p.get("init", "default")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")
    if init != "default":
        fill = getattr(nn.init, init + "_")
        extra = {"nonlinearity": "relu"} if init.startswith("kaiming") else {}
        for layer in model.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                fill(layer.weight, **extra)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
    return model


def _cnn(info: Any, channels: tuple[int, ...], activation: str) -> Any:
    from .. import nn
    from ..train.builders import ACTIVATIONS

    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from "
                         f"{', '.join(ACTIVATIONS)}")
    act = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
           "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus}[activation]
    shape = tuple(info.input_shape)
    layers: list[Any] = []
    if len(shape) == 1:
        side = int(round(shape[0] ** 0.5))
        if side * side != shape[0]:
            raise ValueError(f"model 'cnn' needs square images; {info.name} has {shape[0]} "
                             "features per sample (use model 'mlp')")
        shape = (1, side, side)
        layers.append(nn.Unflatten(1, shape))
    if not channels:
        raise ValueError("model 'cnn' needs at least one conv block: give hidden channels, "
                         "e.g. 8,16")
    c, side = shape[0], shape[1]
    for width in channels:
        if side < 2:
            raise ValueError(f"model 'cnn': {len(channels)} pooling blocks shrink "
                             f"{shape[1]}×{shape[2]} images below 1×1; use fewer channels")
        layers += [nn.Conv2d(c, width, 3, padding=1), act(), nn.MaxPool2d(2)]
        c, side = width, side // 2
    layers += [nn.Flatten(), nn.Linear(c * side * side, info.out_features)]
    return nn.Sequential(*layers)


def _train(p: dict[str, Any], on_epoch: Callable[[int, float], bool] | None = None
           ) -> dict[str, Any]:
    from ..data import DataLoader
    from ..train import Callback, DivergenceError, Trainer, evaluate, prepare_data
    from ..train.run import loss_for, make_loaders, resolve_batch_size, seeded_start

    seed, epochs = int(p["seed"]), int(p["epochs"])
    d = prepare_data(p["dataset"], seed, float(p["val_split"] or 0.0))
    model, optimizer, callbacks = seeded_start(
        seed, lambda: build_model(d.info, p), p["optimizer"], p["lr"], epochs=epochs,
        momentum=p.get("momentum"), weight_decay=p.get("weight_decay"),
        scheduler=p.get("scheduler", "none"))
    if p.get("betas") is not None:
        for group in optimizer.param_groups:
            group["betas"] = tuple(p["betas"])

    class _Clock(Callback):
        """Notes the optimizer step count and the cumulative training time after each epoch."""

        def __init__(self) -> None:
            self.total = 0.0
            self.marks: list[tuple[int, float]] = []
            self.pruned = False

        def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
            self.total += logs.get("time", 0.0)
            self.marks.append((trainer.step, round(self.total, 6)))
            if on_epoch is not None and on_epoch(epoch, logs[key]):
                self.pruned = trainer.stop_training = True

    key = objective_name("train", p)
    clock = _Clock()
    trainer = Trainer(model, optimizer, loss_for(d.info.task), callbacks=[clock, *callbacks],
                      clip_grad_norm=p.get("clip"), verbose="none")
    # A full-batch method (lbfgs, bfgs, newton, newton-cg) takes the whole training set, as in
    # ``descentlab train``; ``applicable`` has dropped its batch size.
    size = p.get("batch_size")
    loader, val = make_loaders(d.train, d.val, resolve_batch_size(
        p["optimizer"], None if size is None else int(size), len(d.train)), seed)
    status, reason = "done", None
    try:
        trainer.fit(loader, epochs, val)
    except DivergenceError as e:
        status, reason = "diverged", f"{e.reason} at step {e.step} (epoch {e.epoch})"
    if status == "done" and clock.pruned:
        status, reason = "pruned", f"stopped by the pruner after epoch {trainer.epoch}"
    records = [{**r, "step": step, "elapsed": elapsed}
               for r, (step, elapsed) in zip(trainer.history.records, clock.marks)]
    final = dict(records[-1]) if records else {}
    if status == "done" and d.test is not None:
        test = evaluate(trainer.model, DataLoader(d.test, batch_size=1024), trainer.loss_fn)
        final.update({f"test_{k}": v for k, v in test.items()})
    objective = final.get(key) if status in ("done", "pruned") else None
    return {"status": status, "reason": reason, "metrics": records, "final": final,
            "objective": _finite_or_none(objective)}


def _function(p: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from ..lab.functions import get_function
    from ..lab.trajectories import run_trajectories

    f = get_function(p["function"])
    steps, k = int(p["steps"]), int(p["starts"])
    rng = np.random.default_rng(int(p["seed"]))
    lo = np.array([a for a, _ in f.domain])
    hi = np.array([b for _, b in f.domain])
    starts = lo + (hi - lo) * rng.random((k, f.dim))
    hyper: dict[str, Any] = {"lr": float(p["lr"])}
    for name in ("momentum", "weight_decay"):
        if p.get(name) is not None:
            hyper[name] = p[name]
    if p.get("betas") is not None:
        hyper["betas"] = tuple(p["betas"])
    t0 = time.perf_counter()
    tr = run_trajectories(f, starts, p["optimizer"], steps, record_every=max(1, steps // 50),
                          seed=int(p["seed"]), **hyper)
    seconds = time.perf_counter() - t0
    f_min = min((m.value for m in f.minima), default=0.0)
    ok = tr.status != "diverged"
    records = []
    for j, s in enumerate(tr.recorded_steps):
        vals = tr.losses[ok, j]
        records.append({"step": int(s), "median_f": _median(vals),
                        "median_gap": _median(vals - f_min),
                        "median_grad_norm": _median(tr.grad_norms[ok, j]),
                        "elapsed": round(seconds * int(s) / max(steps, 1), 6)})
    counts = tr.counts()
    final = {**records[-1], **counts, "starts": k}
    if counts["diverged"] * 2 > k:
        return {"status": "diverged", "reason": f"{counts['diverged']} of {k} starts diverged",
                "metrics": records, "final": final, "objective": None}
    return {"status": "done", "reason": None, "metrics": records, "final": final,
            "objective": _finite_or_none(final["median_f"])}


def _median(values: Any) -> float | None:
    import numpy as np

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
