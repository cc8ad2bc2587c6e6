"""Read the tensors of a PyTorch / TorchScript file without PyTorch.

A ``.pt`` file written by ``torch.save`` or ``torch.jit.save`` is a zip archive:
``<root>/data.pkl`` is a pickle whose tensors refer ("persistent ids") to raw
little-endian storages ``<root>/data/<key>``. TorchScript archives also pickle the
module objects themselves (classes named ``__torch__.*``) with their attributes
(e.g. a convolution's ``stride`` and ``padding``).

This module unpickles such a file with a restricted :class:`pickle.Unpickler` that

* maps ``torch.<Type>Storage`` classes (and ``torch.<dtype>`` objects) to numpy dtypes
  by name,
* rebuilds tensors (``torch._utils._rebuild_tensor_v2`` / ``_rebuild_tensor``) as numpy
  arrays (views with the recorded offset, size and stride, then copied),
* turns every ``__torch__.*`` class into a :class:`TorchObject` holding its attributes, and
* refuses any other global (so a file cannot run code while being read).

``read_torch_file(path)`` returns the unpickled root object; ``state_dict(obj)`` flattens
it into ``{"net.layers.conv.weight": ndarray, ...}`` (the names ``torch.jit.load(...).
state_dict()`` gives), and ``module_attributes(obj)`` gives the non-tensor attributes of
every sub-module (``{"net.layers.conv": {"stride": 2, "padding": 0}, ...}``).
"""
from __future__ import annotations

import collections
import io
import pickle
import zipfile
from typing import Any, Dict

import numpy as np

from ..errors import WeightsError

# torch storage class name -> numpy dtype
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": None,  # handled specially (no numpy bfloat16)
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
# torch.<dtype> names (newer "UntypedStorage" + dtype pickles) -> numpy dtype
_TORCH_DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64,
    "int32": np.int32, "int": np.int32, "int16": np.int16, "short": np.int16,
    "int8": np.int8, "uint8": np.uint8, "bool": np.bool_, "bfloat16": None,
}


class _StorageType:
    def __init__(self, name: str):
        self.name = name
        if name.endswith("Storage"):
            self.dtype = _STORAGE_DTYPES.get(name, "unknown")
        else:
            self.dtype = _TORCH_DTYPES.get(name, "unknown")
        self.is_bfloat16 = name in ("BFloat16Storage", "bfloat16")

    def __repr__(self):
        return f"torch.{self.name}"


class TorchObject:
    """Stand-in for a pickled ``__torch__.*`` (TorchScript) module object."""

    def __init__(self, *args, **kwargs):
        self.__dict__["_torch_class"] = getattr(type(self), "_torch_class", "?")
        self.__dict__["_attrs"] = {}

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = {**state[0], **(state[1] or {})}
        if not isinstance(state, dict):
            raise WeightsError(f"unexpected state for {self._torch_class} in the weights file")
        self.__dict__["_attrs"] = dict(state)

    def __getattr__(self, name):
        attrs = self.__dict__.get("_attrs", {})
        if name in attrs:
            return attrs[name]
        raise AttributeError(name)

    def __repr__(self):
        return f"<{self._torch_class}>"


_class_cache: Dict[str, type] = {}


def _torch_object_class(module: str, name: str) -> type:
    full = f"{module}.{name}"
    if full not in _class_cache:
        _class_cache[full] = type(name, (TorchObject,), {"_torch_class": full})
    return _class_cache[full]


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if not size:
        return np.array(storage[storage_offset], copy=True)
    itemsize = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:], shape=size, strides=tuple(s * itemsize for s in stride)
    )
    return np.array(view, copy=True)


def _identity_list(data):
    return list(data)


class _Unpickler(pickle.Unpickler):
    def __init__(self, fileobj, zf: zipfile.ZipFile, root: str):
        super().__init__(fileobj)
        self._zf = zf
        self._root = root
        self._storages: Dict[str, np.ndarray] = {}

    def find_class(self, module, name):
        if module.startswith("__torch__"):
            return _torch_object_class(module, name)
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, backward_hooks, *a: data
        if module == "torch" and (name.endswith("Storage") or name in _TORCH_DTYPES):
            return _StorageType(name)
        if module == "torch.jit._pickle" and name.startswith("build_"):
            # build_intlist / build_tensorlist / build_boollist / build_doublelist / ...
            return _identity_list
        if module == "torch.jit._pickle" and name == "restore_type_tag":
            return lambda value, type_str: value
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "builtins" and name in ("set", "frozenset", "tuple", "list", "dict"):
            return {"set": set, "frozenset": frozenset, "tuple": tuple, "list": list, "dict": dict}[name]
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a weights file")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        _, stype, key, _location, numel = pid[:5]
        key = str(key)
        if key not in self._storages:
            raw = self._zf.read(f"{self._root}/data/{key}")
            if getattr(stype, "is_bfloat16", False):
                u16 = np.frombuffer(raw, dtype="<u2")
                arr = (u16.astype(np.uint32) << 16).view(np.float32)
            else:
                dtype = getattr(stype, "dtype", "unknown")
                if dtype == "unknown" or dtype is None:
                    raise pickle.UnpicklingError(f"unsupported storage type {stype!r}")
                arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            if numel is not None and arr.size < int(numel):
                raise pickle.UnpicklingError(f"storage {key} is truncated")
            self._storages[key] = arr
        return self._storages[key]


def read_torch_file(path: str) -> Any:
    """Unpickle ``data.pkl`` of a torch zip archive; tensors become numpy arrays."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"cannot read weights file {path}: {exc} (expected a PyTorch .pt zip archive)")
    with zf:
        names = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not names:
            raise WeightsError(f"{path} holds no data.pkl: not a PyTorch/TorchScript .pt archive")
        name = min(names, key=len)
        root = name[: -len("/data.pkl")] if "/" in name else ""
        try:
            return _Unpickler(io.BytesIO(zf.read(name)), zf, root).load()
        except (pickle.UnpicklingError, KeyError, ValueError, EOFError) as exc:
            raise WeightsError(f"cannot unpickle weights file {path}: {exc}")


def _walk(obj, prefix, tensors, attrs):
    if isinstance(obj, TorchObject):
        own = {}
        for key, value in obj._attrs.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, (TorchObject, dict)):
                _walk(value, name, tensors, attrs)
            elif isinstance(value, np.ndarray):
                tensors[name] = value
            elif key not in ("training", "_is_full_backward_hook"):
                own[key] = value
        attrs[prefix] = own
    elif isinstance(obj, dict):
        for key, value in obj.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, np.ndarray):
                tensors[name] = value
            elif isinstance(value, (TorchObject, dict)):
                _walk(value, name, tensors, attrs)


def state_dict(obj) -> "collections.OrderedDict[str, np.ndarray]":
    """Flatten an unpickled object into ``{dotted.name: ndarray}`` in file order."""
    tensors: "collections.OrderedDict[str, np.ndarray]" = collections.OrderedDict()
    _walk(obj, "", tensors, {})
    return tensors


def module_attributes(obj) -> Dict[str, dict]:
    """Non-tensor attributes (stride, padding...) of every TorchScript sub-module."""
    attrs: Dict[str, dict] = {}
    _walk(obj, "", collections.OrderedDict(), attrs)
    return attrs


def load_state_dict(path: str):
    """``(state_dict, module_attributes)`` of a torch zip archive, without torch."""
    obj = read_torch_file(path)
    return state_dict(obj), module_attributes(obj)
