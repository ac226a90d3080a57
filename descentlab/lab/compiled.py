"""A checked formula compiled to NumPy: its value and its gradient, evaluated into arrays
allocated once.

``formula.parse_function`` checks a formula against its whitelist and folds its constants; this
module turns that tree into a straight-line program: one instruction per node for the value
(forward), then the reverse-mode derivative, one instruction per edge (backward):

    v = a + b:  ā += v̄, b̄ += v̄          v = a·b:  ā += v̄·b, b̄ += v̄·a
    v = a − b:  ā += v̄, b̄ −= v̄          v = a/b:  ā += v̄/b, b̄ += −v̄·a/b²
    v = aᵖ:     ā += v̄·p·aᵖ⁻¹            v = aᵇ:   ā += v̄·b·aᵇ⁻¹, b̄ += v̄·v·ln a (0 where a = 0)
    sin: ā += v̄·cos a    cos: ā += −v̄·sin a    tan: ā += v̄/cos²a    exp: ā += v̄·v
    log: ā += v̄/a        sqrt: ā += v̄/(2v)     abs: ā += v̄·sign a   tanh: ā += v̄·(1 − v²)
    sigmoid: ā += v̄·v·(1 − v)

These are the engine's own derivatives (autograd/ops), in its order of operations (tan's is
written directly; the engine differentiates its sin/cos quotient), so the values agree with the
Tensor expression bit for bit and the gradients to rounding; the tests hold them to finite
differences and to the engine's autograd. The program is built once per formula; a kernel binds
it to work arrays for one batch shape, so the lab's many-starts runs evaluate a typed formula
with a fixed number of NumPy calls per step and no allocation. The gradient kernel skips the
values no derivative reads and carries adjoints that stay one number (the top of a sum, a
constant factor) as numbers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["CompiledFormula"]

Operand = int | float          # a node index, or a constant
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_UFUNCS = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
           "abs": np.abs, "tanh": np.tanh, "neg": np.negative}


@dataclass(frozen=True)
class _Node:
    op: str                        # "var", a _BINARY value, "neg", or a whitelisted function
    args: tuple[Operand, ...]      # for "var": (coordinate index,)


def _flatten(tree: ast.AST, order: list[str]) -> list[_Node]:
    """The folded tree as nodes in evaluation order (operands first), one node per variable."""
    nodes: list[_Node] = []
    var_node: dict[str, int] = {}

    def visit(node: ast.AST) -> Operand:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in var_node:
                var_node[node.id] = len(nodes)
                nodes.append(_Node("var", (order.index(node.id),)))
            return var_node[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = visit(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            op, args = "neg", (operand,)
        elif isinstance(node, ast.Call):
            op, args = node.func.id, (visit(node.args[0]),)
        else:
            op, args = _BINARY[type(node.op)], (visit(node.left), visit(node.right))
        nodes.append(_Node(op, args))
        return len(nodes) - 1

    root = visit(tree)
    if isinstance(root, float):
        raise ValueError("a formula without a variable has no gradient to compile")
    return nodes


class _Arrays:
    """The arrays one evaluation works in: node values, adjoints and scratch, for one shape."""

    def __init__(self, nodes: list[_Node], like: np.ndarray) -> None:
        column = like[..., 0]
        self.value: list[np.ndarray | None] = [
            None if n.op == "var" else np.empty_like(column) for n in nodes]
        # Adjoints of inner nodes; a variable's adjoint is written straight into ∇f's column.
        self.adjoint_store = [None if n.op == "var" else np.empty_like(column) for n in nodes]
        self.scratch = [np.empty_like(column) for _ in range(3)]
        self.mask = np.empty(column.shape, dtype=bool)

    def bind(self, nodes: list[_Node], x: np.ndarray) -> None:
        for i, n in enumerate(nodes):
            if n.op == "var":
                self.value[i] = x[..., n.args[0]]


def _forward(node: _Node, arrays: _Arrays, out: np.ndarray) -> None:
    """out ← the node's value, from its operands' values (the engine's forward, in place)."""
    a = _operand(node.args[0], arrays)
    op = node.op
    if op in _UFUNCS:
        _UFUNCS[op](a, out=out)
    elif op == "tan":                   # the engine's tan is sin/cos
        np.sin(a, out=out)
        np.cos(a, out=arrays.scratch[0])
        out /= arrays.scratch[0]
    elif op == "sigmoid":               # e = exp(−|a|); a ≥ 0: 1/(1+e), else e/(1+e)
        e, den = arrays.scratch[0], arrays.scratch[1]
        np.abs(a, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.add(e, 1.0, out=den)
        np.divide(1.0, den, out=out)
        np.divide(e, den, out=e)
        np.less(a, 0, out=arrays.mask)
        np.copyto(out, e, where=arrays.mask)
    else:
        b = _operand(node.args[1], arrays)
        if op == "add":
            np.add(a, b, out=out)
        elif op == "sub":
            np.subtract(a, b, out=out)
        elif op == "mul":
            np.multiply(a, b, out=out)
        elif op == "div":
            np.divide(a, b, out=out)
        else:
            _power(a, b, out)


def _power(a: np.ndarray | float, p: np.ndarray | float, out: np.ndarray) -> None:
    """out ← aᵖ as the engine's PowScalar computes it (a·a for p = 2, √a for p = ½)."""
    if isinstance(p, float) and p == 2:
        np.multiply(a, a, out=out)
    elif isinstance(p, float) and p == 0.5:
        np.sqrt(a, out=out)
    else:
        np.power(a, p, out=out)


def _operand(arg: Operand, arrays: _Arrays) -> np.ndarray | float:
    return arg if isinstance(arg, float) else arrays.value[arg]


def _contribute(nodes: list[_Node], i: int, k: int, g: np.ndarray | float, arrays: _Arrays,
                dst: np.ndarray) -> None:
    """dst ← v̄·∂v/∂(operand k) for node i, with the engine's backward formulas."""
    node = nodes[i]
    op, a = node.op, _operand(node.args[0], arrays)
    v = arrays.value[i]
    t = arrays.scratch[1]
    if op == "add" or (op == "sub" and k == 0):
        np.copyto(dst, g)
    elif op in ("sub", "neg"):
        np.negative(g, out=dst)
    elif op == "mul":
        np.multiply(g, _operand(node.args[1 - k], arrays), out=dst)
    elif op == "div":
        b = _operand(node.args[1], arrays)
        if k == 0:
            np.divide(g, b, out=dst)
        else:                           # −g·a/(b·b)
            np.negative(g, out=dst)
            dst *= a
            np.multiply(b, b, out=t)
            dst /= t
    elif op == "pow":
        _contribute_pow(node, k, g, arrays, dst, v)
    elif op == "exp":
        np.multiply(g, v, out=dst)
    elif op == "log":
        np.divide(g, a, out=dst)
    elif op == "sqrt":
        np.multiply(v, 2.0, out=t)
        np.divide(g, t, out=dst)
    elif op == "sin":
        np.cos(a, out=t)
        np.multiply(g, t, out=dst)
    elif op == "cos":
        np.sin(a, out=t)
        np.negative(g, out=dst)
        dst *= t
    elif op == "tan":
        np.cos(a, out=t)
        t *= t
        np.divide(g, t, out=dst)
    elif op == "abs":
        np.sign(a, out=t)
        np.multiply(g, t, out=dst)
    elif op == "tanh":
        np.multiply(v, v, out=t)
        np.subtract(1.0, t, out=t)
        np.multiply(g, t, out=dst)
    else:                               # sigmoid
        np.multiply(g, v, out=dst)
        np.subtract(1.0, v, out=t)
        dst *= t


def _contribute_pow(node: _Node, k: int, g: np.ndarray | float, arrays: _Arrays,
                    dst: np.ndarray, v: np.ndarray) -> None:
    a, b = (_operand(arg, arrays) for arg in node.args)
    t = arrays.scratch[1]
    if isinstance(b, float):            # aᵖ, p a number
        if b == 0:
            np.multiply(g, 0.0, out=dst)
        elif b == 1:
            np.copyto(dst, g)
        elif b == 2 and isinstance(g, float):
            # (g·a)·2 = a·(2g): doubling is exact, so one pass gives the same double.
            np.multiply(a, g * 2.0, out=dst)
        elif b == 2:
            np.multiply(g, a, out=dst)
            dst *= 2.0
        else:
            _power(a, b - 1, t)
            np.multiply(g, t, out=dst)
            dst *= b
    elif k == 0:                        # g·b·a^(b − 1)
        np.multiply(g, b, out=dst)
        np.subtract(b, 1.0, out=t)
        np.power(a, t, out=t)
        dst *= t
    else:                               # g·v·ln a, with ln a taken as 0 where a = 0 and b ≥ 0
        np.log(a, out=t)
        if isinstance(a, float):
            if a == 0:
                np.greater_equal(b, 0, out=arrays.mask)
                np.copyto(t, 0.0, where=arrays.mask)
        else:
            np.equal(a, 0, out=arrays.mask)
            arrays.mask &= b >= 0
            np.copyto(t, 0.0, where=arrays.mask)
        np.multiply(g, v, out=dst)
        dst *= t


def _backward_reads(node: _Node, i: int, k: int) -> list[int]:
    """The node values the contribution of node i to its operand k reads (its own is i)."""
    op, args = node.op, node.args
    if op in ("add", "sub", "neg"):
        reads: list[Operand] = []
    elif op == "mul":
        reads = [args[1 - k]]
    elif op == "div":
        reads = [args[1]] if k == 0 else [args[0], args[1]]
    elif op == "pow":
        if isinstance(args[1], float):
            reads = [] if args[1] in (0, 1) else [args[0]]
        else:
            reads = [args[0], args[1]] if k == 0 else [args[0], args[1], i]
    elif op in ("exp", "sqrt", "tanh", "sigmoid"):
        reads = [i]
    else:                               # log, sin, cos, tan, abs
        reads = [args[0]]
    return [r for r in reads if not isinstance(r, float)]


def _scalar_adjoint(node: _Node, k: int, g: float) -> float | None:
    """The operand's adjoint when the node's adjoint g is one number and the contribution
    stays one number (+, −, unary −, or a product or quotient by a constant); else None.

    A number times a constant is the same double the engine gets from the array of g's."""
    op, other = node.op, node.args[1 - k] if len(node.args) == 2 else None
    if op == "add" or (op == "sub" and k == 0):
        return g
    if op in ("sub", "neg"):
        return -g
    if op == "mul" and isinstance(other, float):
        return g * other
    if op == "div" and k == 0 and isinstance(other, float):
        return g / other
    return None


class CompiledFormula:
    """f and ∇f of a checked, folded formula tree over the coordinates ``order``.

    ``value(x)`` and ``value_and_grad(x)`` take a batch (..., d) and return new arrays;
    ``grad_kernel(like)`` returns grad_into(x, out) writing ∇f(x) into ``out`` with work arrays
    allocated once for batches shaped like ``like`` (one kernel per run: not thread-safe).
    """

    def __init__(self, tree: ast.AST, order: list[str]) -> None:
        self.nodes = _flatten(tree, order)
        self.dim = len(order)
        nodes = self.nodes
        # How many uses each node has: a node used once can take its parent's adjoint as is
        # (through +) or as one number (a constant adjoint times a constant) instead of an array.
        self.uses = [0] * len(nodes)
        for node in nodes:
            if node.op != "var":
                for arg in node.args:
                    if not isinstance(arg, float):
                        self.uses[arg] += 1
        # The values the gradient needs: those its contributions read, and what they are
        # computed from. The rest of the forward pass (often the top of the formula: the final
        # sum, squares whose derivative reads only their base) is skipped by the gradient.
        needed = [False] * len(nodes)
        for i, node in enumerate(nodes):
            if node.op != "var":
                for k, arg in enumerate(node.args):
                    if not isinstance(arg, float):
                        for j in _backward_reads(node, i, k):
                            needed[j] = True
        for i in range(len(nodes) - 1, -1, -1):
            if needed[i] and nodes[i].op != "var":
                for arg in nodes[i].args:
                    if not isinstance(arg, float):
                        needed[arg] = True
        self.needed_for_grad = needed

    def _run_forward(self, arrays: _Arrays, x: np.ndarray, only: list[bool] | None = None
                     ) -> np.ndarray:
        arrays.bind(self.nodes, x)
        for i, node in enumerate(self.nodes):
            if node.op != "var" and (only is None or only[i]):
                _forward(node, arrays, arrays.value[i])
        return arrays.value[-1]

    def _run_backward(self, arrays: _Arrays, out: np.ndarray) -> None:
        nodes, uses = self.nodes, self.uses
        adjoint: list[np.ndarray | float | None] = [None] * len(nodes)
        written = [False] * self.dim
        adjoint[-1] = 1.0
        for i in range(len(nodes) - 1, -1, -1):
            node, g = nodes[i], adjoint[i]
            if node.op == "var" or g is None:
                continue
            for k, arg in enumerate(node.args):
                if isinstance(arg, float):
                    continue
                child = nodes[arg]
                if child.op == "var":
                    target = out[..., child.args[0]]
                    first = not written[child.args[0]]
                    written[child.args[0]] = True
                elif uses[arg] == 1 and node.op == "add":
                    adjoint[arg] = g      # the parent's adjoint passes through unchanged
                    continue
                elif uses[arg] == 1 and isinstance(g, float) and (
                        scalar := _scalar_adjoint(node, k, g)) is not None:
                    adjoint[arg] = scalar
                    continue
                else:
                    first = adjoint[arg] is None
                    if first:
                        adjoint[arg] = arrays.adjoint_store[arg]
                    target = adjoint[arg]
                if first:
                    _contribute(nodes, i, k, g, arrays, target)
                else:
                    _contribute(nodes, i, k, g, arrays, arrays.scratch[2])
                    target += arrays.scratch[2]
        for j in range(self.dim):
            if not written[j]:
                out[..., j] = 0.0
        if nodes[-1].op == "var":
            out[..., nodes[-1].args[0]] = 1.0

    def value(self, x: np.ndarray) -> np.ndarray:
        """f at a batch (..., d)."""
        x = np.asarray(x, dtype=np.float64)
        return np.array(self._run_forward(_Arrays(self.nodes, x), x))

    def value_and_grad(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(f, ∇f) at a batch (..., d)."""
        x = np.asarray(x, dtype=np.float64)
        arrays = _Arrays(self.nodes, x)
        out = np.empty_like(x)
        f = np.array(self._run_forward(arrays, x))
        self._run_backward(arrays, out)
        return f, out

    def grad_kernel(self, like: np.ndarray) -> Callable[[np.ndarray, np.ndarray], None]:
        """grad_into(x, out): out ← ∇f(x), reusing work arrays made for batches like ``like``."""
        arrays = _Arrays(self.nodes, like)

        def grad_into(x: np.ndarray, out: np.ndarray) -> None:
            self._run_forward(arrays, x, self.needed_for_grad)
            self._run_backward(arrays, out)

        return grad_into
