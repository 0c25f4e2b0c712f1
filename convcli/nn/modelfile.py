"""Reading a model file safely: everything is checked before anything large is read or built.

The archive's members are known by their ``.npy`` headers alone (shape, dtype,
and the bytes the zip really holds); the metadata is checked for its types and
the network it describes is sized (parameter bytes) before it is built; only
then are the arrays read, each one against the shape the network expects.
"""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np

from ..errors import ConvcliError, DataError

MAX_PARAMS = 100_000_000  # 400 MB of float32: far beyond what this NumPy CNN trains
_BYTES_PER_PARAM = 20  # float64 initialisation, its float32 copy and the gradient
_MAX_META = 1 << 20


class ModelFile:
    """An open model archive: member headers read, arrays read on request, checked."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise DataError(f"{path}: no such model file") from None
        except IsADirectoryError:
            raise DataError(f"{path}: is a folder, not a model file") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise DataError(
                f"{path}: not a convcli model file (not an .npz archive: {e})"
            ) from None
        try:
            self.headers = {
                info.filename.removesuffix(".npy"): self._header(info)
                for info in self.zip.infolist()
            }
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def _damaged(self, what) -> DataError:
        return DataError(f"{self.path}: damaged model file ({what})")

    def _header(self, info):
        """(shape, dtype) of a member from its .npy header, checked against the zip's size."""
        try:
            with self.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                start = f.tell()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
            raise self._damaged(f"member {info.filename}: {e}") from None
        if dtype.hasobject:
            raise DataError(
                f"{self.path}: not a convcli model file (member {info.filename} "
                "holds Python objects, which are never unpickled)"
            )
        claimed = math.prod(shape) * dtype.itemsize
        if start + claimed != info.file_size:
            raise self._damaged(
                f"member {info.filename} claims {claimed:,} bytes of data "
                f"but holds {info.file_size - start:,}"
            )
        return tuple(shape), dtype

    def array(self, name: str, shape=None, kinds="fiu") -> np.ndarray:
        """The member ``name``, after its header says it has ``shape`` and a numeric dtype."""
        if name not in self.headers:
            raise DataError(f"{self.path}: the model file has no {name}")
        stored, dtype = self.headers[name]
        if (shape is not None and stored != tuple(shape)) or dtype.kind not in kinds:
            want = f" {tuple(shape)}" if shape is not None else ""
            raise DataError(f"{self.path}: {name} is {dtype} {stored}, expected numbers{want}")
        try:
            with self.zip.open(name + ".npy") as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise self._damaged(f"{name}: {e}") from None

    def meta(self, format_name: str) -> dict:
        """The metadata, with every field of the type it must have."""
        shape, dtype = self.headers.get("meta", ((), np.dtype(float)))
        if (
            "meta" not in self.headers
            or dtype.kind != "U"
            or shape != ()
            or dtype.itemsize > _MAX_META
        ):
            raise DataError(f"{self.path}: not a convcli model file (no {format_name} header)")
        try:
            meta = json.loads(str(self.array("meta", (), kinds="U")))
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or meta.get("format") != format_name:
            raise DataError(f"{self.path}: not a convcli model file (no {format_name} header)")
        return _checked_meta(meta, self.path)


def _checked_meta(meta: dict, path: str) -> dict:
    layers, shape = meta.get("layers"), meta.get("input_shape")
    problems = []
    if not (
        isinstance(layers, list)
        and 0 < len(layers) <= 1000
        and all(isinstance(t, str) and len(t) < 200 for t in layers)
    ):
        problems.append("layers must be a list of layer specs")
    if not (
        isinstance(shape, list)
        and len(shape) == 3
        and all(type(n) is int and 0 < n <= 4096 for n in shape)
    ):
        problems.append("input_shape must be three whole numbers (H, W, C) up to 4096")
    for key in ("mean", "std"):
        value = meta.get(key)
        if type(value) not in (int, float) or not math.isfinite(value):
            problems.append(f"{key} must be a number")
    if not problems and meta["std"] <= 0:
        problems.append("std must be positive")
    if problems:
        raise DataError(f"{path}: damaged model metadata: " + "; ".join(problems))
    return meta


def checked_plan(meta: dict, path: str):
    """The layer specs and their plan, refused if the network would be too large to build."""
    from ..engine.padding import _size, available_memory
    from ..layerspec import parse_network, plan

    try:
        specs = parse_network(meta["layers"])
        infos = plan(tuple(meta["input_shape"]), specs)
    except (ConvcliError, ValueError) as e:
        raise DataError(f"{path}: the model's network does not fit together ({e})") from None
    params = sum(info.params for info in infos)
    need, have = params * _BYTES_PER_PARAM, available_memory()
    if params > MAX_PARAMS or need > have:
        raise DataError(
            f"{path}: the model claims {params:,} parameters (about {_size(need)} "
            f"to build; {_size(have)} is available, at most {MAX_PARAMS:,} "
            "parameters are loaded)"
        )
    return specs
