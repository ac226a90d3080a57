"""Vanishing and exploding gradients: per-layer gradient norms of a deep MLP.

Backpropagation multiplies one Jacobian per layer, ∂L/∂h_{l−1} = W_lᵀ·(φ'(z_l) ⊙ ∂L/∂h_l), so the
gradient reaching layer l scales like ∏_{k>l} ‖W_k‖·|φ'|. With sigmoid (φ' ≤ ¼) and PyTorch's
default init (Var w = 1/(3·fan_in)) each factor is ≈ 0.15 and the first layers barely learn; He
init with ReLU keeps each factor ≈ 1; BatchNorm rescales every layer; a residual block
h ← h + f(h) adds the identity to each Jacobian; clipping rescales the whole gradient so no step
explodes. This module builds such MLPs, measures ‖∂L/∂W_l‖ and std(h_l) per layer, and sweeps
the remedies into a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Iterable, Sequence

import numpy as np

from .. import nn
from ..autograd import creation as _c
from ..autograd.dtypes import Generator
from ..autograd.tensor import Tensor
from ..data import make_spiral
from ..nn import functional as F

__all__ = [
    "ACTIVATIONS", "EXPLODING_ABOVE", "INITS", "LESSON_CONFIGS", "VANISHING_BELOW", "DeepMLP",
    "GradientReport", "build_mlp", "classify_ratio", "format_gradient_table", "gradient_report",
    "gradient_sweep",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")
INITS = ("default", "xavier", "he")
_INIT_ALIASES = {"default": "default", "torch": "default", "xavier": "xavier",
                 "glorot": "xavier", "he": "he", "kaiming": "he"}
_ACTIVATION_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
                       "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}

# The lesson side by side: sigmoid vanishes whatever the init, ReLU vanishes with PyTorch's
# default init and is healthy with He's, tanh with Xavier's is healthy.
LESSON_CONFIGS = (("sigmoid", "default"), ("sigmoid", "xavier"), ("tanh", "xavier"),
                  ("relu", "default"), ("relu", "he"))

# Default verdict thresholds on ρ (first over last hidden layer's RMS weight gradient): one order
# of magnitude either way.
VANISHING_BELOW = 0.1
EXPLODING_ABOVE = 10.0


def _check_choice(value: str, valid: Iterable[str], what: str) -> str:
    key = value.strip().lower().replace("-", "_")
    if key not in valid:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(valid)}")
    return key


class DeepMLP(nn.Module):
    """A deep MLP whose forward records each hidden layer's output for diagnostics.

        z_l = W_l·h_{l−1} + b_l;  a_l = φ(BN(z_l)) (BN optional);
        h_l = h_{l−1} + a_l if residual and the widths match (all layers but the first), else a_l;
        logits = W_out·h_L + b_out.

    After each forward, ``self.hidden`` holds the tensors h_1 … h_L (input side first), so a
    caller may ``retain_grad()`` them or read their statistics.

    Args:
        in_features, width, out_features: input size, hidden width, number of outputs.
        depth: number of hidden layers L (each Linear → [BatchNorm1d] → activation).
        activation: one of ``ACTIVATIONS``.
        batchnorm: insert BatchNorm1d between each hidden Linear and its activation.
        residual: make hidden layers 2…L residual, h ← h + φ(BN(W·h + b)).
    """

    def __init__(self, in_features: int, width: int, out_features: int, depth: int,
                 activation: str = "relu", batchnorm: bool = False, residual: bool = False,
                 dtype: Any = None) -> None:
        super().__init__()
        if depth < 1 or width < 1 or in_features < 1 or out_features < 1:
            raise ValueError(f"DeepMLP needs depth, width, in_features and out_features >= 1 "
                             f"(got depth={depth}, width={width}, in_features={in_features}, "
                             f"out_features={out_features})")
        act = _ACTIVATION_MODULES[_check_choice(activation, ACTIVATIONS, "activation")]
        self.depth, self.residual = depth, residual
        self.linears = nn.ModuleList(
            [nn.Linear(in_features if l == 0 else width, width, dtype=dtype) for l in range(depth)])
        self.norms = nn.ModuleList(
            [nn.BatchNorm1d(width, dtype=dtype) if batchnorm else nn.Identity()
             for _ in range(depth)])
        self.acts = nn.ModuleList([act() for _ in range(depth)])
        self.out = nn.Linear(width, out_features, dtype=dtype)
        self.hidden: list[Tensor] = []

    def weight_layers(self) -> list[nn.Linear]:
        """The Linear layers in order from input to output (hidden layers, then the head)."""
        return [*self.linears, self.out]

    def forward(self, x: Tensor) -> Tensor:
        self.hidden = []
        h = x
        for linear, norm, act in zip(self.linears, self.norms, self.acts):
            a = act(norm(linear(h)))
            h = h + a if self.residual and h.shape == a.shape else a
            self.hidden.append(h)
        return self.out(h)


def build_mlp(depth: int = 10, width: int = 64, in_features: int = 2, out_features: int = 3,
              activation: str = "sigmoid", init: str = "default", batchnorm: bool = False,
              residual: bool = False, weight_scale: float = 1.0, seed: int = 0,
              dtype: Any = np.float64) -> DeepMLP:
    """A ``DeepMLP`` with the chosen weight initialization (biases as torch's default).

    init:
        ``default``: torch's Linear init, W ~ U(±1/√fan_in) (Var = 1/(3·fan_in));
        ``xavier``:  Glorot uniform, Var = gain²·2/(fan_in + fan_out), gain = calculate_gain(φ);
        ``he`` (``kaiming``): He normal, Var = gain²/fan_in, gain = √2 for ReLU (√(2/(1+a²))
        for leaky ReLU; ELU uses the ReLU gain; sigmoid/tanh use their own gains).
    Every hidden and output weight is then multiplied by ``weight_scale`` (> 1 pushes tanh into
    the chaotic, exploding regime).

    Args:
        seed: seeds the weights (a private generator; the global seed is untouched).
        dtype: float64 by default so gradients of 1e-20 are still measured accurately.
    """
    init_key = _INIT_ALIASES.get(init.strip().lower())
    if init_key is None:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(_INIT_ALIASES)}")
    act_key = _check_choice(activation, ACTIVATIONS, "activation")
    if not (weight_scale > 0 and math.isfinite(weight_scale)):
        raise ValueError(f"weight_scale must be a positive finite number (got {weight_scale})")
    gen = Generator().manual_seed(seed)
    model = DeepMLP(in_features, width, out_features, depth, act_key, batchnorm, residual, dtype)
    slope = 0.01 if act_key == "leaky_relu" else 0.0
    gain_name = "relu" if act_key == "elu" else act_key
    for layer in model.weight_layers():
        bound = 1.0 / math.sqrt(layer.in_features)
        nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
        if init_key == "default":
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
        elif init_key == "xavier":
            gain = nn.init.calculate_gain(gain_name, slope if act_key == "leaky_relu" else None)
            nn.init.xavier_uniform_(layer.weight, gain=gain, generator=gen)
        else:
            nn.init.kaiming_normal_(layer.weight, a=slope, nonlinearity=gain_name,
                                    generator=gen)
        if weight_scale != 1.0:
            layer.weight._data *= weight_scale
            layer.weight._bump_version()
    return model


def classify_ratio(ratio: float, vanishing_below: float = VANISHING_BELOW,
                   exploding_above: float = EXPLODING_ABOVE) -> str:
    """Verdict on ρ = rms(∂L/∂W_1) / rms(∂L/∂W_L), first over last hidden layer.

        ρ < vanishing_below → "vanishing";  ρ > exploding_above or non-finite → "exploding";
        else "healthy".  Defaults: 0.1 and 10, i.e. an order of magnitude across the depth.
    """
    if not math.isfinite(ratio):
        return "exploding"
    if ratio < vanishing_below:
        return "vanishing"
    if ratio > exploding_above:
        return "exploding"
    return "healthy"


@dataclass
class GradientReport:
    """Per-layer gradient statistics of one deep-MLP configuration (layer 1 = input side).

    Attributes:
        config: the keyword arguments that built the model (depth, width, activation, ...).
        grad_norms: ‖∂L/∂W_l‖_F for the hidden layers 1…L then the output layer (length L+1);
            after clipping when ``clip_norm`` was given. Geometric mean over repeats.
        grad_rms: ‖∂L/∂W_l‖_F / √numel(W_l), the root-mean-square gradient per weight (same
            layout). Layer 1 has in_features×width weights and the others width×width, so the
            Frobenius norms differ by shape alone; the per-weight RMS compares like with like.
        activation_std: std of each hidden output h_l over batch and units (length L).
        activation_grad_norms: ‖∂L/∂h_l‖_F per hidden layer (length L): the backward signal
            itself, which shows explosions that ∂L/∂W = δ·hᵀ can hide when h shrinks alike.
        total_norm: joint norm of all parameter gradients before clipping.
        clipped_total_norm: the same after clipping (equal to total_norm without clipping).
        loss: the cross-entropy at initialization.
        ratio: ρ = grad_rms[0] / grad_rms[L−1], first over last hidden layer.
        verdict: ``classify_ratio(ratio)``.
    """

    config: dict
    grad_norms: np.ndarray
    grad_rms: np.ndarray
    activation_std: np.ndarray
    activation_grad_norms: np.ndarray
    total_norm: float
    clipped_total_norm: float
    loss: float
    ratio: float
    verdict: str
    thresholds: tuple[float, float] = field(default=(VANISHING_BELOW, EXPLODING_ABOVE))

    @property
    def label(self) -> str:
        """A short name such as ``sigmoid/default+BN+res``."""
        c = self.config
        extra = "".join(s for s, on in (("+BN", c["batchnorm"]), ("+res", c["residual"])) if on)
        if c["clip_norm"] is not None:
            extra += f"+clip{c['clip_norm']:g}"
        if c["weight_scale"] != 1.0:
            extra += f"×{c['weight_scale']:g}"
        return f"{c['activation']}/{c['init']}{extra}"

    def row(self) -> dict:
        """One table row: the configuration, the end-layer norms, ρ and the verdict."""
        last = self.config["depth"] - 1
        return {**self.config, "first_grad_norm": float(self.grad_norms[0]),
                "last_grad_norm": float(self.grad_norms[last]),
                "first_grad_rms": float(self.grad_rms[0]),
                "last_grad_rms": float(self.grad_rms[last]),
                "ratio": self.ratio, "verdict": self.verdict, "loss": self.loss}


def _spiral_batch(n: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A standardized spiral: unit-variance inputs, so layer 1 sees the scale the inits assume."""
    X, y = make_spiral(n_samples=n, noise=0.1, n_classes=classes, seed=seed)
    X = np.asarray(X, dtype=np.float64)
    return (X - X.mean(0)) / X.std(0), np.asarray(y, dtype=np.int64)


def gradient_report(depth: int = 10, width: int = 64, activation: str = "sigmoid",
                    init: str = "default", batchnorm: bool = False, residual: bool = False,
                    clip_norm: float | None = None, weight_scale: float = 1.0,
                    data: tuple[np.ndarray, np.ndarray] | None = None, batch_size: int = 256,
                    repeats: int = 1, seed: int = 0,
                    vanishing_below: float = VANISHING_BELOW,
                    exploding_above: float = EXPLODING_ABOVE) -> GradientReport:
    """One forward/backward of cross-entropy at initialization; per-layer gradient norms.

        g_l = ‖∂L/∂W_l‖_F,  r_l = g_l / √numel(W_l),  ρ = r_1 / r_L,  L = cross_entropy(MLP(X), y)

    With ``repeats > 1`` the norms are the geometric mean over models seeded seed, seed+1, …
    (norms span orders of magnitude, so an arithmetic mean would be the largest one's).
    With ``clip_norm`` the gradients are clipped by ``nn.utils.clip_grad_norm_`` — all layers
    scale by the same factor min(1, c/‖g‖), so ρ is unchanged; only the step size is capped.

    Args:
        data: (X, y) with X of shape (n, features) and integer class labels y; default a
            3-class spiral of ``batch_size`` points (seeded by ``seed``).
        batch_size: the spiral's size when ``data`` is None.
        vanishing_below, exploding_above: thresholds for the verdict (see classify_ratio).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1 (got {repeats})")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be positive or None (got {clip_norm})")
    if data is None:
        X, y = _spiral_batch(batch_size, 3, seed)
    else:
        X, y = np.asarray(data[0], dtype=np.float64), np.asarray(data[1], dtype=np.int64)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"data must be (X, y) with X of shape (n, features) and y of shape "
                             f"(n,); got X {X.shape} and y {y.shape}")
    classes = int(y.max()) + 1
    config = dict(depth=depth, width=width, activation=activation, init=init,
                  batchnorm=batchnorm, residual=residual, clip_norm=clip_norm,
                  weight_scale=weight_scale)
    logs = []
    for k in range(repeats):
        model = build_mlp(depth, width, X.shape[1], classes, activation, init, batchnorm,
                          residual, weight_scale, seed + k, np.float64)
        logits = model(_c.tensor(X))
        for h in model.hidden:
            h.retain_grad()
        loss = F.cross_entropy(logits, _c.tensor(y))
        loss.backward()
        total = float(nn.utils.clip_grad_norm_(list(model.parameters()),
                                               math.inf if clip_norm is None else clip_norm).item())
        after = math.sqrt(sum(float(np.sum(p.grad._data ** 2)) for p in model.parameters()
                              if p.grad is not None))
        with np.errstate(divide="ignore"):
            logs.append((
                np.log([np.linalg.norm(m.weight.grad._data) for m in model.weight_layers()]),
                np.log([float(h._data.std()) for h in model.hidden]),
                np.log([np.linalg.norm(h.grad._data) for h in model.hidden]),
                math.log(total) if total > 0 else -math.inf,
                math.log(after) if after > 0 else -math.inf,
                float(loss.item()),
            ))
    grad_norms, act_std, act_grad = (np.exp(np.mean([r[i] for r in logs], axis=0))
                                     for i in range(3))
    grad_rms = grad_norms / np.sqrt([m.weight.numel() for m in model.weight_layers()])
    total_norm, clipped = (float(np.exp(np.mean([r[i] for r in logs]))) for i in (3, 4))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(grad_rms[0] / grad_rms[depth - 1])
    return GradientReport(config, grad_norms, grad_rms, act_std, act_grad, total_norm, clipped,
                          float(np.mean([r[5] for r in logs])), ratio,
                          classify_ratio(ratio, vanishing_below, exploding_above),
                          (vanishing_below, exploding_above))


def gradient_sweep(activations: Sequence[str] = ACTIVATIONS, inits: Sequence[str] = INITS,
                   batchnorm: Sequence[bool] = (False, True), residual: Sequence[bool] = (False,),
                   clip_norm: float | None = None, depth: int = 10, width: int = 64,
                   **kwargs: Any) -> list[GradientReport]:
    """``gradient_report`` for every combination of activation × init × batchnorm × residual.

    Rows come in that nesting order. ``kwargs`` go to ``gradient_report`` (data, repeats, seed,
    weight_scale, thresholds).
    """
    return [gradient_report(depth, width, act, ini, bn, res, clip_norm, **kwargs)
            for act, ini, bn, res in product(activations, inits, batchnorm, residual)]


def format_gradient_table(reports: Sequence[GradientReport]) -> str:
    """A fixed-width text table: configuration, first/last hidden-layer RMS gradient, ρ, verdict."""
    header = f"{'config':<28} {'rms_first':>10} {'rms_last':>10} {'ratio':>10}  verdict"
    lines = [header, "-" * len(header)]
    for r in reports:
        row = r.row()
        lines.append(f"{r.label:<28} {row['first_grad_rms']:>10.3e} "
                     f"{row['last_grad_rms']:>10.3e} {r.ratio:>10.3e}  {r.verdict}")
    return "\n".join(lines)
