"""Module: the base of every layer and network (as ``torch.nn.Module``).

A Module owns three ordered registries, filled by plain attribute assignment:
``_parameters`` (Parameters), ``_buffers`` (non-learnable state such as BatchNorm's running
statistics) and ``_modules`` (sub-modules). Everything else — ``parameters()``, ``state_dict()``,
``to(dtype)``, ``train()/eval()``, the printed tree — walks those registries.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from .parameter import Parameter

__all__ = ["Module", "IncompatibleKeys"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: keys the module expected but did not get, and keys it got
    but has no place for (both empty after a strict load)."""

    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # as torch prints it
        return (f"IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of all layers: subclass it, assign sub-modules and Parameters in ``__init__``,
    write ``forward``; calling the module runs ``forward``.

    PyTorch's names and semantics (``parameters``, ``named_modules``, ``state_dict``,
    ``load_state_dict``, ``train``/``eval``, ``zero_grad``, ``to``, ``apply``). CPU only, so
    ``to()`` only changes dtypes; hooks are not implemented.
    """

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ takes "
                f"none (call super().__init__() without arguments)"
            )
        # object.__setattr__: our own __setattr__ needs these registries to exist first.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function; define '
            f"forward(self, ...) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def _check_registries(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() call; call "
                f"super().__init__() first in __init__"
            )

    def _check_entry(self, name: str, value: Any, registry: str, kind: type, what: str,
                     required: str) -> None:
        """Refuse a bad name, a name taken by another attribute, or a value that is neither
        None nor a ``kind`` before registering ``value`` under ``name`` in ``registry``."""
        self._check_registries()
        _check_name(name, self)
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")
        if value is not None and not isinstance(value, kind):
            raise TypeError(
                f"cannot assign '{type(value).__name__}' object to {what} '{name}' {required}"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter (or a None placeholder, as a layer without bias does) under ``name``."""
        self._check_entry(name, param, "_parameters", Parameter, "parameter",
                          "(descentlab.nn.Parameter or None required); wrap it: nn.Parameter(t)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add non-learnable state (saved in ``state_dict`` when ``persistent``)."""
        self._check_entry(name, tensor, "_buffers", Tensor, "buffer", "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a sub-module under ``name`` (what attribute assignment does for Modules)."""
        self._check_registries()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_registries()
            self.__dict__.pop(name, None)
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' (Parameter or "
                    f"None expected); wrap it: nn.Parameter(t)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_registries()
            self.__dict__.pop(name, None)
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or "
                    f"None expected)"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None "
                    f"expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails, i.e. for registered entries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            reg = d.get(registry)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def get_submodule(self, target: str) -> "Module":
        """The sub-module at dotted path ``target`` ('' is self)."""
        mod: Module = self
        for part in target.split(".") if target else []:
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(
                    f"{type(mod).__name__} has no sub-module '{part}' (looking up '{target}')"
                )
            mod = mod._modules[part]  # type: ignore[assignment]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The Parameter at dotted path ``target`` (e.g. '0.weight')."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        param = mod._parameters.get(name)
        if param is None:
            raise AttributeError(f"{type(mod).__name__} has no parameter '{name}'")
        return param

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module) for self and every descendant, depth first, each once."""
        yield from self._walk(memo, prefix, remove_duplicate)

    def _walk(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True,
              named: bool = True) -> list[tuple[str, "Module"]]:
        """``named_modules`` as a list, walked with a stack instead of nested generators
        (training loops walk the tree every step, through ``parameters`` and ``zero_grad``, which
        pass ``named=False``: every name is then "", and no string is built)."""
        if memo is None:
            memo = set()
        order, stack = [], [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            order.append((name, mod))
            if named:
                dot = name + "." if name else ""
                children = [(dot + key, m) for key, m in mod._modules.items() if m is not None]
            else:
                children = [("", m) for m in mod._modules.values() if m is not None]
            children.reverse()  # popped in registration order
            stack.extend(children)
        return order

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen: set = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Tensor]]:
        # A tensor shared by two layers (tied weights) is reported once, under its first name.
        seen: set = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, t in getattr(mod, registry).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, e.g. ('0.weight', ...), each Parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter once, in ``named_parameters`` order (walked without names: training
        loops call this every step, through ``zero_grad``)."""
        seen: set = set()
        for _, mod in (self._walk(named=False) if recurse else (("", self),)):
            for p in mod._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on every module."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Turn gradient recording on or off for every Parameter (freezing a layer)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every Parameter's ``.grad``: to None (default, as torch 2) or to zeros in place."""
        for p in self.parameters():
            if p._grad is None:
                continue
            if set_to_none:
                p._grad = None
            else:
                g = p.grad
                if g.grad_fn is not None:
                    p.grad = g.detach()
                    g = p.grad
                g._data[...] = 0
                g._bump_version()

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every sub-module (children first) and then on self; e.g. custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype
    def _apply_to_tensors(self, convert: Callable[[np.ndarray], np.ndarray]) -> "Module":
        # Parameters keep their identity (an optimizer built earlier still holds them); only the
        # array underneath is replaced, as torch's module.to does with param.data.
        for m in self.modules():
            for registry in (m._parameters, m._buffers):
                for t in registry.values():
                    if t is None:
                        continue
                    new = convert(t._data)
                    if new is not t._data:
                        t._data = new
                        t._bump_version()
                        if t.grad is not None:
                            t.grad = Tensor._wrap(convert(t.grad._data))
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """Cast floating-point Parameters and buffers to a dtype (``model.to(dl.float64)``).

        Integer buffers (BatchNorm's ``num_batches_tracked``) keep their dtype, as in torch.
        A device argument is accepted; only 'cpu' exists.
        """
        dt = _dt.parse_to_args(args, kwargs)
        if dt is None:
            return self
        if dt.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dt}"
            )
        return self._apply_to_tensors(
            lambda a: a.astype(dt) if a.dtype.kind == "f" and a.dtype != dt else a
        )

    def float(self) -> "Module":
        return self.to(_dt.float32)

    def double(self) -> "Module":
        return self.to(_dt.float64)

    def cpu(self) -> "Module":
        return self

    def cuda(self, device: Any = None) -> "Module":
        """As torch's; this build computes on the CPU, so it raises ``CPUOnlyError``."""
        _dt.check_device("cuda" if device is None else _dt.device(device))
        return self

    # ------------------------------------------------------------------ state dict
    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False,
    ) -> "OrderedDict[str, Tensor]":
        """name → tensor for every Parameter and persistent buffer, torch's key names and order.

        The tensors share memory with the module (detached unless ``keep_vars``): copy them, or
        save them, before training on.
        """
        out: OrderedDict = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True,
    ) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's Parameters and buffers, in place.

        Values may be descentlab Tensors, NumPy arrays or anything ``np.asarray`` reads (PyTorch
        CPU tensors included); they are cast to each destination's dtype. A shape mismatch is
        always an error; with ``strict`` (default) missing or unexpected keys are errors too.
        All problems are reported together, and nothing is copied unless the whole load is valid.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        arrays: dict = {}
        mismatched = []
        for key, dest in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            arr = src._data if isinstance(src, Tensor) else np.asarray(_detach_foreign(src))
            if arr.shape != dest.shape:
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(arr.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(dest.shape)}."
                )
            arrays[key] = arr
        errors = list(mismatched)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
                + "\nCheck that the checkpoint was saved from the same architecture, or pass "
                "strict=False to skip missing/unexpected keys (shapes must still match)."
            )
        with no_grad():
            for key, arr in arrays.items():
                dest = own[key]
                np.copyto(dest._data, arr, casting="unsafe")
                dest._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (layers override it)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        if not self._modules:
            return f"{self._get_name()}({extra})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


def _options_repr(head: str, *options: tuple[str, Any, bool]) -> str:
    """``head`` followed by ``, name=value`` for each (name, value, shown) option whose ``shown``
    is true: an ``extra_repr`` that prints only the arguments away from their defaults."""
    return head + "".join(f", {name}={value}" for name, value, shown in options if shown)


def _check_name(name: str, module: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name should be a string, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(
            f"invalid name {name!r} for an entry of {type(module).__name__}: names must be "
            f"non-empty and contain no '.'"
        )


def _detach_foreign(value: Any) -> Any:
    # A torch tensor that requires grad refuses np.asarray; its values are what we want.
    detach = getattr(value, "detach", None)
    return detach() if callable(detach) else value
