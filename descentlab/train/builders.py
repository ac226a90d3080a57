"""Models and optimizers by name: what ``--model``, ``--hidden``, ``--activation`` and
``--optimizer`` mean."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ACTIVATIONS", "MAX_HIDDEN_LAYERS", "MAX_WIDTH", "MODELS", "NEWTON_MAX_PARAMS",
           "OPTIMIZERS", "OptimizerSpec", "build_cnn", "build_mlp", "build_model",
           "count_parameters", "make_optimizer", "optimizer_key", "parse_hidden"]


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
        closure: a full-batch method stepped with a closure (``step(closure)``, one iteration
            per epoch) rather than once per mini-batch.
        weight_decay: whether the class takes a ``weight_decay`` argument.
    """

    cls: str
    lr: float
    fixed: tuple[tuple[str, Any], ...] = ()
    momentum: bool = False
    description: str = ""
    closure: bool = False
    weight_decay: bool = True


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
    # Full-batch methods: one iteration (direction + line search on the whole training set) per
    # step(closure), i.e. per epoch; max_eval is the line search's budget of closure calls.
    "lbfgs": OptimizerSpec("LBFGS", 1.0, (("max_iter", 1), ("max_eval", 25), ("history_size", 20),
                                          ("line_search_fn", "strong_wolfe")),
                           description="limited-memory BFGS, strong-Wolfe line search",
                           closure=True, weight_decay=False),
    "bfgs": OptimizerSpec("BFGS", 1.0, (("max_iter", 1), ("max_eval", 25)),
                          description="BFGS with a dense inverse Hessian, strong Wolfe",
                          closure=True, weight_decay=False),
    "newton": OptimizerSpec("Newton", 1.0, (("max_iter", 1), ("max_eval", 25),
                                            ("damping", 1e-3)),
                            description="damped Newton on the exact Hessian (small models)",
                            closure=True, weight_decay=False),
    "newton-cg": OptimizerSpec("NewtonCG", 1.0, (("max_iter", 1), ("max_eval", 25),
                                                 ("cg_max_iter", 50)),
                               description="Hessian-free Newton: CG on Hessian-vector products",
                               closure=True, weight_decay=False),
}

#: ``newton`` forms the dense n×n Hessian with n Hessian-vector products per iteration (about 2 s
#: per iteration for the 354 parameters of a 2-16-16-2 MLP on 500 samples); above this many
#: parameters that is too slow, and ``make_optimizer`` refuses.
NEWTON_MAX_PARAMS = 500

#: Bounds of ``--hidden``: widths up to this, at most this many hidden layers.
MAX_WIDTH = 65536
MAX_HIDDEN_LAYERS = 64


