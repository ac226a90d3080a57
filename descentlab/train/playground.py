"""A step-by-step training session for the playground: data, network, frames of what it learned.

:class:`PlaygroundSession` is TensorFlow Playground's model on descentlab: a 2-D data set (the
Playground's five classification sets and two regression sets), chosen input features, an MLP
of up to 6 hidden layers (activation, initialization, BatchNorm), an L1/L2 penalty, any
optimizer of ``descentlab.optim`` (first-order ones with a schedule; L-BFGS, BFGS, Newton-CG and
Newton one iteration per batch, through their closure). It trains through
:class:`~descentlab.train.Trainer` one epoch at a time (so its divergence guard stops a run
instead of letting weights go NaN) and reports *frames*: losses, the output over a grid (the
decision boundary), every hidden unit's activation over the grid, the weights, and the
gradient norm of each layer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PLAYGROUND_DATASETS", "INITS", "REGULARIZATIONS", "SCHEDULES", "HIDDEN_ACTIVATIONS",
           "CLOSURE_OPTIMIZERS", "NETWORK_OPTIMIZERS", "PlaygroundConfig", "PlaygroundSession"]

#: Data set → task. Classification sets are the Playground's (and moons); regression its own two.
PLAYGROUND_DATASETS: dict[str, str] = {
    "circle": "classification", "xor": "classification", "gaussians": "classification",
    "spiral": "classification", "moons": "classification",
    "plane": "regression", "multi_gaussian": "regression",
}
HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "linear")
INITS = ("he", "xavier", "zeros")
REGULARIZATIONS = ("none", "l1", "l2")
SCHEDULES = ("none", "step", "exponential", "cosine")
#: Closure-driven methods (name → descentlab.optim class): one iteration per batch, with their
#: line search (strong Wolfe for the quasi-Newton ones, Armijo for the Newton ones).
CLOSURE_OPTIMIZERS: dict[str, str] = {"lbfgs": "LBFGS", "bfgs": "BFGS", "newton_cg": "NewtonCG",
                                      "newton": "Newton"}
#: Newton forms the Hessian with one Hessian-vector product per parameter: small networks only.
NEWTON_MAX_PARAMETERS = 50


def _network_optimizers() -> tuple[str, ...]:
    from .builders import OPTIMIZERS

    return (*OPTIMIZERS, *CLOSURE_OPTIMIZERS)


#: Every optimizer a playground network takes: ``make_optimizer``'s names, then the closure ones.
NETWORK_OPTIMIZERS: tuple[str, ...] = _network_optimizers()


@dataclass
class PlaygroundConfig:
    """Everything that fixes a run (the same config gives the same run, epoch for epoch).

    Attributes:
        dataset: a key of :data:`PLAYGROUND_DATASETS`.  noise: the data set's noise (0..0.5 is
            the Playground's range).  n_samples: points generated.  test_fraction: share held
            out as the test set.  batch_size: samples per step (1 = SGD; ≥ the training set =
            full batch).
        features: input columns (see ``descentlab.data.playground.FEATURES``).
        hidden: units per hidden layer.  activation: hidden activation.  init: "he", "xavier"
            or "zeros" for the weights (biases start at 0).  batchnorm: BatchNorm1d after each
            hidden linear layer.
        regularization: "none", "l1" (rate·Σ|w|) or "l2" (rate·½Σw²) on the weights.
        reg_rate: that rate.
        optimizer, lr, momentum, weight_decay: as ``make_optimizer`` (``None``: the default).
        schedule: "none", "step" (×0.5 every 100 epochs), "exponential" (×0.99 per epoch) or
            "cosine" (to 0 over 500 epochs).
        seed: seeds the data, the split, the weights and the batch order.
        grid: side of the output heat map.  neuron_grid: side of each unit's heat map.
    """

    dataset: str = "circle"
    noise: float = 0.0
    n_samples: int = 500
    test_fraction: float = 0.5
    batch_size: int = 10
    features: tuple[str, ...] = ("x", "y")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    init: str = "xavier"
    batchnorm: bool = False
    regularization: str = "none"
    reg_rate: float = 0.0
    optimizer: str = "sgd"
    lr: float | None = 0.03
    momentum: float | None = None
    weight_decay: float | None = None
    schedule: str = "none"
    seed: int = 0
    grid: int = 50
    neuron_grid: int = 24


def _choice(name: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ValueError(f"{name}: unknown value {value!r}; choose from {', '.join(valid)}")


def _make_data(config: PlaygroundConfig) -> tuple[np.ndarray, np.ndarray]:
    from ..data import datasets, playground

    makers: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
        "circle": datasets.make_circle, "xor": datasets.make_xor,
        "gaussians": datasets.make_gaussians, "spiral": datasets.make_spiral,
        "moons": datasets.make_moons, "plane": playground.make_plane,
        "multi_gaussian": playground.make_multi_gaussian}
    return makers[config.dataset](n_samples=config.n_samples, noise=config.noise,
                                  seed=config.seed, dtype=np.float64)


class _InputRecorder:
    """Wraps the model so the last batch's input is at hand for a closure optimizer."""

    def __init__(self, model: Any) -> None:
        self.model, self.last_input = model, None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def __call__(self, x: Any) -> Any:
        self.last_input = x
        return self.model(x)


