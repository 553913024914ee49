"""Which values are arrays: NumPy's own, and the arrays of other libraries that implement
NumPy's dispatch protocols (``__array_ufunc__`` and ``__array_function__``: Dask, CuPy).

Input: any value.  Output: whether s2s treats it as an array it can differentiate, and the
key a specialization cache files it under.  Generated code is plain NumPy calls, which
dispatch to such arrays, so the gradient of a Dask array is a (lazy) Dask array and that of
a CuPy array a CuPy array.  Nothing here imports Dask or CuPy.  (The test itself,
``is_dispatched_array``, is a runtime helper: generated and exported code calls it.)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .runtime import is_dispatched_array


def array_type_name(value: Any) -> str:
    """``dask.array.Array``, ``cupy.ndarray``: the module and name of an array's type."""
    kind = type(value)
    module = kind.__module__.split(".")
    root = module[0]
    return f"{root}.array.{kind.__name__}" if root == "dask" else f"{root}.{kind.__name__}"


def known_shape(value: Any) -> tuple | None:
    """The shape of a dispatched array when every length is known (a Dask array with
    unknown chunk sizes has ``nan`` lengths: None)."""
    try:
        shape = tuple(value.shape)
    except (TypeError, ValueError):
        return None
    if all(isinstance(n, (int, np.integer)) for n in shape):
        return tuple(int(n) for n in shape)
    return None


__all__ = ["array_type_name", "is_dispatched_array", "known_shape"]
