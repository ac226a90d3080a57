"""Optimizer: the torch.optim base class — parameter groups, per-parameter state, state_dict.

Subclasses implement ``step(closure=None)``; everything else (groups, defaults, ``zero_grad``,
saving and restoring) lives here, with torch.optim's names, formats and error cases.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import operator
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["Optimizer", "required", "Range", "check_hyperparameter"]


@dataclass(frozen=True)
class Range:
    """Where a hyperparameter may lie: a finite number (an integer if ``integer``) in the interval
    from low to high, each end open or closed; ``none_ok`` also admits None ("not set")."""

    low: float = 0.0
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    integer: bool = False
    none_ok: bool = False

    def admits(self, value: Any) -> bool:
        if value is None:
            return self.none_ok
        if isinstance(value, (np.ndarray, np.generic)) and value.ndim == 0:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.integer and not (isinstance(value, numbers.Integral)
                                 or (math.isfinite(value) and value == int(value))):
            return False
        return (math.isfinite(value)
                and (value > self.low if self.open_low else value >= self.low)
                and (value < self.high if self.open_high else value <= self.high))

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        if self.high == math.inf:
            sign = ">" if self.open_low else ">="
            where = "" if self.low == -math.inf else f" {sign} {self.low:g}"
        else:
            where = (f" in {'(' if self.open_low else '['}{self.low:g}, "
                     f"{self.high:g}{')' if self.open_high else ']'}")
        return kind + where + (" (or None)" if self.none_ok else "")


def check_hyperparameter(owner: str, name: str, value: Any, allowed: Range,
                         example: Any = None) -> None:
    """Raise ValueError unless ``value`` (each entry, for a tuple such as betas) is in ``allowed``.

    The message reads "Adam: lr must be a finite number >= 0, got nan; pass e.g. lr=0.001".
    """
    entries = (list(enumerate(value)) if isinstance(value, (tuple, list))
               else [(None, value)])
    for i, v in entries:
        if not allowed.admits(v):
            label = name if i is None else f"{name}[{i}]"
            fix = f"; pass e.g. {name}={example!r}" if example is not None else ""
            raise ValueError(f"{owner}: {label} must be {allowed.describe()}, got {v!r}{fix}")


class _RequiredParameter:
    """Marks a hyperparameter with no default (``lr=required``), as in torch.optim."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers (as ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, or of dicts (parameter groups) each with a ``'params'``
            entry and optional per-group hyperparameters that override ``defaults``.
        defaults: default hyperparameters for every group.

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (a list of Tensors) and hyperparameters.
        state: dict keyed by parameter (Tensor) with that parameter's state dict.

    Hyperparameters named in ``_ranges`` are checked in the constructor, in ``add_param_group``
    and, for a group whose values were edited since (``param_groups[i]['lr'] = ...``), at the
    start of the next ``step`` (subclasses call ``_check_edits()`` before touching anything).
    """

    #: hyperparameter name -> the Range its value must lie in (each entry, for a tuple).
    _ranges: ClassVar[dict[str, Range]] = {}

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self._checked: list[Any] = []
        self._check_values(defaults, "")
        watched = [name for name in self._ranges if name in defaults]
        # Reads a group's checked values in one call (every group has every default's key).
        self._signature = operator.itemgetter(*watched) if watched else (lambda group: ())
        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}; wrap a single tensor in a list: [param]"
            )
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list; pass model.parameters() of a model that "
                "has parameters, or a non-empty list of tensors with requires_grad=True"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``'params'``) with its own hyperparameters."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs; "
                            "please use a list instead")
        else:
            params = list(params)
        gi = len(self.param_groups)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of group "
                                f"{gi} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i} of group {gi} was computed "
                    "by an op); optimize the leaf it came from, or make it a leaf with "
                    "x.detach().requires_grad_()")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"parameter group {gi} contains a parameter more than once; "
                             "list each parameter once")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group; "
                             "each parameter may belong to one group only")
        self._check_values(group, f" (parameter group {gi})")
        self.param_groups.append(group)
        self._checked.append(self._signature(group))

    # ------------------------------------------------------------------ hyperparameter checks
    def _check_values(self, values: dict[str, Any], where: str) -> None:
        for name, allowed in self._ranges.items():
            if name in values and values[name] is not required:
                check_hyperparameter(f"{type(self).__name__}{where}", name, values[name], allowed,
                                     self._example(name))

    def _example(self, name: str) -> Any:
        """The class's default for ``name`` when it is valid (for error messages), else None."""
        param = inspect.signature(type(self).__init__).parameters.get(name)
        default = None if param is None else param.default
        if default is inspect.Parameter.empty or default is None:
            return None
        try:
            check_hyperparameter("", name, default, self._ranges[name])
        except ValueError:
            return None
        return default

    def _check_edits(self) -> None:
        """Re-check each group whose hyperparameters changed since it was last checked, so an
        edit such as ``param_groups[0]['lr'] = nan`` fails here, before any parameter moves.
        Unchanged groups cost one tuple comparison."""
        checked, groups = self._checked, self.param_groups
        if len(checked) != len(groups):
            checked[:] = [None] * len(groups)
        for gi, group in enumerate(groups):
            signature = self._signature(group)
            if signature != checked[gi]:
                self._check_values(group, f".step(): param_groups[{gi}]")
                checked[gi] = signature

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters (to None by default, as torch)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                elif g._ctx is not None:
                    # A gradient recorded with create_graph=True: cut it from its graph first.
                    p._grad = Tensor._wrap(np.zeros_like(g._data))
                else:
                    g._data.fill(0)
                    g._bump_version()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One optimization step; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # ------------------------------------------------------------------ saving and restoring
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in torch's format, as copies (safe to keep while training on).

        ``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index, ...]}]}``;
        parameters are numbered in order across all groups.
        """
        index: dict[int, int] = {}
        groups = []
        flags = _torch_flags(self)
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for k, v in flags.items():
                packed.setdefault(k, v)
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (ours or torch's: tensors may be torch or NumPy arrays).

        Floating-point state is cast to its parameter's dtype, as torch does; ``step`` is kept.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups but the "
                             f"optimizer has {len(self.param_groups)}; build the optimizer with "
                             "the same groups before loading")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if s.get("differentiable"):
                raise ValueError(
                    f"loaded state dict's parameter group {i} has differentiable=True (steps "
                    f"recorded for autograd), which descentlab's optimizers don't do; save it "
                    f"from an optimizer built with differentiable=False")
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group {i} of {len(s['params'])} "
                    f"parameters that doesn't match the size of optimizer's group "
                    f"({len(g['params'])}); build the optimizer with the same parameters")
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            id_map.update(zip(s["params"], g["params"]))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            k = int(k)
            if k not in id_map:
                raise ValueError(f"loaded state dict has state for parameter index {k}, which no "
                                 "parameter group lists")
            p = id_map[k]
            state[p] = {name: _load_value(name, val, p) for name, val in v.items()}
        self.state = state
        self.param_groups = [
            dict(copy.deepcopy({k: v for k, v in s.items() if k != "params"}), params=g["params"])
            for g, s in zip(self.param_groups, saved_groups)
        ]


def _copy_value(v: Any) -> Any:
    if isinstance(v, Tensor):
        return Tensor._wrap(v._data.copy())
    return copy.deepcopy(v)


def _load_value(name: str, v: Any, param: Tensor) -> Any:
    if isinstance(v, (Tensor, np.ndarray)) or (hasattr(v, "detach") and hasattr(v, "numpy")):
        arr = v._data if isinstance(v, Tensor) else np.asarray(v.detach() if hasattr(v, "detach")
                                                               else v)
        if name != "step" and arr.dtype.kind == "f":
            arr = arr.astype(param.dtype)
        arr = np.array(arr, copy=True)
        return arr if isinstance(v, np.ndarray) else Tensor._wrap(arr)
    return copy.deepcopy(v)


# The implementation switches every torch.optim state dict carries (foreach and fused kernels,
# CUDA-graph capture, differentiable steps) with torch 2.13's defaults, per optimizer. They choose
# how torch runs a step, not what it computes, so state_dict() reports torch's defaults and
# load_state_dict() accepts them; only differentiable=True would change behaviour and is refused.
_TORCH_FLAGS: dict[str, dict[str, Any]] = {
    "SGD": {"foreach": None, "differentiable": False, "fused": None},
    "Adagrad": {"foreach": None, "differentiable": False, "fused": None},
    "Adam": {"foreach": None, "differentiable": False, "capturable": False, "fused": None},
    "AdamW": {"foreach": None, "differentiable": False, "capturable": False, "fused": None},
    "Adadelta": {"foreach": None, "differentiable": False, "capturable": False},
    "Adamax": {"foreach": None, "differentiable": False, "capturable": False},
    "NAdam": {"foreach": None, "differentiable": False, "capturable": False},
    "RAdam": {"foreach": None, "differentiable": False, "capturable": False},
    "RMSprop": {"foreach": None, "differentiable": False, "capturable": False},
}


def _torch_flags(opt: Any) -> dict[str, Any]:
    for cls in type(opt).__mro__:
        flags = _TORCH_FLAGS.get(cls.__name__)
        if flags is not None and cls.__module__.startswith("descentlab."):
            return flags
    return {}
