"""descentlab's file format: safetensors for the arrays, JSON for the structure; ``save`` writes
it and ``load`` reads it (handing torch.save archives to the restricted reader)."""

from __future__ import annotations

import json
import math
import os
import pickle
import struct
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from ..autograd import dtypes as _dt
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from .common import UnsafeFileError, check_map_location, map_tensor, read_all
from .torch_zip import load_torch_zip

_FORMAT = "descentlab.save"
_VERSION = 1
_MAX_HEADER = 100 * 2**20  # safetensors' own limit on the JSON header

# safetensors dtype codes <-> NumPy
_ST_CODES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4",
             "I64": "<i8", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?",
             "C64": "<c8"}
_ST_NAMES = {np.dtype(v): k for k, v in _ST_CODES.items()}


# ----------------------------------------------------------------------------- save


def save(obj: Any, f: str | os.PathLike | BinaryIO, pickle_module: Any = None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Save tensors, NumPy arrays, numbers, strings, None and dicts/lists/tuples of them.

    As ``torch.save(obj, f)``, but the file is safetensors plus a JSON description of ``obj``,
    never a pickle. ``f`` is a path or a binary file object. torch's pickle arguments are accepted
    for compatibility and change nothing (``pickle_module`` must be None: no pickle is written).

    Raises:
        TypeError: ``obj`` holds something else (a module, an optimizer, a function, …); the
            message says where, and that ``state_dict()`` is what to save.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("save(): pickle_module is not supported; descentlab never writes pickles")
    arrays: dict[str, np.ndarray] = {}
    names: dict[int, str] = {}
    root = _encode(obj, arrays, names, "obj")
    meta = {"format": _FORMAT, "version": _VERSION, "root": root}
    data = _safetensors_bytes(arrays, {"descentlab": json.dumps(meta, allow_nan=False)})
    if isinstance(f, (str, os.PathLike)):
        from .._fileio import atomic_path

        with atomic_path(f) as tmp:
            tmp.write_bytes(data)
    else:
        f.write(data)


def _encode(obj: Any, arrays: dict, names: dict, where: str) -> Any:
    """One JSON node for ``obj``; tensors go to ``arrays`` (shared objects stored once)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj if abs(obj) < 2**53 else {"int": str(obj)}
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, (Tensor, np.ndarray)):
        key = names.get(id(obj))
        if key is None:
            arr = obj._data if isinstance(obj, Tensor) else obj
            if arr.dtype not in _ST_NAMES:
                raise TypeError(f"save(): {where} has dtype {arr.dtype}, which safetensors cannot "
                                f"store; convert it first (e.g. .to(descentlab.float64))")
            key = names[id(obj)] = f"t{len(arrays)}"
            arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        if isinstance(obj, np.ndarray):
            return {"ndarray": key}
        node = {"tensor": key}
        if obj.requires_grad:
            node["requires_grad"] = True
        if type(obj).__name__ == "Parameter":
            node["parameter"] = True
        return node
    if isinstance(obj, Size):
        return {"size": list(obj)}
    if isinstance(obj, _dt.dtype):
        return {"dtype": obj._label}
    if isinstance(obj, _dt.device):
        return {"device": str(obj)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save(): {where} has a key {k!r} of type {type(k).__name__}; "
                                f"only str and int keys can be saved")
            items.append([k, _encode(v, arrays, names, f"{where}[{k!r}]")])
        return {"ordered" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, names, f"{where}[{i}]") for i, v in enumerate(obj)]}
    hint = (" Save its state_dict() instead (model.state_dict(), optimizer.state_dict()) and "
            "load it into a new instance with load_state_dict()."
            if hasattr(obj, "state_dict") else "")
    raise TypeError(
        f"save(): {where} is a {type(obj).__module__}.{type(obj).__qualname__}, which can't be "
        f"saved: descentlab writes tensors, numbers, strings, None and dicts/lists/tuples of them "
        f"as safetensors + JSON, never as a pickle (loading a pickle can run arbitrary code).{hint}"
    )


def _safetensors_bytes(arrays: dict, metadata: dict) -> bytes:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, arr in arrays.items():
        n = arr.nbytes
        header[name] = {"dtype": _ST_NAMES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # safetensors pads the header to 8 bytes
    body = b"".join(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
                    for arr in arrays.values())
    return struct.pack("<Q", len(head)) + head + body


# ----------------------------------------------------------------------------- load


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: Any = None,
         mmap: Any = None, **pickle_load_args: Any) -> Any:
    """Load what ``save`` wrote, a plain safetensors file, or a tensors-only ``torch.save`` file.

    As ``torch.load``. Everything is loaded onto the CPU: ``map_location`` may be None, 'cpu', a
    ``device('cpu')``, a dict mapping saved locations to 'cpu', or a callable
    ``(storage, location) -> tensor`` (torch's forms); mapping to an accelerator raises
    ``CPUOnlyError``. ``weights_only`` is accepted with torch's meaning and is always in effect:
    only tensors and containers are ever loaded, whatever its value, because anything more would
    mean running pickled code.

    Raises:
        UnsafeFileError: the file names anything beyond tensors and containers (nothing from it
            is run), or it is truncated, inconsistent or not a known format.
    """
    if pickle_load_args:
        raise TypeError(f"load(): unexpected arguments {sorted(pickle_load_args)}; descentlab "
                        f"never unpickles arbitrary objects, so pickle options don't apply")
    check_map_location(map_location)
    data = read_all(f)
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return load_torch_zip(data, map_location)
    if len(data) >= 10 and data[8:9] == b"{":
        arrays, meta = _parse_safetensors(data)
        return _decode_file(arrays, meta, map_location)
    if data[:1] == b"\x80":
        raise UnsafeFileError(
            "load(): this is a raw pickle (torch's legacy, pre-1.6 format or a plain pickle.dump), "
            "which can only be read by running pickle; descentlab refuses it. Re-save it with a "
            "current torch.save (a zip file) or with descentlab.save."
        )
    raise UnsafeFileError("load(): not a descentlab.save / safetensors file nor a torch.save zip "
                          f"archive (it starts with {data[:8]!r})")


def _parse_safetensors(data: bytes) -> tuple[dict, dict]:
    """The arrays and metadata of a safetensors file, every offset and size checked."""
    if len(data) < 8:
        raise UnsafeFileError("load(): file too short to be safetensors (truncated?)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise UnsafeFileError(f"load(): safetensors header declares {n} bytes but the file has "
                              f"{len(data) - 8} after the length field (truncated or damaged)")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, ValueError) as e:
        raise UnsafeFileError(f"load(): safetensors header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise UnsafeFileError("load(): safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    arrays = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(_ST_CODES[info["dtype"]])
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise UnsafeFileError(f"load(): safetensors entry {name!r} is malformed or has an "
                                  f"unsupported dtype: {info!r:.200}") from None
        count = math.prod(shape)
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(body) or (
                end - begin != count * dtype.itemsize):
            raise UnsafeFileError(
                f"load(): safetensors entry {name!r} (shape {list(shape)}, {info['dtype']}) does "
                f"not fit its bytes [{begin}, {end}) of {len(body)} (truncated or damaged)")
        arrays[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).astype(
            dtype.newbyteorder("="), copy=True)
    return arrays, meta


def _decode_file(arrays: dict, meta: dict, map_location: Any) -> Any:
    raw = meta.get("descentlab")
    if raw is None:  # a plain safetensors file: its tensors by name
        return {k: map_tensor(Tensor._wrap(v), "cpu", map_location) for k, v in arrays.items()}
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise UnsafeFileError(f"load(): the descentlab structure is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise UnsafeFileError("load(): the safetensors metadata 'descentlab' is not a "
                              "descentlab.save structure")
    if doc.get("version", 0) > _VERSION:
        raise UnsafeFileError(f"load(): file format version {doc['version']} is newer than this "
                              f"descentlab reads ({_VERSION}); upgrade descentlab")
    made: dict[str, Tensor] = {}
    return _decode(doc.get("root"), arrays, made, map_location)


def _decode(node: Any, arrays: dict, made: dict, map_location: Any) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list) or not isinstance(node, dict) or len(node) == 0:
        raise UnsafeFileError(f"load(): unexpected node {node!r:.100} in the structure")
    kind = next(iter(node))
    value = node[kind]
    if kind in ("tensor", "ndarray"):
        if value not in arrays:
            raise UnsafeFileError(f"load(): the structure names a tensor {value!r} that the file "
                                  f"does not hold")
        if kind == "ndarray":
            return arrays[value]
        if value not in made:
            t = map_tensor(Tensor._wrap(arrays[value]), "cpu", map_location)
            if node.get("parameter"):
                from ..nn import Parameter

                t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
            elif node.get("requires_grad"):
                t.requires_grad_(True)
            made[value] = t
        return made[value]
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "size":
        return Size(int(v) for v in value)
    if kind == "dtype":
        return _dt.public(_dt.resolve(value))
    if kind == "device":
        return _dt.device(value)
    if kind in ("dict", "ordered"):
        out = OrderedDict() if kind == "ordered" else {}
        for k, v in value:
            if not isinstance(k, (str, int)):
                raise UnsafeFileError(f"load(): dict key {k!r:.50} is not a str or int")
            out[k] = _decode(v, arrays, made, map_location)
        return out
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, made, map_location) for v in value]
        return items if kind == "list" else tuple(items)
    raise UnsafeFileError(f"load(): unknown node kind {kind!r} in the structure")
