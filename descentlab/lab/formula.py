"""User landscapes from a formula string, e.g. ``"x**2 + 3*sin(y)"``, safely.

The string is parsed with :mod:`ast` and checked against a whitelist: variables (x, y, z, w or
x1 … xn), numbers, + − * / ** (unary − and +), and the functions sin cos tan exp log sqrt abs tanh
sigmoid with the constants pi and e. Nothing else is accepted (no attributes, subscripts, other
calls, lambdas, comprehensions, strings), and the string is never passed to eval/exec/compile:
the checked tree is walked node by node and each node becomes a Tensor op, so autograd gives the
gradient and Hessian of what the user typed.

>>> f = parse_function("x**2 + 3*sin(y)")
>>> f.dim, f.formula
(2, 'x**2 + 3*sin(y)')
"""

from __future__ import annotations

import ast
import math
import re
from typing import Callable

from ..autograd.tensor import Tensor
from .functions import Landscape

__all__ = ["parse_function", "MAX_LENGTH", "MAX_EXPONENT", "FUNCTIONS", "CONSTANTS"]

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
    """Walk the checked tree; every node becomes a Tensor op so autograd can differentiate it."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        arg = _evaluate(node.args[0], env)
        if not isinstance(arg, Tensor):
            arg = Tensor._wrap(_as_array(arg))
        return FUNCTIONS[node.func.id](arg)
    assert isinstance(node, ast.BinOp)
    left, right = _evaluate(node.left, env), _evaluate(node.right, env)
    op = type(node.op)
    if op is ast.Add:
        return left + right
    if op is ast.Sub:
        return left - right
    if op is ast.Mult:
        return left * right
    if op is ast.Div:
        return left / right
    return left ** right


def _as_array(value: float):
    import numpy as np

    return np.asarray(value, dtype=np.float64)


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
        raise ValueError(f"formula {text!r} is not a valid expression: {err.msg} at column "
                         f"{err.offset}") from None
    variables: set[str] = set()
    _check(tree.body, text, variables)
    order = _order(variables)
    dim = len(order)
    body = tree.body

    def expr(x: Tensor) -> Tensor:
        env = {v: x[..., i] for i, v in enumerate(order)}
        out = _evaluate(body, env)
        if not isinstance(out, Tensor):
            # A constant formula still has to broadcast to the batch shape (and stay a graph leaf
            # of x, so autograd reports a zero gradient instead of "unused").
            out = out + 0.0 * x[..., 0]
        return out

    box = domain if domain is not None else tuple((-3.0, 3.0) for _ in range(dim))
    if len(box) != dim:
        raise ValueError(f"domain has {len(box)} ranges but the formula has {dim} variable(s) "
                         f"({', '.join(order)})")
    return Landscape(name or text, dim, expr, tuple((float(a), float(b)) for a, b in box), [], [],
                     text, text, {"variables": order})
