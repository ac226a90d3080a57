"""User landscapes from a formula string, e.g. ``"x**2 + 3*sin(y)"``, safely.

The string is parsed with :mod:`ast` and checked against a whitelist: variables (x, y, z, w or
x1 … xn), numbers, + − * / ** (unary − and +), and the functions sin cos tan exp log sqrt abs tanh
sigmoid with the constants pi and e. Nothing else is accepted (no attributes, subscripts, other
calls, lambdas, comprehensions, strings), and the string is never passed to eval/exec/compile:
the checked tree is walked node by node and each node becomes a Tensor op, so autograd gives the
Hessian of what the user typed. The same tree is also compiled to a NumPy program with its
derivative (:mod:`descentlab.lab.compiled`), which gives the values and gradients the lab's
batched runs evaluate every step.

Constant parts are computed once at parse time, so ``1/0``, ``log(0)`` or ``(1e12)**100`` are
refused with the piece named instead of failing later. A formula without any variable is refused
(a constant has no landscape). Values are then sampled over the plot box: a formula that is finite
nowhere there (``x/0``, ``log(0*x)``) is refused; one that is non-finite only somewhere (``1/x``)
is accepted, and the share and an example point are kept in ``params["nonfinite"]`` so a shell can
report them (the pictures mask that region).

>>> f = parse_function("x**2 + 3*sin(y)")
>>> f.dim, f.formula
(2, 'x**2 + 3*sin(y)')
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..autograd.tensor import Tensor
from .compiled import CompiledFormula
from .functions import Landscape

__all__ = ["parse_function", "nonfinite_region", "NonFinite", "MAX_LENGTH", "MAX_EXPONENT",
           "FUNCTIONS", "CONSTANTS"]

MAX_LENGTH = 500       # a landscape formula is a line; anything longer is not one
MAX_DEPTH = 60         # bounds recursion in the tree walk
MAX_EXPONENT = 100.0   # x**1e9 overflows and (2**2)**... is a resource attack, not a landscape
MAX_NUMBER = 1e12

FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sin": lambda t: t.sin(), "cos": lambda t: t.cos(), "tan": lambda t: t.tan(),
    "exp": lambda t: t.exp(), "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(),
    "abs": lambda t: t.abs(), "tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(),
}
CONSTANTS = {"pi": math.pi, "e": math.e}


def _sigmoid(v: float) -> float:
    # The two branches keep exp's argument non-positive, so no overflow for large |v|.
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


# The same functions on Python floats, for the constant parts of a formula.
_SCALAR_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "abs": abs, "tanh": math.tanh, "sigmoid": _sigmoid,
}
_NAMED_VARS = ("x", "y", "z", "w")
_INDEXED_VAR = re.compile(r"^x([1-9][0-9]?)$")
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _where(node: ast.AST, source: str) -> str:
    piece = ast.get_source_segment(source, node)
    return repr(piece) if piece else type(node).__name__


def _reject(node: ast.AST, source: str, why: str) -> ValueError:
    return ValueError(f"formula {source!r}: {why} at {_where(node, source)}; allowed are numbers, "
                      f"the variables x y z w (or x1..xn), + - * / **, and "
                      f"{', '.join(FUNCTIONS)}, pi, e")


def _constant_value(node: ast.AST) -> float | None:
    """The value of a (possibly negated) number literal, else None (used to bound exponents)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _constant_value(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def _check(node: ast.AST, source: str, variables: set[str], depth: int = 0) -> None:
    """Raise ValueError at the first node outside the whitelist; collect variable names."""
    if depth > MAX_DEPTH:
        raise _reject(node, source, f"nesting deeper than {MAX_DEPTH}")
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise _reject(node, source, f"constant of type {type(node.value).__name__}")
        if abs(node.value) > MAX_NUMBER:
            raise _reject(node, source, f"number larger than {MAX_NUMBER:g}")
    elif isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return
        if node.id in _NAMED_VARS or _INDEXED_VAR.match(node.id):
            variables.add(node.id)
            return
        raise _reject(node, source, f"unknown name {node.id!r}")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise _reject(node, source, f"operator {type(node.op).__name__}")
        if isinstance(node.op, ast.Pow):
            exponent = _constant_value(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise _reject(node, source, f"exponent {exponent:g} beyond ±{MAX_EXPONENT:g}")
            if isinstance(node.right, ast.BinOp) and isinstance(node.right.op, ast.Pow):
                raise _reject(node, source, "a power tower (a**b**c)")
        _check(node.left, source, variables, depth + 1)
        _check(node.right, source, variables, depth + 1)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _reject(node, source, f"operator {type(node.op).__name__}")
        _check(node.operand, source, variables, depth + 1)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise _reject(node.func, source, "call of something that is not an allowed function")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _reject(node, source, f"{node.func.id} takes exactly one positional argument")
        _check(node.args[0], source, variables, depth + 1)
    else:
        raise _reject(node, source, f"{type(node).__name__} (not allowed)")


def _scalar_op(op: type, left: float, right: float) -> float:
    if op is ast.Add:
        return left + right
    if op is ast.Sub:
        return left - right
    if op is ast.Mult:
        return left * right
    if op is ast.Div:
        return left / right
    return left ** right


def _fold(node: ast.AST, source: str) -> ast.AST:
    """The checked tree with every constant sub-expression replaced by its value.

    Raises ValueError naming the piece when a constant part has no finite real value (a division
    by zero, log(0), sqrt(-1), an overflow, a negative number to a fractional power).
    """
    if isinstance(node, ast.BinOp):
        node.left, node.right = _fold(node.left, source), _fold(node.right, source)
        parts = (node.left, node.right)
    elif isinstance(node, ast.UnaryOp):
        node.operand = _fold(node.operand, source)
        parts = (node.operand,)
    elif isinstance(node, ast.Call):
        node.args = [_fold(node.args[0], source)]
        parts = (node.args[0],)
    elif isinstance(node, ast.Name) and node.id in CONSTANTS:
        return ast.copy_location(ast.Constant(CONSTANTS[node.id]), node)
    else:
        return node
    if not all(isinstance(p, ast.Constant) for p in parts):
        return node
    try:
        if isinstance(node, ast.BinOp):
            value = _scalar_op(type(node.op), node.left.value, node.right.value)
        elif isinstance(node, ast.UnaryOp):
            value = -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
        else:
            value = _SCALAR_FUNCTIONS[node.func.id](node.args[0].value)
    except ZeroDivisionError:
        raise _not_finite(node, source, "is a division by zero") from None
    except OverflowError:
        raise _not_finite(node, source, "overflows (its value is beyond 1.8e308)") from None
    except ValueError:
        raise _not_finite(node, source, "is outside the function's domain (the log of a "
                          "number <= 0 or the sqrt of one < 0)") from None
    if isinstance(value, complex):
        raise _not_finite(node, source, "is not a real number (a negative number to a "
                          "fractional power)")
    if not math.isfinite(value):
        raise _not_finite(node, source, f"evaluates to {value}")
    return ast.copy_location(ast.Constant(float(value)), node)


def _not_finite(node: ast.AST, source: str, why: str) -> ValueError:
    return ValueError(f"formula {source!r}: the constant part {_where(node, source)} {why}; "
                      "a landscape needs finite values, so change that part")


def _order(variables: set[str]) -> list[str]:
    """Coordinate order: x1..xn by index, else x, y, z, w as named (w alone is the notes' 1-D)."""
    indexed = {v for v in variables if _INDEXED_VAR.match(v)}
    named = variables - indexed
    if indexed and named:
        raise ValueError(f"formula mixes indexed variables {sorted(indexed)} with named ones "
                         f"{sorted(named)}; use either x1..xn or x, y, z, w")
    if indexed:
        n = max(int(v[1:]) for v in indexed)
        return [f"x{i}" for i in range(1, n + 1)]
    if named == {"w"}:
        return ["w"]
    if "w" in named:
        return list(_NAMED_VARS)
    last = max((_NAMED_VARS.index(v) for v in named), default=0)
    return list(_NAMED_VARS[: last + 1])


def _evaluate(node: ast.AST, env: dict[str, Tensor]) -> Tensor | float:
    """Walk the checked, folded tree; every node becomes a Tensor op so autograd can
    differentiate it (constant parts are already numbers, so every call gets a Tensor)."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], env))
    assert isinstance(node, ast.BinOp)
    return _scalar_op(type(node.op), _evaluate(node.left, env), _evaluate(node.right, env))


@dataclass(frozen=True)
class NonFinite:
    """Where a landscape is not finite on its plot box, from values on a sample of points.

    Attributes:
        fraction: share of the sampled points where f is NaN or ±inf (0 when finite everywhere).
        example: one such point (None when there is none).
        value: f there (nan, inf or -inf).
        samples: how many points were evaluated.
    """

    fraction: float
    example: tuple[float, ...] | None
    value: float | None
    samples: int


def _sample_points(domain: tuple[tuple[float, float], ...], budget: int = 40_401) -> np.ndarray:
    """An odd-sized grid over the box (so its centre is a sample), or random points where the
    dimension makes a grid of at least 3 per side too large."""
    dim = len(domain)
    per_side = min(201, int(budget ** (1.0 / dim) + 1e-9))
    per_side -= 1 - per_side % 2
    lows = np.array([lo for lo, _ in domain])
    highs = np.array([hi for _, hi in domain])
    if per_side >= 3:
        axes = [np.linspace(lo, hi, per_side) for lo, hi in domain]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, dim)
    rng = np.random.default_rng(0)
    return np.vstack([(lows + highs) / 2, lows + rng.random((4096, dim)) * (highs - lows)])


def nonfinite_region(function: Landscape) -> NonFinite:
    """Sample f over its plot box and report where it is NaN or ±inf.

    The sample is a grid of up to 201 points per side (about 40,000 points in all) through the
    box's centre, or 4,096 random points plus the centre in high dimension.
    """
    points = _sample_points(function.domain)
    with np.errstate(all="ignore"):
        values = np.asarray(function.value(points), dtype=np.float64)
    bad = ~np.isfinite(values)
    if not bad.any():
        return NonFinite(0.0, None, None, len(points))
    # Report the non-finite sample nearest the box's centre: the most readable example.
    centre = np.array([(lo + hi) / 2 for lo, hi in function.domain])
    idx = np.flatnonzero(bad)
    k = idx[np.argmin(np.linalg.norm(points[idx] - centre, axis=1))]
    return NonFinite(float(bad.mean()), tuple(float(v) for v in points[k]), float(values[k]),
                     len(points))


def _box_text(domain: tuple[tuple[float, float], ...]) -> str:
    return "×".join(f"[{lo:g}, {hi:g}]" for lo, hi in domain)


def parse_function(source: str, domain: tuple[tuple[float, float], ...] | None = None,
                   name: str | None = None) -> Landscape:
    """A :class:`Landscape` from a formula string, checked against the whitelist first.

    Args:
        source: e.g. ``"x**2 + 3*sin(y)"``, ``"w**2"``, ``"x1**2 + 10*x2**2"``.
        domain: plot box (default [-3, 3] per coordinate).
        name: display name (default: the formula).

    Raises:
        ValueError: naming the offending piece, for anything outside the whitelist, a syntax
            error, input longer than MAX_LENGTH, or an exponent beyond ±MAX_EXPONENT.
    """
    if not isinstance(source, str):
        raise ValueError(f"formula must be a string, got {type(source).__name__}")
    text = source.strip()
    if not text:
        raise ValueError("formula is empty; write an expression such as 'x**2 + 3*sin(y)'")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"formula {text!r} is not a valid expression: {err.msg} at "
                         f"{_syntax_column(err, text)}") from None
    variables: set[str] = set()
    _check(tree.body, text, variables)
    body = _fold(tree.body, text)
    if not variables:
        raise ValueError(f"formula {text!r} has no variable (it is the constant "
                         f"{body.value:g}); a landscape depends on x, y, z, w or x1..xn, "
                         "e.g. 'x**2 + 3*sin(y)'")
    order = _order(variables)
    dim = len(order)

    def expr(x: Tensor) -> Tensor:
        return _evaluate(body, {v: x[..., i] for i, v in enumerate(order)})

    box = domain if domain is not None else tuple((-3.0, 3.0) for _ in range(dim))
    if len(box) != dim:
        raise ValueError(f"domain has {len(box)} ranges but the formula has {dim} variable(s) "
                         f"({', '.join(order)})")
    box = tuple((float(a), float(b)) for a, b in box)
    f = Landscape(name or text, dim, expr, box, [], [], text, text, {"variables": order},
                  derived=CompiledFormula(body, order))
    region = nonfinite_region(f)
    if region.fraction == 1.0:
        at = ", ".join(f"{v:g}" for v in region.example)
        raise ValueError(f"formula {text!r} is not finite anywhere on {_box_text(box)} (e.g. "
                         f"{region.value} at ({at})); look for a division by zero or the log or "
                         "sqrt of a non-positive number")
    f.params["nonfinite"] = region
    return f


def _syntax_column(err: SyntaxError, text: str) -> str:
    """Where a syntax error is, 1-based; an unfinished formula is reported at its end (Python
    gives offset 0 for 'x**2 +')."""
    if err.offset is None or not 1 <= err.offset <= len(text):
        return f"column {len(text) + 1}, the end of the formula (it is incomplete)"
    return f"column {err.offset}"