class _ClosureStep:
    """A closure optimizer seen through the ``step()`` the Trainer calls after its backward.

    ``step()`` hands the wrapped optimizer a closure that re-evaluates the batch the Trainer just
    used (its input from the model wrapper, its target from the loss), as a hand-written
    ``opt.step(closure)`` loop would; the Trainer's loss still passes its divergence guard first.
    """

    def __init__(self, optimizer: Any, recorder: _InputRecorder, loss: Any) -> None:
        self.optimizer, self.recorder, self.loss = optimizer, recorder, loss

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def step(self) -> None:
        x, y = self.recorder.last_input, self.loss.last_target

        def closure() -> Any:
            self.optimizer.zero_grad()
            value = self.loss(self.recorder.model(x), y)
            value.backward()
            return value

        self.optimizer.step(closure)


def _activation(name: str) -> Any:
    from .. import nn

    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU,
            "elu": nn.ELU, "gelu": nn.GELU, "linear": nn.Identity}[name]()


class PlaygroundSession:
    """One playground run: build it from a config, train it epoch by epoch, read frames.

    Attributes:
        config: the :class:`PlaygroundConfig`.  task: "classification" or "regression".
        trainer: the :class:`~descentlab.train.Trainer` doing the steps.
        history: one record per epoch (``epoch, loss, test_loss`` and accuracies for
            classification, ``lr``).
        diverged: ``None``, or the divergence guard's message once the run has diverged (the
            weights are then those before the failing epoch, so every picture stays finite).
        domain: the (x, y) box of the heat maps.
    """

    def __init__(self, config: PlaygroundConfig) -> None:
        from .. import nn, optim
        from ..autograd.dtypes import Generator
        from ..data import DataLoader, TensorDataset
        from ..data.playground import feature_columns
        from .builders import make_optimizer
        from .callbacks import LRSchedulerCallback
        from .loop import Trainer

        c = config
        _choice("dataset", c.dataset, list(PLAYGROUND_DATASETS))
        _choice("activation", c.activation, HIDDEN_ACTIVATIONS)
        _choice("init", c.init, INITS)
        _choice("regularization", c.regularization, REGULARIZATIONS)
        _choice("schedule", c.schedule, SCHEDULES)
        if not 0 < c.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1) (got {c.test_fraction})")
        if not (math.isfinite(c.reg_rate) and c.reg_rate >= 0):
            raise ValueError(f"reg_rate must be a finite number >= 0 (got {c.reg_rate})")
        if any(h < 1 for h in c.hidden):
            raise ValueError(f"hidden layer widths must be >= 1 (got {list(c.hidden)})")
        if c.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {c.batch_size})")
        self.config = c
        self.task = PLAYGROUND_DATASETS[c.dataset]
        points, target = _make_data(c)
        n_test = int(round(len(points) * c.test_fraction))
        if not 0 < n_test < len(points):
            raise ValueError(f"test_fraction={c.test_fraction} of {len(points)} points leaves an "
                             "empty train or test set; choose a fraction between them")
        # The split has a stream of its own so it does not shift the data or the weights.
        order = np.random.default_rng([c.seed, 2]).permutation(len(points))
        test, train = order[:n_test], order[n_test:]
        self.points = {"train": points[train], "test": points[test]}
        self.targets = {"train": target[train], "test": target[test]}
        self.features = tuple(c.features)
        self._columns = lambda p: feature_columns(p, self.features)

        def dataset(part: str) -> Any:
            x = self._columns(self.points[part])
            y = self.targets[part]
            return TensorDataset(x.astype(np.float32), y if y.dtype.kind == "i"
                                 else y.astype(np.float32))

        train_set, test_set = dataset("train"), dataset("test")
        batch = min(c.batch_size, len(train_set))
        self.loader = DataLoader(train_set, batch_size=batch, shuffle=True,
                                 generator=Generator().manual_seed(c.seed))
        self.test_loader = DataLoader(test_set, batch_size=len(test_set))

        out_features = 2 if self.task == "classification" else 1
        layers: list[Any] = []
        width = len(self.features)
        for h in c.hidden:
            layers.append(nn.Linear(width, h))
            if c.batchnorm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(_activation(c.activation))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.model = nn.Sequential(*layers)
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        gen = Generator().manual_seed(c.seed)
        gain_name = "relu" if c.activation in ("relu", "leaky_relu", "elu", "gelu") else "linear"
        for lin in self.linears:
            if c.init == "he":
                nn.init.kaiming_normal_(lin.weight, nonlinearity=gain_name, generator=gen)
            elif c.init == "xavier":
                nn.init.xavier_uniform_(lin.weight, generator=gen)
            else:
                nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

        if c.optimizer in CLOSURE_OPTIMIZERS:
            optimizer = self._closure_optimizer()
        else:
            optimizer = make_optimizer(c.optimizer, self.model.parameters(), c.lr,
                                       momentum=c.momentum, weight_decay=c.weight_decay)
        callbacks = []
        if c.schedule != "none":
            sched = optim.lr_scheduler
            scheduler = {"step": lambda o: sched.StepLR(o, step_size=100, gamma=0.5),
                         "exponential": lambda o: sched.ExponentialLR(o, gamma=0.99),
                         "cosine": lambda o: sched.CosineAnnealingLR(o, T_max=500)}[c.schedule]
            callbacks.append(LRSchedulerCallback(scheduler(optimizer)))
        base = nn.CrossEntropyLoss() if self.task == "classification" else nn.MSELoss()
        weights = [lin.weight for lin in self.linears]

        def loss_fn(out: Any, y: Any) -> Any:
            loss_fn.last_target = y
            loss = base(out, y)
            if c.regularization == "l1" and c.reg_rate > 0:
                loss = loss + c.reg_rate * sum(w.abs().sum() for w in weights)
            elif c.regularization == "l2" and c.reg_rate > 0:
                loss = loss + c.reg_rate * 0.5 * sum((w * w).sum() for w in weights)
            return loss

        model: Any = self.model
        if c.optimizer in CLOSURE_OPTIMIZERS:
            model = _InputRecorder(self.model)
            trainer_optimizer: Any = _ClosureStep(optimizer, model, loss_fn)
        else:
            trainer_optimizer = optimizer
        self.trainer = Trainer(model, trainer_optimizer, loss_fn, callbacks=callbacks,
                               verbose="none")
        self.history: list[dict[str, float]] = []
        self.diverged: str | None = None
        lo, hi = points.min(axis=0), points.max(axis=0)
        centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 * 1.1
        self.domain = ((float(centre[0] - half), float(centre[0] + half)),
                       (float(centre[1] - half), float(centre[1] + half)))

    def _closure_optimizer(self) -> Any:
        from .. import optim

        c = self.config
        if c.momentum is not None or c.weight_decay is not None:
            raise ValueError(f"optimizer {c.optimizer!r} takes no momentum or weight decay; use "
                             "regularization for a weight penalty")
        n = sum(p.numel() for p in self.model.parameters())
        if c.optimizer == "newton" and n > NEWTON_MAX_PARAMETERS:
            raise ValueError(f"optimizer 'newton' forms the {n}×{n} Hessian every step; use at "
                             f"most {NEWTON_MAX_PARAMETERS} parameters (fewer units) or newton_cg")
        lr = 1.0 if c.lr is None else c.lr
        return getattr(optim, CLOSURE_OPTIMIZERS[c.optimizer])(
            self.model.parameters(), lr=lr, max_iter=1, max_eval=25)

    # ------------------------------------------------------------------ training
    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    def train(self, epochs: int = 1, *, should_stop: Callable[[], bool] | None = None,
              max_seconds: float | None = None) -> int:
        """Train up to ``epochs`` epochs; returns how many ran.

        Stops early (between epochs) when ``should_stop()`` turns true, when ``max_seconds`` have
        passed, or when the divergence guard fires (then :attr:`diverged` says why and the
        weights go back to those before the failing epoch).
        """
        from .loop import DivergenceError

        start, done = time.perf_counter(), 0
        while done < epochs and self.diverged is None:
            if should_stop is not None and should_stop():
                break
            saved = {k: v.detach().numpy().copy() for k, v in self.model.state_dict().items()}
            try:
                self.trainer.fit(self.loader, self.trainer.epoch + 1, self.test_loader)
            except DivergenceError as e:
                self.diverged = str(e).split("; ")[0] + (
                    f"; lower the learning rate (e.g. {e.suggested_lr:g}) and reset")
                self._restore(saved)
                break
            self.history.append(self._record(self.trainer.history.records[-1]))
            done += 1
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                break
        return done

    def _restore(self, saved: dict[str, np.ndarray]) -> None:
        from ..autograd.creation import tensor

        self.model.load_state_dict({k: tensor(v) for k, v in saved.items()})

    def _record(self, record: dict[str, Any]) -> dict[str, float]:
        out = {"epoch": int(record["epoch"]), "loss": float(record["loss"]),
               "test_loss": float(record["val_loss"]), "lr": float(record["lr"])}
        if "accuracy" in record:
            out["accuracy"] = float(record["accuracy"])
            out["test_accuracy"] = float(record["val_accuracy"])
        return out

    # ------------------------------------------------------------------ pictures
    def _grid(self, n: int) -> np.ndarray:
        (x0, x1), (y0, y1) = self.domain
        gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return np.stack([gx.ravel(), gy.ravel()], axis=1)

    def _forward_layers(self, points: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The model's output and each hidden layer's activations at ``points`` (eval mode)."""
        from .. import nn
        from ..autograd.creation import tensor
        from ..autograd.function import no_grad

        was = self.model.training
        self.model.eval()
        hidden: list[np.ndarray] = []
        try:
            with no_grad():
                h = tensor(self._columns(points).astype(np.float32))
                for m in self.model:
                    h = m(h)
                    if not isinstance(m, (nn.Linear, nn.BatchNorm1d)):
                        hidden.append(h.numpy())
        finally:
            self.model.train(was)
        return h.numpy(), hidden

    def output_map(self, n: int) -> np.ndarray:
        """The network's output on an n×n grid over :attr:`domain`, rows from y low to high.

        Classification: p(class 1) − p(class 0), in [−1, 1]; regression: the prediction.
        """
        out, _ = self._forward_layers(self._grid(n))
        return self._score(out).reshape(n, n)

    def _score(self, out: np.ndarray) -> np.ndarray:
        if self.task == "classification":
            z = out - out.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            return p[:, 1] - p[:, 0]
        return out[:, 0]

    def neuron_maps(self, n: int) -> list[np.ndarray]:
        """Each hidden layer's activations on an n×n grid: a list of (units, n, n) arrays."""
        _, hidden = self._forward_layers(self._grid(n))
        return [h.T.reshape(h.shape[1], n, n) for h in hidden]

    def feature_maps(self, n: int) -> np.ndarray:
        """Each input feature over an n×n grid, (features, n, n)."""
        return self._columns(self._grid(n)).T.reshape(len(self.features), n, n)

    def grad_norms(self) -> list[float]:
        """‖∂L/∂(W, b)‖₂ of each linear layer from the last training batch (0 before any step)."""
        norms = []
        for lin in self.linears:
            total = 0.0
            for p in (lin.weight, lin.bias):
                if p.grad is not None:
                    g = p.grad.detach().numpy().astype(np.float64)
                    total += float((g * g).sum())
            norms.append(math.sqrt(total))
        return norms

    def frame(self, since: int = 0, detail: bool = True) -> dict[str, Any]:
        """A JSON-ready snapshot: the history after epoch ``since`` and, with ``detail``, the
        pictures (output map, unit maps, feature maps, weights, gradient norms, data points)."""
        frame: dict[str, Any] = {
            "epoch": self.epoch, "task": self.task, "diverged": self.diverged,
            "history": [r for r in self.history if r["epoch"] > since],
            "last": self.history[-1] if self.history else self._initial_record(),
        }
        if detail:
            c = self.config
            frame.update(
                domain=self.domain,
                output=_rounded(self.output_map(c.grid)),
                neurons=[_rounded(m) for m in self.neuron_maps(c.neuron_grid)],
                features=_rounded(self.feature_maps(c.neuron_grid)),
                weights=[_rounded(lin.weight.detach().numpy()) for lin in self.linears],
                biases=[_rounded(lin.bias.detach().numpy()) for lin in self.linears],
                grad_norms=[g if math.isfinite(g) else None for g in self.grad_norms()])
        return frame

    def _initial_record(self) -> dict[str, float]:
        """Losses (and accuracies) at the initial weights: epoch 0 of the curves."""
        from .loop import evaluate

        rec: dict[str, float] = {"epoch": 0, "lr": float(
            self.trainer.optimizer.param_groups[0]["lr"])}
        full = type(self.loader)(self.loader.dataset, batch_size=len(self.loader.dataset))
        for key, loader in (("", full), ("test_", self.test_loader)):
            result = evaluate(self.model, loader, self.trainer.loss_fn)
            rec[key + "loss"] = result["loss"]
            if "accuracy" in result:
                rec[key + "accuracy"] = result["accuracy"]
        return rec

    def data(self) -> dict[str, Any]:
        """The points and targets of both splits (for drawing)."""
        return {part: {"points": _rounded(self.points[part]),
                       "targets": np.asarray(self.targets[part]).ravel().tolist()}
                for part in ("train", "test")}


def _rounded(a: np.ndarray, digits: int = 4) -> Any:
    """Nested lists of ``a`` rounded to ``digits`` decimals, non-finite values as None."""
    a = np.asarray(a, dtype=np.float64)
    out = np.round(a, digits).astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()
