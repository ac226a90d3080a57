"""Size: the shape of a tensor, a tuple of ints printed ``descentlab.Size([3, 4])`` (torch.Size)."""

from __future__ import annotations

from typing import Any


class Size(tuple):
    """A tensor's shape: a tuple (compares, hashes and unpacks like one) with torch.Size's extras.

    Slicing or adding a tuple gives a Size again; ``numel()`` is the product of the sizes.
    """

    def __new__(cls, sizes: Any = ()) -> "Size":
        out = tuple.__new__(cls, sizes)
        for s in out:
            if not isinstance(s, int) and not hasattr(s, "__index__"):
                raise TypeError(
                    f"Size() takes an iterable of 'int' (item {out.index(s)} is "
                    f"'{type(s).__name__}')"
                )
        return out

    def __repr__(self) -> str:
        return f"descentlab.Size({list(self)!r})"

    __str__ = __repr__

    def __getitem__(self, index: Any) -> Any:
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other: Any) -> "Size":
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> "Size":
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= int(s)
        return n

    def __reduce__(self) -> Any:
        return (Size, (tuple(self),))