def optimizer_key(name: str) -> str:
    """The :data:`OPTIMIZERS` key for ``name`` (case, spaces and ``_``/``-`` are ignored).

    Raises:
        ValueError: naming the valid choices.
    """
    key = name.strip().lower().replace("_", "-")
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return key


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16,16"`` → ``(16, 16)``; ``"none"`` → ``()`` (no hidden layer: a linear model).

    An empty text or a width of 0 is refused rather than read as "linear": a linear model is
    asked for by name. Widths are at most :data:`MAX_WIDTH`, layers at most
    :data:`MAX_HIDDEN_LAYERS`.

    Raises:
        ValueError: naming the bad part, e.g. for ``"16,,a"``.
    """
    text = text.strip()
    if text.lower() == "none":
        return ()
    if not text:
        raise ValueError("hidden sizes are empty; give widths separated by commas, e.g. 16,16, "
                         "or 'none' for a linear model")
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            hint = " ('none' gives a linear model)" if part.isdigit() else ""
            raise ValueError(f"malformed hidden sizes {text!r}: {part!r} is not a positive "
                             f"integer; write widths separated by commas, e.g. 16,16{hint}")
        if int(part) > MAX_WIDTH:
            raise ValueError(f"hidden width {part} is too large (at most {MAX_WIDTH})")
        sizes.append(int(part))
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"{len(sizes)} hidden layers are too many (at most {MAX_HIDDEN_LAYERS})")
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
    return nn.Sequential(*_head(in_features, hidden, out_features, acts[activation]))


#: ``--model`` choices.
MODELS = ("mlp", "cnn")


def _head(width: int, hidden: Sequence[int], out_features: int, act: Any) -> list[Any]:
    from .. import nn

    layers: list[Any] = []
    for h in hidden:
        if h < 1:
            raise ValueError(f"hidden layer widths must be >= 1 (got {list(hidden)})")
        layers += [nn.Linear(width, h), act()]
        width = h
    return layers + [nn.Linear(width, out_features)]


def build_cnn(image_shape: Sequence[int], hidden: Sequence[int], out_features: int,
              activation: str = "relu", channels: Sequence[int] = (8, 16)) -> Any:
    """A small conv net on flat image rows, as an ``nn.Sequential``.

        Unflatten to (C, H, W) → [Conv2d 3×3, padding 1 → act → MaxPool2d 2]×len(channels)
        → Flatten → the MLP head (``hidden`` widths) → Linear to ``out_features``

    Each pooling halves H and W and is left out once the smaller side is under 4, so small
    images (8×8 digits) keep at least 2×2 pixels; 28×28 becomes 14×14 then 7×7.

    Args:
        image_shape: ``(C, H, W)`` of one sample; the input rows hold C·H·W values.
        hidden: widths of the dense layers after the convolutions.
        out_features: output units.
        activation: one of :data:`ACTIVATIONS`.
        channels: output channels of each convolution.
    """
    from .. import nn

    acts = _activations()
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(acts)}")
    if len(image_shape) != 3 or min(image_shape) < 1:
        raise ValueError(f"image_shape must be (C, H, W) with positive sizes (got "
                         f"{tuple(image_shape)})")
    c, h, w = (int(v) for v in image_shape)
    layers: list[Any] = [nn.Unflatten(1, (c, h, w))]
    for out_c in channels:
        layers += [nn.Conv2d(c, out_c, 3, padding=1), acts[activation]()]
        if min(h, w) >= 4:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        c = out_c
    layers.append(nn.Flatten())
    return nn.Sequential(*layers, *_head(c * h * w, hidden, out_features, acts[activation]))


def build_model(kind: str, info: Any, hidden: Sequence[int], activation: str = "relu") -> Any:
    """The ``--model`` network for a loaded dataset (a ``DatasetInfo``): ``"mlp"`` or ``"cnn"``.

    Raises:
        ValueError: an unknown kind, or ``"cnn"`` on data that are not images.
    """
    if kind == "mlp":
        return build_mlp(info.in_features, hidden, info.out_features, activation)
    if kind == "cnn":
        if info.image_shape is None:
            raise ValueError(f"--model cnn needs image data, and the rows of {info.name!r} are "
                             f"{info.in_features} plain features; use --model mlp (or give "
                             "images: an .npy/.npz array of shape (N, H, W) or (N, C, H, W))")
        return build_cnn(info.image_shape, hidden, info.out_features, activation)
    raise ValueError(f"unknown model {kind!r}; choose from {', '.join(MODELS)}")


def count_parameters(model: Any) -> int:
    """Number of scalar parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


def make_optimizer(name: str, params: Iterable[Any], lr: float | None = None, *,
                   momentum: float | None = None, weight_decay: float | None = None) -> Any:
    """Build an optimizer by name (see :data:`OPTIMIZERS`) over ``params``.

    Args:
        name: e.g. ``"sgd"``, ``"momentum"``, ``"adam"``, ``"lbfgs"``.
        params: the parameters (``model.parameters()``) or parameter groups.
        lr: learning rate (default: the name's default in :data:`OPTIMIZERS`).
        momentum: overrides the momentum of names that have one.
        weight_decay: L2 penalty (decoupled for AdamW); default the class's own.

    Raises:
        ValueError: an unknown name, an option the optimizer lacks, or ``"newton"`` on more than
            :data:`NEWTON_MAX_PARAMS` parameters (its dense Hessian would be too slow).
    """
    from .. import optim

    key = optimizer_key(name)
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
        if not spec.weight_decay:
            raise ValueError(f"optimizer {key!r} has no weight decay setting; weight decay "
                             "applies to the first-order optimizers")
        if weight_decay < 0:
            raise ValueError(f"weight decay must be >= 0 (got {weight_decay})")
        kwargs["weight_decay"] = weight_decay
    if key == "newton":
        params = list(params)
        n = sum(p.numel() for group in params
                for p in (group["params"] if isinstance(group, dict) else [group]))
        if n > NEWTON_MAX_PARAMS:
            raise ValueError(f"newton forms the dense {n}×{n} Hessian ({n} Hessian-vector "
                             f"products per iteration), too slow above {NEWTON_MAX_PARAMS} "
                             "parameters; use newton-cg (Hessian-free) or lbfgs, or a smaller "
                             "--hidden")
    return getattr(optim, spec.cls)(params, **kwargs)
