"""Models and optimizers by name: what ``--hidden``, ``--activation`` and ``--optimizer`` mean."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ACTIVATIONS", "OPTIMIZERS", "OptimizerSpec", "build_mlp", "make_optimizer",
           "parse_hidden"]


def _activations() -> dict[str, Any]:
    from .. import nn

    return {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
            "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus}


#: Names accepted by :func:`build_mlp` (and ``--activation``).
ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "softplus")


@dataclass(frozen=True)
class OptimizerSpec:
    """How a name maps to a ``descentlab.optim`` class.

    Attributes:
        cls: class name in ``descentlab.optim``.
        lr: default learning rate when none is given (a sensible one for small MLPs).
        fixed: keyword arguments the name implies (``momentum=0.9`` for ``"momentum"``).
        momentum: whether the class takes a ``momentum`` argument.
        description: one line for help texts.
    """

    cls: str
    lr: float
    fixed: tuple[tuple[str, Any], ...] = ()
    momentum: bool = False
    description: str = ""


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec("SGD", 0.1, momentum=True, description="plain (mini-batch) SGD"),
    "momentum": OptimizerSpec("SGD", 0.01, (("momentum", 0.9),), True,
                              "SGD with heavy-ball momentum 0.9"),
    "nesterov": OptimizerSpec("SGD", 0.01, (("momentum", 0.9), ("nesterov", True)), True,
                              "SGD with Nesterov momentum 0.9"),
    "adagrad": OptimizerSpec("Adagrad", 0.01, description="per-coordinate steps from summed g²"),
    "rmsprop": OptimizerSpec("RMSprop", 0.001, momentum=True,
                             description="steps scaled by a running mean of g²"),
    "adadelta": OptimizerSpec("Adadelta", 1.0, description="RMSprop with unit-matched steps"),
    "adam": OptimizerSpec("Adam", 0.001, description="momentum + RMSprop, bias-corrected"),
    "adamw": OptimizerSpec("AdamW", 0.001, description="Adam with decoupled weight decay"),
    "adamax": OptimizerSpec("Adamax", 0.002, description="Adam with an infinity norm"),
    "nadam": OptimizerSpec("NAdam", 0.002, description="Adam with Nesterov momentum"),
    "radam": OptimizerSpec("RAdam", 0.001, description="Adam with a rectified warm-up"),
    "lion": OptimizerSpec("Lion", 0.0001, description="sign of interpolated momentum"),
}


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16,16"`` → ``(16, 16)``; ``""`` or ``"none"`` → ``()`` (no hidden layer: a linear model).

    Raises:
        ValueError: naming the bad part, e.g. for ``"16,,a"``.
    """
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return ()
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"malformed hidden sizes {text!r}: {part!r} is not a positive "
                             "integer; write widths separated by commas, e.g. 16,16")
        sizes.append(int(part))
    return tuple(sizes)


def build_mlp(in_features: int, hidden: Sequence[int], out_features: int,
              activation: str = "relu") -> Any:
    """A multilayer perceptron: ``Linear → act → ... → Linear`` as an ``nn.Sequential``.

    Layers use PyTorch's default initialisation, so the same seed gives the same kind of start;
    the state_dict keys are torch's (``0.weight``, ``0.bias``, ``2.weight``, ...).

    Args:
        in_features: input units (features per sample).
        hidden: width of each hidden layer, in order (empty: a linear model).
        out_features: output units (classes, or regression targets).
        activation: one of :data:`ACTIVATIONS`.
    """
    from .. import nn

    acts = _activations()
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(acts)}")
    for name, value in (("in_features", in_features), ("out_features", out_features)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1 (got {value})")
    layers: list[Any] = []
    width = in_features
    for h in hidden:
        if h < 1:
            raise ValueError(f"hidden layer widths must be >= 1 (got {list(hidden)})")
        layers += [nn.Linear(width, h), acts[activation]()]
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def make_optimizer(name: str, params: Iterable[Any], lr: float | None = None, *,
                   momentum: float | None = None, weight_decay: float | None = None) -> Any:
    """Build an optimizer by name (see :data:`OPTIMIZERS`) over ``params``.

    Args:
        name: e.g. ``"sgd"``, ``"momentum"``, ``"adam"``.
        params: the parameters (``model.parameters()``) or parameter groups.
        lr: learning rate (default: the name's default in :data:`OPTIMIZERS`).
        momentum: overrides the momentum of names that have one.
        weight_decay: L2 penalty (decoupled for AdamW); default the class's own.
    """
    from .. import optim

    key = name.strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    spec = OPTIMIZERS[key]
    kwargs: dict[str, Any] = dict(spec.fixed)
    kwargs["lr"] = spec.lr if lr is None else lr
    if not kwargs["lr"] > 0:
        raise ValueError(f"learning rate must be > 0 (got {kwargs['lr']}); try {spec.lr}")
    if momentum is not None:
        if not spec.momentum:
            with_momentum = ", ".join(k for k, s in OPTIMIZERS.items() if s.momentum)
            raise ValueError(f"optimizer {key!r} has no momentum setting; momentum applies to "
                             f"{with_momentum}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1) (got {momentum}); 0.9 is typical")
        kwargs["momentum"] = momentum
    if weight_decay is not None:
        if weight_decay < 0:
            raise ValueError(f"weight decay must be >= 0 (got {weight_decay})")
        kwargs["weight_decay"] = weight_decay
    return getattr(optim, spec.cls)(params, **kwargs)
