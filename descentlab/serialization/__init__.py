"""``save`` / ``load`` without pickle: safetensors for the arrays, JSON for the structure.

``save(obj, f)`` writes one safetensors file: every tensor (and NumPy array) of ``obj`` becomes an
entry ``t0``, ``t1``, … and the shape of ``obj`` itself — dicts (int or str keys), lists, tuples,
numbers, strings, None — goes into the file's metadata as JSON under the key ``descentlab``. Any
safetensors reader sees the tensors; ``load`` rebuilds the whole object. Nothing else can be
saved: an arbitrary Python object could only be stored as a pickle, and loading a pickle runs
whatever code the file names.

``load`` also reads a file written by ``torch.save`` when it holds only tensors and containers
(a state dict, an optimizer state dict, a checkpoint dict): its ``data.pkl`` is read with a
restricted unpickler that admits only the reconstruction names torch's own ``weights_only=True``
loader admits (``torch._utils._rebuild_tensor_v2``, ``collections.OrderedDict``, ``torch.Size``,
the typed storages, dtypes, …) and refuses every other name before anything is called. Sizes,
strides and offsets are checked against the bytes actually present, and the loaded object is
checked once more to contain only data.

The safetensors format is small enough to read and write here directly, so ``save``/``load`` need
NumPy only (the ``safetensors`` package reads our files, and the tests check that it doe

The parts: ``safetensors_json`` (the format, ``save`` and ``load``), ``torch_zip`` (the restricted
torch.save reader) and ``common`` (the refusal error, ``map_location``).
"""

from __future__ import annotations

from .common import UnsafeFileError
from .safetensors_json import load, save

__all__ = ["save", "load", "UnsafeFileError"]
