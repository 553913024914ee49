"""The few helpers that generated code and rule bodies call at run time.

Everything here is small, allocation-free on its fast path, and independent of the rest
of s2s, so that an exported derivative module can inline it and import NumPy only.
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = [
    "ABSENT",
    "ComplexValueError",
    "MappingAdjoint",
    "RuleDomainError",
    "DispatchedArrayRefusal",
    "SequenceAdjoint",
    "SharedViewError",
    "add_cotangents",
    "add_output_tangents",
    "adjoint_copy",
    "adjoint_read",
    "adjugate",
    "along_axis_shape",
    "arange_like",
    "array_adjoint",
    "array_tangent",
    "average_layout",
    "axis_pad_width",
    "axis_slice",
    "broadcast_like",
    "cholesky_adjoint",
    "cholesky_tangent",
    "column_stack_adjoint",
    "concatenate_adjoint",
    "cond_adjoint",
    "cond_tangent",
    "concatenated_length",
    "convolution_padding",
    "cotangent_for",
    "count_valid",
    "cov_weights",
    "cross_adjoint",
    "cumprod_adjoint",
    "cumprod_tangent",
    "default_adjoint",
    "delete_sources",
    "diag_adjoint",
    "diagonal_adjoint",
    "dict_get",
    "dict_items",
    "dict_keys",
    "dict_values",
    "dot_adjoint",
    "double_spectrum",
    "dstack_adjoint",
    "eig_adjoint",
    "eig_tangent",
    "eigh_adjoint",
    "eigh_tangent",
    "eigvals_adjoint",
    "eigvals_tangent",
    "eigvalsh_adjoint",
    "eigvalsh_tangent",
    "einsum_adjoint",
    "einsum_adjoint_cotangents",
    "einsum_adjoint_tangent",
    "einsum_argument_adjoint",
    "einsum_argument_tangent",
    "entry_cotangent",
    "fft_axes",
    "fft_lengths",
    "field",
    "field_adjoint",
    "field_tangent",
    "fit_to",
    "get_adjoint",
    "gradient_adjoint",
    "gradient_of",
    "gradient_stencil",
    "half_spectrum",
    "holds_complex",
    "hstack_adjoint",
    "index_accumulate",
    "index_accumulate_tangent",
    "index_adjoint",
    "inner_adjoint",
    "insert_positions",
    "interp_segments",
    "items_adjoint",
    "kept_shape",
    "kron_layout",
    "linspace_weights",
    "list_adjoint",
    "logdet_adjoint",
    "lstsq_adjoint",
    "lstsq_tangent",
    "matmul_adjoint_x",
    "matmul_adjoint_y",
    "matrix_power_adjoint",
    "matrix_power_tangent",
    "multi_dot_adjoint",
    "multi_dot_tangent",
    "meshgrid_shape",
    "norm_adjoint",
    "output_tangent",
    "pad_interior",
    "pad_pairs",
    "pad_sources",
    "pairs_adjoint",
    "pairs_mapping",
    "partition_sources",
    "pinv_adjoint",
    "pinv_tangent",
    "polyfit_weights",
    "powers_of",
    "product_of_others",
    "qr_adjoint",
    "qr_tangent",
    "quantile_weights",
    "reduced_axes",
    "refuse_complex",
    "refuse_shared_view",
    "repeat_adjoint",
    "replace_axis",
    "restore",
    "restore_entry",
    "rollaxis_destination",
    "rows_adjoint",
    "saved_entry",
    "select_adjoint",
    "select_masks",
    "sequence_copy",
    "snapshot",
    "solve_adjoint_a",
    "solve_adjoint_b",
    "solve_tangent_a",
    "split_evenly",
    "stack_adjoint",
    "stop_gradient",
    "svd_adjoint",
    "svd_tangent",
    "take_adjoint",
    "take_along_axis_adjoint",
    "tensordot_adjoint",
    "tensordot_subscripts",
    "tensorinv_adjoint",
    "tensorinv_tangent",
    "tensorsolve_adjoint",
    "tensorsolve_tangent",
    "tile_adjoint",
    "unbroadcast",
    "values_adjoint",
    "variables_as_rows",
    "vstack_adjoint",
    "zeros_for_none",
    "zeros_like",
    "zeros_or_absent",
    "zeros_or_none",
]


def stop_gradient(x):
    """Return ``x`` unchanged; no gradient flows back through the result (torch's detach).

    On a tape tensor this is ``x.detach()``; in generated code it is the identity, and the
    code generator treats it as having no derivative.
    """
    detach = getattr(x, "detach", None)
    return detach() if detach is not None else x


class ComplexValueError(TypeError):
    """A complex value reached an operation whose derivative rule is for real values only
    (plain, not an s2s error: exported modules carry no s2s errors; s2s reports it as
    :class:`s2s.MissingRuleError`)."""


def holds_complex(value):
    """Whether ``value`` is, or holds in its lists, tuples and dicts, a complex number or
    array (ragged lists included; other values are not converted)."""
    if isinstance(value, (list, tuple)):
        return any(holds_complex(item) for item in value)
    if isinstance(value, dict):
        return any(holds_complex(item) for item in value.values())
    return isinstance(value, (complex, np.complexfloating)) \
        or isinstance(value, np.ndarray) and value.dtype.kind == "c"


def cotangent_for(g, like):
    """``g`` as the cotangent of ``like``: its real part for a real ``like`` (complex
    intermediates leave an imaginary part on real values' cotangents, s2s/rules/registry.py),
    so that it adds in place into a real adjoint."""
    if np.iscomplexobj(g) and not np.iscomplexobj(like):
        return np.real(g)
    return g


class SharedViewError(TypeError):
    """A view of an array written in place is read after the write (or the array after a
    write through the view), found when the code runs (plain, not an s2s error: exported
    modules carry no s2s errors; s2s reports it as :class:`s2s.UnsupportedError`)."""


def refuse_shared_view(message, view, array):
    """Raise :class:`SharedViewError` with ``message`` if ``view`` (or an item of it, a list
    of views from ``np.split``) may share memory with ``array``: generated code calls this
    after taking what may be a view (``r = A[i]``: a row of a matrix, or an element of a
    vector) of an array the code writes in place before reading the view."""
    items = view if isinstance(view, (list, tuple)) else (view,)
    for item in items:
        if isinstance(item, np.ndarray) and isinstance(array, np.ndarray) \
                and np.may_share_memory(item, array):
            raise SharedViewError(message)
        if is_dispatched_array(item) and type(item) is type(array) \
                and not type(item).__module__.startswith("dask") \
                and np.may_share_memory(item, array):          # CuPy's views share memory
            raise SharedViewError(message)                     # (a Dask write makes a new graph)


def refuse_complex(name, *values):
    """Raise :class:`ComplexValueError` if one of ``values`` is complex: generated code
    calls this before the derivative of ``name``, a rule without complex support."""
    for value in values:
        if holds_complex(value):
            raise ComplexValueError(
                f"{name} received a complex value, and its derivative rule is for real "
                "values only")


def sort_order(items, reverse=False):
    """The positions of ``items`` in the order ``sorted(items, reverse=reverse)`` lists them
    (stable, Python's comparisons): generated code gathers ``sorted(xs)`` as
    ``[xs[k] for k in sort_order(xs)]``, so the gradient follows the permutation."""
    return sorted(range(len(items)), key=items.__getitem__, reverse=reverse)


def piecewise_masks(x, condlist, count):
    """The masks ``np.piecewise(x, condlist, funclist)`` selects with, one per entry of a
    ``funclist`` of ``count`` entries: the conditions (one condition alone counts as a list
    of one, as NumPy reads it), and with one entry more than conditions the "otherwise"
    mask, where none holds.  Generated code writes ``y[mask] = f(x[mask])`` in this order,
    so a later condition wins where several hold, as in NumPy."""
    x = np.asarray(x)
    if np.isscalar(condlist) or np.ndim(x) != 0 \
            and not isinstance(condlist[0], (list, np.ndarray)):
        condlist = [condlist]
    masks = np.asarray(condlist, dtype=bool)
    if len(masks) == count - 1:
        masks = np.concatenate([masks, np.logical_not(np.any(masks, axis=0, keepdims=True))])
    elif len(masks) != count:
        raise ValueError(f"np.piecewise: with {len(masks)} conditions the list of functions "
                         f"has {len(masks)} or {len(masks) + 1} entries, not {count}")
    return tuple(masks)


def is_dispatched_array(value):
    """Whether ``value`` is an array of another library that NumPy's functions dispatch to
    (not an ``np.ndarray``, not a NumPy scalar)."""
    kind = type(value)
    return (not isinstance(value, (np.ndarray, np.generic))      # subclasses are NumPy's
            and hasattr(kind, "__array_function__") and hasattr(kind, "__array_ufunc__")
            and not getattr(kind, "records_operations", False)  # the tape's own Tensor
            and hasattr(value, "shape") and hasattr(value, "dtype"))


def as_array(x):
    """``x`` as an array: an ndarray or an array of another library as it is (``np.asarray``
    would compute a Dask array, or copy a CuPy array to the host), anything else through
    ``np.asarray``."""
    if x.__class__ is np.ndarray or is_dispatched_array(x):
        return x
    return np.asarray(x)


_LIBRARIES = {"dask": "Dask", "cupy": "CuPy"}


def library_name(x) -> str:
    """The name of the library an array of another library comes from (``"Dask"``)."""
    module = type(x).__module__.split(".")[0]
    return _LIBRARIES.get(module, module)


def refuse_dispatched(x, what):
    """Refuse (:class:`DispatchedArrayRefusal`, which s2s reports as a ``MissingRuleError``)
    a derivative that arrays of ``x``'s library cannot evaluate lazily: ``what`` says why."""
    raise DispatchedArrayRefusal(f"{what}, which {library_name(x)} arrays do not do without "
                                 "computing; compute the array first (np.asarray) to "
                                 "differentiate it with NumPy")


def copy_value(x):
    """``np.copy(x)`` that keeps an array of another library its type (``x.copy()``: Dask
    would compute the array to run NumPy's ``copy``)."""
    return x.copy() if is_dispatched_array(x) else np.copy(x)


def size_of(x, axis=None):
    """``np.size(x, axis)`` read from the shape (Dask would compute the array to run
    NumPy's ``size``)."""
    shape = np.shape(x)
    if axis is None:
        size = 1
        for length in shape:
            size *= length
        return size
    return shape[axis]


def _spread(g, like):
    """``g`` broadcast to the shape of ``like``: a read-only NumPy view, or for an array of
    another library (Dask, CuPy) an array of that type chunked like it (never a NumPy array
    of its full size)."""
    if is_dispatched_array(like):
        return np.zeros_like(like, dtype=np.result_type(like.dtype, np.float32)) + g
    return np.broadcast_to(g, np.shape(like))


def unbroadcast(g, like):
    """Sum the cotangent ``g`` down to the shape of ``like`` (undoing NumPy broadcasting)."""
    scalars = (float, np.float64, np.float32)             # scalar code: nothing to undo
    if g.__class__ in scalars and like.__class__ in scalars:
        return g
    shape = np.shape(like)
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    if isinstance(g, list) or isinstance(like, list):
        raise TypeError(                       # plain: exported modules carry no s2s errors
            "s2s does not differentiate list concatenation (xs + ys) or arithmetic between "
            "lists and arrays; build the list with .append, or np.concatenate arrays")
    if len(g_shape) < len(shape) or not shape and not g_shape:
        return _spread(g, like)
    extra = len(g_shape) - len(shape)
    if extra:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(axis for axis, size in enumerate(shape) if size == 1 and g.shape[axis] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if not shape:
        return g[()] if isinstance(g, np.ndarray) else g
    return g


def broadcast_like(g, like):
    """Spread the cotangent ``g`` of a reduction back over the shape of ``like``."""
    scalars = (float, np.float64, np.float32)
    if g.__class__ in scalars and like.__class__ in scalars:
        return g
    shape = np.shape(like)
    if np.shape(g) == shape:
        return g
    return _spread(g, like)


def zeros_like(x):
    """A zero cotangent for ``x``: ``0.0`` for Python scalars, an array of zeros otherwise."""
    if isinstance(x, np.ndarray) or is_dispatched_array(x):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, np.float32))
    if isinstance(x, (list, tuple)):
        return SequenceAdjoint(zeros_like(item) for item in x)
    if isinstance(x, dict):
        return MappingAdjoint((key, zeros_like(item)) for key, item in x.items())
    return 0.0


def matmul_adjoint_x(g, x, y):
    """Cotangent of ``x`` in ``x @ y`` (NumPy's 1-D promotion rules included)."""
    x_ndim, y_ndim = np.ndim(x), np.ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * y, x)
    if y_ndim == 1:
        if x_ndim == 1:
            return g * y
        return unbroadcast(np.multiply.outer(g, y) if x_ndim == 2 else g[..., None] * y, x)
    if x_ndim == 1:
        return unbroadcast(np.matmul(y, g[..., None])[..., 0], x) if y_ndim > 2 else y @ g
    return unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x)


def matmul_adjoint_y(g, x, y):
    """Cotangent of ``y`` in ``x @ y`` (NumPy's 1-D promotion rules included)."""
    x_ndim, y_ndim = np.ndim(x), np.ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * x, y)
    if x_ndim == 1:
        if y_ndim == 1:
            return g * x
        return unbroadcast(np.multiply.outer(x, g) if y_ndim == 2 else x[:, None] * g[..., None, :], y)
    if y_ndim == 1:
        return unbroadcast(np.sum(x * g[..., None], axis=tuple(range(x_ndim - 1))), y) \
            if x_ndim > 2 else x.T @ g
    return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y)


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))
               for item in items)


class SequenceAdjoint(list):
    """The cotangent of a tuple or list of values: one entry per element.

    ``+`` adds entry by entry (``None`` stands for a zero entry), so generated code
    accumulates tuple cotangents with the same ``a_b = a_b + c`` as array cotangents.
    """

    def __add__(self, other):
        if not isinstance(other, (list, tuple)):
            return NotImplemented
        return SequenceAdjoint(b if a is None else a if b is None else a + b
                               for a, b in zip(self, other))

    __radd__ = __add__


class MappingAdjoint(dict):
    """The cotangent of a dict of values: one entry per key read (a missing key, or
    ``None``, stands for a zero entry).  ``+`` adds key by key."""

    def __add__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        result = MappingAdjoint(self)
        for key, value in other.items():
            mine = result.get(key)
            result[key] = value if mine is None else mine if value is None else mine + value
        return result

    __radd__ = __add__


def index_adjoint(g, like, index):
    """Cotangent of ``like`` in ``like[index]``: zeros, with ``g`` added at ``index``.

    Repeated integer indices add up (``np.add.at``); basic indices write directly.  For a
    tuple or list ``like``, a :class:`SequenceAdjoint` with ``g`` at ``index``; for a dict
    a :class:`MappingAdjoint`; for a field name of a namedtuple or registered dataclass
    (the read ``like.index``), :func:`field_adjoint`.
    """
    if isinstance(index, str) and not isinstance(like, dict):
        return field_adjoint(g, like, index)
    if isinstance(like, (list, tuple)):
        result = SequenceAdjoint(zeros_like(item) for item in like)
        result[index] = g
        return result
    if isinstance(like, dict):
        result = MappingAdjoint((key, zeros_like(item)) for key, item in like.items())
        result[index] = g
        return result
    if is_dispatched_array(like) or is_dispatched_array(g):
        return _dispatched_index_adjoint(g, like, index)
    result = np.zeros(np.shape(like), dtype=np.result_type(g, like, np.float32))
    if _is_basic_index(index):
        result[index] = g
    else:
        np.add.at(result, index, g)
    return result


def _dispatched_index_adjoint(g, like, index):
    """:func:`index_adjoint` for an array of another library (Dask, CuPy): zeros of its
    type with ``g`` written at a basic index; an advanced index (integer arrays, masks) adds
    up repeats with :func:`dispatched_add_at` (Dask has no ``np.add.at``)."""
    dtype = np.result_type(like.dtype, getattr(g, "dtype", g), np.float32)
    if _is_basic_index(index):
        carrier = like if is_dispatched_array(like) else g
        result = np.zeros_like(carrier, shape=np.shape(like), dtype=dtype)
        result[index] = g
        return result
    return dispatched_add_at(g, like, np.shape(like), index, dtype)


def dispatched_add_at(g, like, shape, index, dtype):
    """``np.add.at(zeros(shape), index, g)`` for arrays of another library, in operations
    Dask evaluates lazily: ``np.add.at`` where the library has it (CuPy), else the flat
    positions ``index`` reads (NumPy data: the index is a constant of the program) and a
    weighted ``np.bincount`` of ``g`` over them, so that repeated positions add up (Dask).
    The result is of ``g``'s (or ``like``'s) array type.  An index held in a dispatched
    array (a Dask mask, whose selection has an unknown size) is refused."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if is_dispatched_array(item):
            refuse_dispatched(item, "the gradient of an index held in an array of another "
                                    "library (x[mask] with a lazy mask) scatters the "
                                    "cotangent to positions known only once computed")
    carrier = g if is_dispatched_array(g) else like
    try:
        result = np.zeros_like(carrier, shape=shape, dtype=dtype)
        np.add.at(result, index, g)
        return result
    except (TypeError, NotImplementedError):    # Dask: no ufunc.at (nothing computed)
        pass
    size = int(np.prod(shape))
    positions = np.arange(size).reshape(shape)[index]
    weights = np.ravel(np.broadcast_to(g, np.shape(positions))
                       + np.zeros_like(carrier, shape=np.shape(positions)))
    flat = np.zeros_like(weights, dtype=np.intp) + np.ravel(positions)
    if np.dtype(dtype).kind == "c":
        summed = (np.bincount(flat, weights=np.real(weights), minlength=size)
                  + 1j * np.bincount(flat, weights=np.imag(weights), minlength=size))
    else:
        summed = np.bincount(flat, weights=weights, minlength=size)
    return np.reshape(summed.astype(dtype), shape)


def add_output_tangents(a, b):
    """The sum of two tangent contributions to a result of several outputs (``np.divmod``):
    output by output, where ``+`` would concatenate the tuples (a rule that returns a tuple
    only for some parameters, ``np.linspace(retstep=True)``, may give arrays: added)."""
    if isinstance(a, (tuple, list)):
        return tuple(x + y for x, y in zip(a, b))
    return a + b


def adjoint_copy(adjoint, like=None):
    """A copy of an adjoint that nothing else references (a list's: a new list, with zeros
    shaped like the entries of ``like`` for its ``None`` entries when ``like`` is given)."""
    if isinstance(adjoint, (list, tuple)):
        if like is not None:
            return SequenceAdjoint(zeros_for_none(adjoint, like))
        return SequenceAdjoint(adjoint)
    if isinstance(adjoint, dict):
        return MappingAdjoint(adjoint)
    return copy_value(adjoint)


def add_cotangents(a, g):
    """``a + g`` for two cotangents of one value, either of which may be None (zero)."""
    return g if a is None else a if g is None else a + g


def index_accumulate(adjoint, g, like, index):
    """``adjoint + index_adjoint(g, like, index)``, for the read ``like[index]``.

    For a list, ``g`` is added at ``index`` of ``adjoint`` itself (copied): in the reverse
    sweep the list's adjoint has the length the list had at the read, while ``like`` may
    already have been appended to or popped from.
    """
    if isinstance(index, str) and not isinstance(like, dict):
        return adjoint + field_adjoint(g, like, index)
    if isinstance(adjoint, list) and isinstance(like, (list, tuple)):
        result = SequenceAdjoint(adjoint)
        result[index] = g if result[index] is None else result[index] + g
        return result
    if isinstance(adjoint, dict) and isinstance(like, dict):
        result = MappingAdjoint(adjoint)
        mine = result.get(index)
        result[index] = g if mine is None else mine + g
        return result
    return adjoint + index_adjoint(g, like, index)


def adjoint_read(g, like, index):
    """``g[index]`` for the adjoint ``g`` of ``like`` read as ``like[index]``, or as the
    field ``like.index`` (a namedtuple's adjoint is a list: read at the field's position)."""
    if isinstance(index, str) and isinstance(like, tuple) and hasattr(like, "_fields"):
        return g[type(like)._fields.index(index)]
    return g[index]


def index_accumulate_tangent(t, shaped, like, index):
    """Tangent of ``index_accumulate(adjoint, g, like, index)`` for the tangent ``t`` of
    ``g``: ``t`` at ``index`` of an adjoint shaped like ``shaped`` (the accumulated adjoint:
    a list's may be shorter than ``like`` by then), or at the field ``index`` of ``like``."""
    if isinstance(index, str) and not isinstance(like, dict):
        return field_adjoint(t, like, index)
    return index_adjoint(t, shaped, index)


def field(x, name):
    """``x.name``: a field of a namedtuple or of a registered dataclass (a pytree node)."""
    return getattr(x, name)


def field_tangent(t, like, name):
    """``t.name`` for the tangent ``t`` of ``like``: a rule's tangent of a named result
    (``QRResult``, ``EighResult``) is a plain tuple, read at the field's position."""
    if isinstance(t, tuple) and not hasattr(t, "_fields") and hasattr(like, "_fields"):
        return t[type(like)._fields.index(name)]
    return getattr(t, name)


def field_adjoint(g, like, name):
    """Cotangent of ``like`` in ``like.name``: for a namedtuple a :class:`SequenceAdjoint`
    (zeros, ``g`` at the field), for a registered dataclass a :class:`MappingAdjoint`."""
    fields = getattr(type(like), "_fields", None)
    if isinstance(like, tuple) and fields is not None:
        result = SequenceAdjoint(zeros_like(item) for item in like)
        result[fields.index(name)] = g
        return result
    names = getattr(type(like), "__dataclass_fields__", None)
    if names is None or name not in names:
        raise TypeError(                       # plain: exported modules carry no s2s errors
            f"s2s differentiates reads of '.{name}' on namedtuples and on dataclasses "
            f"registered as pytree nodes, not on {type(like).__name__}")
    result = MappingAdjoint((key, zeros_like(getattr(like, key))) for key in names)
    result[name] = g
    return result


def dict_items(mapping):
    """``mapping.items()``."""
    return mapping.items()


def dict_values(mapping):
    """``mapping.values()``."""
    return mapping.values()


def dict_get(mapping, key, default=None):
    """``mapping.get(key, default)``."""
    return mapping.get(key, default)


def get_adjoint(g, mapping, key):
    """Cotangent of ``mapping`` in ``mapping.get(key, default)``: ``g`` at ``key`` if
    the key is there (else the default got it: zeros)."""
    return index_adjoint(g, mapping, key) if key in mapping else zeros_like(mapping)


def default_adjoint(g, mapping, key, default):
    """Cotangent of ``default`` in ``mapping.get(key, default)``."""
    return zeros_like(default) if key in mapping else g


def dict_keys(mapping):
    """``mapping.keys()``."""
    return mapping.keys()


def items_adjoint(g, mapping):
    """Cotangent of ``mapping`` in ``list(mapping.items())``: each pair's second entry."""
    return MappingAdjoint((key, None if pair is None else pair[1])
                          for key, pair in zip(mapping, g))


def pairs_adjoint(g, pairs):
    """Cotangent of ``pairs`` in ``dict(pairs)``: ``(None, g[key])`` for the pair that set
    each key (the last one with that key), zeros for the values a later pair overwrote or
    that ``g`` does not hold."""
    last = {key: position for position, (key, _) in enumerate(pairs)}
    g = g or {}

    def value_adjoint(position, key, value):
        cotangent = g.get(key) if last[key] == position else None
        return zeros_like(value) if cotangent is None else cotangent

    return SequenceAdjoint(SequenceAdjoint((None, value_adjoint(position, key, value)))
                           for position, (key, value) in enumerate(pairs))


def pairs_mapping(t, pairs):
    """Tangent of ``dict(pairs)`` given the tangent ``t`` of ``pairs``: key by key."""
    return MappingAdjoint((key, None if pair is None else pair[1])
                          for (key, _), pair in zip(pairs, t or [None] * len(pairs)))


def values_adjoint(g, mapping):
    """Cotangent of ``mapping`` in ``list(mapping.values())``."""
    return MappingAdjoint(zip(mapping, g))


# --- helpers of the coverage rules (reductions, shapes, sequences, linear algebra) -------


def _float_dtype(*values):
    """The floating dtype results about ``values`` are computed in (float64 for integers)."""
    dtype = np.result_type(*values)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _axes(axis, ndim):
    """``axis`` (None, an int or a sequence of ints) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(item % ndim for item in axis)
    return (axis % ndim,)


def split_evenly(mask, like, axis=None):
    """Weights sharing one unit evenly among the True entries of ``mask`` along ``axis``.

    Used where a cotangent is split among tied elements (``max``, inf-norms); the
    weights have the float dtype of ``like`` (the reduced array).
    """
    weights = as_array(mask).astype(_float_dtype(like))
    return weights / np.sum(weights, axis=axis, keepdims=True)


def product_of_others(x, axis=None):
    """For each element of ``x``, the product of the other elements reduced with it.

    This is the derivative of ``np.prod(x, axis)``.  Prefix and suffix products are used
    instead of ``prod / x``, so zeros in ``x`` are handled exactly.
    """
    x = as_array(x)
    axes = _axes(axis, x.ndim)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = np.moveaxis(x, axes, last)
    flat = moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))
    ones = np.ones_like(flat[..., :1])
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    reverse = np.flip(flat, axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, reverse[..., :-1]], axis=-1), axis=-1),
                    axis=-1)
    return np.moveaxis((before * after).reshape(moved.shape), last, axes)


def _along_first(values, axis, shape):
    """``values`` (of ``shape``) with ``axis`` moved first; flattened if ``axis`` is None."""
    values = np.broadcast_to(values, shape)
    return np.ravel(values) if axis is None else np.moveaxis(values, axis, 0)


def cumprod_adjoint(g, x, axis=None):
    """Cotangent of ``x`` in ``np.cumprod(x, axis)``, exact where ``x`` holds zeros.

    Runs ``s[i] = g[i] + x[i+1] * s[i+1]`` backwards along the axis, then multiplies by
    the exclusive prefix products (no division by ``x``).
    """
    shape = np.shape(x)
    g_out = np.shape(g)
    x = _along_first(x, axis, shape)
    g = _along_first(g, axis, g_out)
    if (is_dispatched_array(g) or is_dispatched_array(x)) and x.shape[0]:
        return _dispatched_cumprod_adjoint(g, x, axis, shape)
    s = np.zeros(x.shape, dtype=_float_dtype(g, x))
    if x.shape[0]:
        s[-1] = g[-1]
    for i in range(x.shape[0] - 2, -1, -1):
        s[i] = g[i] + x[i + 1] * s[i + 1]
    prefix = np.concatenate([np.ones_like(x[:1]), np.cumprod(x[:-1], axis=0)], axis=0)
    result = prefix * s
    return result.reshape(shape) if axis is None else np.moveaxis(result, 0, axis)


def _dispatched_cumprod_adjoint(g, x, axis, shape):
    """:func:`cumprod_adjoint` for arrays of another library (no writes into an array): the
    recurrence's terms stacked, the axis moved first in ``g`` and ``x``."""
    terms = [g[-1]]
    for i in range(x.shape[0] - 2, -1, -1):
        terms.append(g[i] + x[i + 1] * terms[-1])
    s = np.stack(terms[::-1], axis=0)
    prefix = np.concatenate([np.ones_like(x[:1]), np.cumprod(x[:-1], axis=0)], axis=0)
    result = prefix * s
    return result.reshape(shape) if axis is None else np.moveaxis(result, 0, axis)


def cumprod_tangent(t, x, axis=None):
    """Tangent of ``np.cumprod(x, axis)`` for the tangent ``t`` of ``x`` (zeros exact).

    Runs ``d[i] = d[i-1] * x[i] + prod(x[:i]) * t[i]`` forwards along the axis.
    """
    shape = np.shape(x)
    x = _along_first(x, axis, shape)
    t = _along_first(t, axis, shape)
    d = np.zeros(x.shape, dtype=_float_dtype(t, x))
    products = np.cumprod(x, axis=0)
    if x.shape[0]:
        d[0] = t[0]
    for i in range(1, x.shape[0]):
        d[i] = d[i - 1] * x[i] + products[i - 1] * t[i]
    return d if axis is None else np.moveaxis(d, 0, axis)


def _unit(x):
    """``sign(x)``, and ``conj(x) / |x|`` (0 at 0) for complex ``x``: the cotangent of ``x``
    in ``|x|`` per unit cotangent (the registry's convention for complex values)."""
    if np.iscomplexobj(x):
        magnitude = np.abs(x)
        return np.conj(x) / np.where(magnitude == 0, 1.0, magnitude)
    return np.sign(x)


def _matrix_norm_derivative(x, ans, ord, rows, cols):
    """d norm / dx for the matrix norms 1, -1, inf, -inf, 2, -2 and 'nuc' (``ans`` kept);
    the conjugate for complex ``x`` (the registry's convention)."""
    if ord in (1, -1, np.inf, -np.inf):
        summed, chosen = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        return _unit(x) * split_evenly(sums == ans, x, axis=chosen)
    if ord not in (2, -2, "nuc"):
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    moved = np.moveaxis(x, (rows, cols), (-2, -1))
    u, s, vh = np.linalg.svd(moved, full_matrices=False)
    if ord == "nuc":
        derivative = u @ vh
    else:
        extreme = s[..., :1] if ord == 2 else s[..., -1:]
        weights = split_evenly(s == extreme, s, axis=-1)
        derivative = (u * weights[..., None, :]) @ vh
    return np.moveaxis(np.conj(derivative), (-2, -1), (rows, cols))


def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
    """Cotangent of ``x`` in ``np.linalg.norm(x, ord, axis, keepdims)``.

    Vector norms (``ord`` None, 2, 1, inf, -inf, 0 or any other real p, over all axes of
    a vector or over one axis) and matrix norms (None, 'fro', 'nuc', 1, -1, 2, -2, inf,
    -inf, on a 2-D ``x`` or over a pair of axes).  Ties (inf-norms, equal extreme
    singular values) share the cotangent evenly; at ``x == 0`` the subgradient 0 is used
    for every ``ord``.  For complex ``x`` the norm is of ``|x|``: the cotangent is
    ``Re(g)`` times the conjugate of the derivative (the registry's convention).
    """
    x = as_array(x)
    g = np.real(g)
    matrix = (axis is None and x.ndim == 2 and ord is not None
              or isinstance(axis, (tuple, list)) and len(axis) == 2)
    axes = _axes(axis, x.ndim)
    if axis is not None and not keepdims or axis is None and not keepdims and matrix:
        g = np.expand_dims(g, axes)
        ans = np.expand_dims(ans, axes)
    safe = np.where(ans == 0, 1.0, ans)
    if ord in (None, "fro") or ord == 2 and not matrix:
        return g * np.conj(x) / safe
    if matrix:
        rows, cols = axes if axis is not None else (0, 1)
        return g * _matrix_norm_derivative(x, ans, ord, rows, cols) * (ans != 0)
    if ord in (np.inf, -np.inf):
        return g * _unit(x) * split_evenly(np.abs(x) == ans, x, axis=axis)
    if ord == 0:
        return np.zeros(np.broadcast_shapes(np.shape(g), x.shape), dtype=_float_dtype(g, x))
    if ord == 1:
        return g * _unit(x)
    magnitude = np.abs(x)
    ratio = np.where(magnitude > 0, magnitude / safe, 1.0)
    return g * _unit(x) * ratio ** (ord - 1)


def tile_adjoint(g, x, reps):
    """Cotangent of ``x`` in ``np.tile(x, reps)``: the tiles of ``g`` summed."""
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    full_shape = (1,) * (ndim - len(shape)) + tuple(shape)
    full_reps = (1,) * (ndim - len(reps)) + reps
    interleaved = [size for pair in zip(full_reps, full_shape) for size in pair]
    summed = np.sum(np.reshape(g, interleaved), axis=tuple(range(0, 2 * ndim, 2)))
    return np.reshape(summed, shape)


def repeat_adjoint(g, x, repeats, axis=None):
    """Cotangent of ``x`` in ``np.repeat(x, repeats, axis)``: each run of copies summed."""
    shape = np.shape(x)
    size = int(np.prod(shape)) if axis is None else shape[axis]
    owners = np.repeat(np.arange(size), repeats)
    g = np.ravel(g) if axis is None else np.moveaxis(g, axis, 0)
    if is_dispatched_array(g):
        result = dispatched_add_at(g, g, (size,) + g.shape[1:], owners, _float_dtype(g))
    else:
        result = np.zeros((size,) + g.shape[1:], dtype=_float_dtype(g))
        np.add.at(result, owners, g)
    return np.reshape(result, shape) if axis is None else np.moveaxis(result, 0, axis)


def diagonal_adjoint(g, x, offset=0, axis1=0, axis2=1):
    """Cotangent of ``x`` in ``np.diagonal(x, offset, axis1, axis2)``: ``g`` on a diagonal."""
    shape = np.shape(x)
    if is_dispatched_array(g) or is_dispatched_array(x):
        return _dispatched_diagonal_adjoint(g, x, offset, axis1, axis2)
    result = np.zeros(shape, dtype=_float_dtype(g, x))
    moved = np.moveaxis(result, (axis1, axis2), (-2, -1))      # a view into result
    count = np.shape(g)[-1] if np.ndim(g) else 0
    index = np.arange(count)
    moved[..., index + max(-offset, 0), index + max(offset, 0)] = g
    return result


def _dispatched_diagonal_adjoint(g, x, offset, axis1, axis2):
    """:func:`diagonal_adjoint` for arrays of another library (no writes into a view):
    ``g`` times a NumPy 0/1 array placing entry ``c`` of the diagonal at its position."""
    shape = np.shape(x)
    rows, columns = shape[axis1], shape[axis2]
    count = np.shape(g)[-1] if np.ndim(g) else 0
    index = np.arange(count)
    placement = np.zeros((count, rows, columns), dtype=_float_dtype(g, x))
    placement[index, index + max(-offset, 0), index + max(offset, 0)] = 1.0
    placed = np.sum(np.expand_dims(g, (-1, -2)) * placement, axis=-3)
    placed = placed + np.zeros_like(x, shape=(), dtype=placed.dtype)
    ndim = len(shape)
    return np.moveaxis(placed, (ndim - 2, ndim - 1), (axis1 % ndim, axis2 % ndim))


def diag_adjoint(g, x, k=0):
    """Cotangent of ``x`` in ``np.diag(x, k)`` (a vector placed on, or read off, a diagonal)."""
    if np.ndim(x) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_adjoint(g, x, k)


def zeros_for_none(values, likes):
    """``values`` as a list, each None replaced by zeros shaped like the matching ``like``."""
    return [zeros_like(np.asarray(like)) if value is None else value
            for value, like in zip(values, likes)]


def array_adjoint(g, x):
    """Cotangent of ``x`` in ``np.array(x)``: ``g`` itself, or for a (nested) list or tuple
    of values, a :class:`SequenceAdjoint` holding the matching slices of ``g``."""
    if isinstance(x, (list, tuple)):
        if isinstance(g, np.ndarray) and not any(isinstance(item, (list, tuple)) for item in x):
            return SequenceAdjoint(list(g))         # one row (or number) of g per entry
        return SequenceAdjoint(array_adjoint(g[index], item) for index, item in enumerate(x))
    return g


def stack_rows(rows, like):
    """``np.array(rows)`` for a list of entries (rows of ``like``, or nested lists of them)
    of which some are arrays of another library: stacked with ``np.stack``, which keeps
    their type (``np.array`` would compute a Dask array), ``None`` entries as zeros."""
    entries = []
    for index, row in enumerate(rows):
        if isinstance(row, (list, tuple)):
            row = stack_rows(row, like[index])
        entries.append(row)
    template = next((entry for entry in entries if entry is not None), None)
    if template is None:
        return zeros_like(like)
    entries = [np.zeros_like(template) if entry is None else entry for entry in entries]
    return np.stack([entry + np.zeros_like(template) for entry in entries], axis=0)


def array_tangent(t, x):
    """Tangent of ``np.array(x)``: a copy of ``t``, or for a (nested) list or tuple ``x`` the
    array built from the entries' tangents (``None`` standing for zeros)."""
    if isinstance(x, (list, tuple)):
        if t is None:
            t = [None] * len(x)
        entries = [array_tangent(entry, item) for entry, item in zip(t, x)]
        if any(is_dispatched_array(entry) for entry in entries):
            return stack_rows(entries, x)
        return np.array(entries)
    if is_dispatched_array(x) or is_dispatched_array(t):
        return zeros_like(x) if t is None else copy_value(t)
    return zeros_like(np.asarray(x)) if t is None else np.copy(t)


def _cut(g, promoted, originals, axis):
    """Split ``g`` along ``axis`` into pieces of the ``promoted`` shapes; reshape each."""
    bounds = np.cumsum([shape[axis] for shape in promoted])[:-1]
    if is_dispatched_array(g):                  # Dask computes np.split: slices instead
        starts, ends = [0, *bounds], [*bounds, np.shape(g)[axis]]
        pieces = [g[(slice(None),) * (axis % np.ndim(g)) + (slice(int(a), int(b)),)]
                  for a, b in zip(starts, ends)]
    else:
        pieces = np.split(g, bounds, axis=axis)
    return SequenceAdjoint(np.reshape(piece, np.shape(original))
                           for piece, original in zip(pieces, originals))


def concatenate_adjoint(g, xs, axis=0):
    """Cotangents of the arrays in ``np.concatenate(xs, axis)``: a SequenceAdjoint (a list)."""
    if axis is None:
        return _cut(np.ravel(g), [(np.size(x),) for x in xs], xs, 0)
    return _cut(g, [np.shape(x) for x in xs], xs, axis)


def stack_adjoint(g, xs, axis=0):
    """Cotangents (a list) of the arrays in ``np.stack(xs, axis)``."""
    return SequenceAdjoint(np.take(g, index, axis=axis) for index in range(len(xs)))


def hstack_adjoint(g, xs):
    """Cotangents (a list) of the arrays in ``np.hstack(xs)``."""
    promoted = [np.shape(np.atleast_1d(x)) for x in xs]
    return _cut(g, promoted, xs, 0 if len(promoted[0]) == 1 else 1)


def vstack_adjoint(g, xs):
    """Cotangents (a list) of the arrays in ``np.vstack(xs)``."""
    return _cut(g, [np.shape(np.atleast_2d(x)) for x in xs], xs, 0)


def dstack_adjoint(g, xs):
    """Cotangents (a list) of the arrays in ``np.dstack(xs)``."""
    return _cut(g, [np.shape(np.atleast_3d(x)) for x in xs], xs, 2)


def column_stack_adjoint(g, xs):
    """Cotangents (a list) of the arrays in ``np.column_stack(xs)``."""
    promoted = [np.shape(x) if np.ndim(x) >= 2 else (np.size(x), 1) for x in xs]
    return _cut(g, promoted, xs, 1)


def take_adjoint(g, x, indices, axis=None, mode="raise"):
    """Cotangent of ``x`` in ``np.take(x, indices, axis, mode=mode)``; repeats add up."""
    shape = np.shape(x)
    size = int(np.prod(shape)) if axis is None else shape[axis]
    indices = np.asarray(indices)
    if mode == "wrap":
        indices = indices % size
    elif mode == "clip":
        indices = np.clip(indices, 0, size - 1)
    if is_dispatched_array(g) or is_dispatched_array(x):
        if axis is None:
            return np.reshape(dispatched_add_at(g, g, (size,), indices, _float_dtype(g, x)),
                              shape)
        return dispatched_add_at(g, g, shape, (slice(None),) * (axis % len(shape)) + (indices,),
                                 _float_dtype(g, x))
    if axis is None:
        result = np.zeros(size, dtype=_float_dtype(g, x))
        np.add.at(result, indices, g)
        return np.reshape(result, shape)
    result = np.zeros(shape, dtype=_float_dtype(g, x))
    np.add.at(result, (slice(None),) * (axis % len(shape)) + (indices,), g)
    return result


def take_along_axis_adjoint(g, x, indices, axis=-1):
    """Cotangent of ``x`` in ``np.take_along_axis(x, indices, axis)``; repeats add up."""
    shape = np.shape(x)
    if axis is None:
        return np.reshape(take_along_axis_adjoint(g, np.ravel(x), np.ravel(indices), 0), shape)
    g = g if is_dispatched_array(g) else np.asarray(g)
    axis %= g.ndim
    index = []
    for dimension, size in enumerate(g.shape):
        if dimension == axis:
            index.append(np.broadcast_to(indices, g.shape))
        else:
            index.append(np.arange(size).reshape((-1,) + (1,) * (g.ndim - dimension - 1)))
    if is_dispatched_array(g):
        return dispatched_add_at(g, g, shape, tuple(index), _float_dtype(g, x))
    result = np.zeros(shape, dtype=_float_dtype(g, x))
    np.add.at(result, tuple(index), g)
    return result


# --- einsum and the products written as einsum ------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_parts(subscripts, operands):
    """Input subscripts (ellipses as letters), the explicit output, and the unused letters."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    inputs = inputs.split(",")
    free = [letter for letter in _LETTERS if letter not in spec]
    widths = [np.ndim(operand) - len(term.replace("...", "")) for term, operand
              in zip(inputs, operands) if "..." in term]
    ellipsis = "".join(free[:max(widths, default=0)])
    free = free[len(ellipsis):]
    expanded = []
    for term, operand in zip(inputs, operands):
        width = np.ndim(operand) - len(term.replace("...", ""))
        expanded.append(term.replace("...", ellipsis[len(ellipsis) - width:]))
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(inputs).replace("...", "").replace(".", "")
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return expanded, output, free


def einsum_adjoint(g, subscripts, operands, which):
    """Cotangent of ``operands[which]`` in ``np.einsum(subscripts, *operands)``.

    One einsum of ``g`` with the other operands; an identity matrix restores each
    repeated index (a diagonal) and a vector of ones each index summed in that operand
    only.  Size-1 broadcasting is undone at the end.
    """
    inputs, output, free = _einsum_parts(subscripts, operands)
    target = inputs[which]
    shape = np.shape(operands[which])
    dtype = _float_dtype(g, *operands)
    terms, arrays = [output], [g]
    for index, (term, operand) in enumerate(zip(inputs, operands)):
        if index != which:
            terms.append(term)
            arrays.append(operand)
    present = set("".join(terms))
    result = ""
    for position, letter in enumerate(target):
        if letter in result:                       # x[i, i]: a diagonal of the operand
            fresh = free.pop(0)
            terms.append(letter + fresh)
            arrays.append(np.eye(shape[position], dtype=dtype))
            result += fresh
            continue
        if letter not in present:                  # summed inside this operand only
            terms.append(letter)
            arrays.append(np.ones(shape[position], dtype=dtype))
        result += letter
    gradient = np.einsum(",".join(terms) + "->" + result, *arrays)
    return unbroadcast(gradient, operands[which])


def _einsum_call(arguments):
    """The subscripts string, the operands and their argument positions of an einsum call.

    ``arguments`` are ``np.einsum``'s positional arguments in either calling form:
    ``(subscripts, op0, op1, ...)`` or ``(op0, sublist0, op1, sublist1, ..., [output])``.
    A sublist's integers become letters and ``Ellipsis`` becomes ``...``; the sublist
    form's implicit output (indices used once, in increasing order) is made explicit.
    """
    if isinstance(arguments[0], str):
        return arguments[0], tuple(arguments[1:]), tuple(range(1, len(arguments)))
    pairs = len(arguments) // 2
    operands = tuple(arguments[0:2 * pairs:2])
    sublists = [list(arguments[2 * position + 1]) for position in range(pairs)]
    if len(arguments) % 2:
        output = list(arguments[-1])
    else:
        used = [item for sublist in sublists for item in sublist if item is not Ellipsis]
        output = [Ellipsis] if any(Ellipsis in sublist for sublist in sublists) else []
        output += sorted(item for item in set(used) if used.count(item) == 1)

    def term(sublist):
        return "".join("..." if item is Ellipsis else _LETTERS[item] for item in sublist)

    subscripts = ",".join(term(sublist) for sublist in sublists) + "->" + term(output)
    return subscripts, operands, tuple(range(0, 2 * pairs, 2))


def einsum_argument_adjoint(g, arguments, position):
    """Cotangent of ``arguments[position]`` in ``np.einsum(*arguments)`` (either form)."""
    subscripts, operands, positions = _einsum_call(arguments)
    return einsum_adjoint(g, subscripts, operands, positions.index(position))


def einsum_argument_tangent(t, arguments, position):
    """``np.einsum(*arguments)`` with ``arguments[position]`` replaced by its tangent."""
    return np.einsum(*_replaced(arguments, position, t))


def _replaced(arguments, position, value):
    """``arguments`` as a list, with ``value`` at ``position``."""
    varied = list(arguments)
    varied[position] = value
    return varied


def einsum_adjoint_tangent(g, arguments, tangents, position):
    """Tangent of ``einsum_argument_adjoint(g, arguments, position)`` for the tangents of
    ``arguments`` (None for a zero or a subscript).  The helper is linear in each other
    operand; the operand at ``position`` gives only its shape."""
    _, _, positions = _einsum_call(arguments)
    result = zeros_like(np.asarray(arguments[position]))
    for k in positions:
        if k != position and tangents is not None and tangents[k] is not None:
            result = result + einsum_argument_adjoint(g, _replaced(arguments, k, tangents[k]),
                                                      position)
    return result


def einsum_adjoint_cotangents(h, g, arguments, position):
    """Cotangents of the ``arguments`` of ``einsum_argument_adjoint(g, arguments, position)``
    for its cotangent ``h``: as ``<h, adjoint> = <g, einsum(arguments with h at position)>``,
    operand ``k`` gets ``einsum_argument_adjoint(g, arguments with h at position, k)``; the
    operand at ``position`` gets zeros, subscripts None (a :class:`SequenceAdjoint`)."""
    _, _, positions = _einsum_call(arguments)
    replaced = _replaced(arguments, position, h)
    return SequenceAdjoint(
        None if k not in positions
        else zeros_like(np.asarray(arguments[k])) if k == position
        else einsum_argument_adjoint(g, replaced, k)
        for k in range(len(arguments)))


def tensordot_subscripts(a_ndim, b_ndim, axes=2):
    """The einsum subscripts of ``np.tensordot`` for operands of these ranks."""
    if np.ndim(axes) == 0:
        a_axes, b_axes = list(range(a_ndim - axes, a_ndim)), list(range(axes))
    else:
        a_axes, b_axes = ([item] if np.ndim(item) == 0 else list(item) for item in axes)
    a_axes = [item % a_ndim for item in a_axes]
    b_axes = [item % b_ndim for item in b_axes]
    a_term = _LETTERS[:a_ndim]
    fresh = iter(_LETTERS[a_ndim:])
    b_term = "".join(a_term[a_axes[b_axes.index(i)]] if i in b_axes else next(fresh)
                     for i in range(b_ndim))
    output = "".join(a_term[i] for i in range(a_ndim) if i not in a_axes) \
        + "".join(b_term[i] for i in range(b_ndim) if i not in b_axes)
    return f"{a_term},{b_term}->{output}"


def tensordot_adjoint(g, a, b, axes, which):
    """Cotangent of operand ``which`` (0 or 1) in ``np.tensordot(a, b, axes)``."""
    subscripts = tensordot_subscripts(np.ndim(a), np.ndim(b), axes)
    return einsum_adjoint(g, subscripts, (a, b), which)


def dot_adjoint(g, a, b, which):
    """Cotangent of operand ``which`` (0 or 1) in ``np.dot(a, b)``."""
    if np.ndim(b) <= 2 or np.ndim(a) == 0:
        return matmul_adjoint_x(g, a, b) if which == 0 else matmul_adjoint_y(g, a, b)
    return tensordot_adjoint(g, a, b, ([-1], [-2]), which)


def inner_adjoint(g, a, b, which):
    """Cotangent of operand ``which`` (0 or 1) in ``np.inner(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * (b if which == 0 else a), a if which == 0 else b)
    return tensordot_adjoint(g, a, b, (-1, -1), which)


# --- linear algebra -----------------------------------------------------------------------


def _transpose(x):
    return np.swapaxes(x, -1, -2)


def _solves_vector(ans, a):
    """Whether ``np.linalg.solve(a, b)`` treated ``b`` as a (stack of) vector(s)."""
    return np.ndim(ans) == np.ndim(a) - 1


def solve_adjoint_b(g, ans, a, b):
    """Cotangent of ``b`` in ``ans = np.linalg.solve(a, b)``: a solve with ``a``'s transpose."""
    if _solves_vector(ans, a):
        return unbroadcast(np.linalg.solve(_transpose(a), g[..., None])[..., 0], b)
    return unbroadcast(np.linalg.solve(_transpose(a), g), b)


def solve_adjoint_a(g, ans, a, b):
    """Cotangent of ``a`` in ``ans = np.linalg.solve(a, b)``: ``-solve(a.T, g) @ ans.T``."""
    if _solves_vector(ans, a):
        gb = np.linalg.solve(_transpose(a), g[..., None])
        return unbroadcast(-gb * ans[..., None, :], a)
    gb = np.linalg.solve(_transpose(a), g)
    return unbroadcast(-gb @ _transpose(ans), a)


def solve_tangent_a(t, ans, a):
    """Tangent of ``np.linalg.solve(a, b)`` for the tangent ``t`` of ``a``."""
    if _solves_vector(ans, a):
        return -np.linalg.solve(a, (t @ ans[..., None]))[..., 0]
    return -np.linalg.solve(a, t @ ans)


def adjugate(x):
    """The adjugate of a (stack of) square matrices: ``det(x) * inv(x)``, also if singular.

    Computed from the SVD ``x = u s vh`` as ``det(u) det(vh) vh^H diag(p) u^H`` where
    ``p[i]`` is the product of the singular values other than ``s[i]`` (``^H``: the
    conjugate transpose, the transpose for real ``x``).
    """
    x = np.asarray(x)
    u, s, vh = np.linalg.svd(x)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    others = product_of_others(s, axis=-1)
    return (sign[..., None, None] * np.conj(_transpose(vh)) * others[..., None, :]) \
        @ np.conj(_transpose(u))


def logdet_adjoint(g, x):
    """Cotangent of ``x`` for the cotangent ``g`` of ``log|det x|`` (None: zero)."""
    if g is None:
        return zeros_like(np.asarray(x))
    return np.expand_dims(g, (-2, -1)) * _transpose(np.linalg.inv(x))


def _read_triangle(s, lower):
    """The cotangent of an input only one triangle of which is read (as a symmetric matrix).

    ``s`` is the cotangent of the symmetric matrix the function sees; the entries off the
    diagonal of the read triangle stand for two entries of it.
    """
    both = s + _transpose(s)
    triangle = np.tril(both) if lower else np.triu(both)
    return triangle - s * np.eye(s.shape[-1], dtype=s.dtype)


def _symmetric_tangent(t, lower):
    """The tangent of the symmetric matrix seen by a function reading one triangle of ``t``."""
    if lower:
        return np.tril(t) + _transpose(np.tril(t, -1))
    return np.triu(t) + _transpose(np.triu(t, 1))


def _phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - 0.5 * x * np.eye(x.shape[-1], dtype=x.dtype)


def cholesky_adjoint(g, ans, upper=False):
    """Cotangent of ``a`` in ``ans = np.linalg.cholesky(a, upper=upper)``.

    NumPy reads one triangle of ``a`` (the lower one, the upper one if ``upper``); the
    cotangent is the exact derivative of that function, so it lives on that triangle.
    """
    lower_factor = _transpose(ans) if upper else ans
    g = _transpose(g) if upper else g
    lt = _transpose(lower_factor)
    middle = np.linalg.solve(lt, _phi(lt @ g))                  # L^-T phi(L^T g)
    s = _transpose(np.linalg.solve(lt, _transpose(middle)))      # ... L^-1
    return _read_triangle(s, lower=not upper)


def cholesky_tangent(t, ans, upper=False):
    """Tangent of ``np.linalg.cholesky(a, upper=upper)`` for the tangent ``t`` of ``a``."""
    lower_factor = _transpose(ans) if upper else ans
    dt = _symmetric_tangent(t, lower=not upper)
    inner = np.linalg.solve(lower_factor, _transpose(np.linalg.solve(lower_factor, dt)))
    tangent = lower_factor @ _phi(inner)
    return _transpose(tangent) if upper else tangent


def _gaps(w):
    """``1 / (w[j] - w[i])`` off the diagonal, 0 on it and wherever ``w[i] == w[j]``."""
    gaps = w[..., None, :] - w[..., :, None]
    return np.where(gaps == 0, 0.0, 1.0 / np.where(gaps == 0, 1.0, gaps))


def _ties(w):
    """``w[..., i] == w[..., j]`` for ``i != j``: the pairs of equal eigenvalues (or
    singular values) along the last axis."""
    equal = w[..., None, :] == w[..., :, None]
    return equal & ~np.eye(w.shape[-1], dtype=bool)


def _tied_columns(w):
    """``(..., 1, n)``: True in the columns of eigenvectors (singular vectors) whose
    eigenvalue (singular value) equals another one."""
    return np.any(_ties(w), axis=-2, keepdims=True)


def _shared(g, w):
    """``g`` (cotangents or tangents of the eigenvalues ``w``) shared evenly among equal
    eigenvalues: at a repeated eigenvalue only the mean of the equal ones is differentiable
    (their sum, and every symmetric function of them)."""
    equal = w[..., None, :] == w[..., :, None]
    counts = np.sum(np.where(equal, np.ones_like(g)[..., None, :], 0.0), axis=-1)  # g's dtype
    return np.sum(np.where(equal, g[..., None, :], 0.0), axis=-1) / counts


def eigh_adjoint(g, ans, UPLO="L"):  # noqa: N803  (NumPy's name)
    """Cotangent of ``a`` in ``w, v = np.linalg.eigh(a, UPLO)`` for ``g = (gw, gv)``.

    ``s = v (diag(gw) + F * (v.T gv)) v.T`` with ``F[i, j] = 1 / (w[j] - w[i])`` (Giles,
    "An extended collection of matrix derivative results for forward and reverse mode
    algorithmic differentiation", 2008, section 3.1), read back onto the triangle NumPy
    reads.  Equal eigenvalues share their cotangents evenly (only their mean is
    differentiable); their eigenvectors have no derivative (a perturbation turns them by
    a finite angle in their eigenspace), so a nonzero ``gv`` on one of them raises
    :class:`RuleDomainError`, even where ``v.T gv`` does not couple equal eigenvalues
    (``sum(v[:, 0] ** 3)`` at ``diag(1, 1, 2)``) or the loss does not depend on the basis
    of the eigenspace (the limit of ``F * (v.T gv)`` there is not read from ``gv``).
    """
    w, v = ans
    gw, gv = g
    inner = np.zeros(v.shape, dtype=_float_dtype(v))
    if gw is not None:
        inner = inner + _shared(gw, w)[..., None] * np.eye(w.shape[-1], dtype=inner.dtype)
    if gv is not None:
        projected = _transpose(v) @ gv
        if np.any(np.where(_tied_columns(w), gv, 0.0) != 0):
            raise RuleDomainError(
                "s2s: the eigenvectors of np.linalg.eigh have no derivative where "
                "eigenvalues are equal, and the loss depends on them there")
        inner = inner + _gaps(w) * projected
    return _read_triangle(v @ inner @ _transpose(v), lower=UPLO == "L")


def eigh_tangent(t, ans, UPLO="L"):  # noqa: N803
    """Tangents ``(dw, dv)`` of ``np.linalg.eigh(a, UPLO)`` for the tangent ``t`` of ``a``.

    Equal eigenvalues share their tangents evenly; where ``t`` moves their eigenspace the
    eigenvectors have no derivative: their tangent is NaN there, as ``scipy.linalg.eigh``'s
    (a function of the eigenvalues only is unaffected)."""
    w, v = ans
    projected = _transpose(v) @ _symmetric_tangent(t, lower=UPLO == "L") @ v
    dw = _shared(np.diagonal(projected, axis1=-2, axis2=-1), w)
    # a tangent touching the eigenspace of equal eigenvalues turns their eigenvectors by an
    # angle its second-order terms decide: NaN in their columns
    touched = np.any(np.where(_tied_columns(w), projected, 0.0) != 0, axis=-2, keepdims=True)
    dv = v @ (_gaps(w) * projected)
    return dw, np.where(touched & _tied_columns(w), np.nan, dv)


def _svd_factors(ans, a, full_matrices, compute_uv):
    """``u, s, vh`` of the reduced SVD behind a call of ``np.linalg.svd``."""
    shape = np.shape(a)
    if full_matrices and compute_uv and shape[-1] != shape[-2]:
        raise RuleDomainError(
            "s2s: the derivative of np.linalg.svd with full_matrices=True is defined only "
            "for square matrices (the extra singular vectors are not unique); pass "
            "full_matrices=False")
    if compute_uv:
        return ans
    return np.linalg.svd(a, full_matrices=False)


def svd_adjoint(g, ans, a, full_matrices=True, compute_uv=True):
    """Cotangent of ``a`` in ``np.linalg.svd(a, full_matrices, compute_uv)`` (real ``a``).

    ``g`` is ``(gu, gs, gvh)`` (entries None for zero), or ``gs`` alone if not
    ``compute_uv`` (Townsend, "Differentiating the singular value decomposition", 2016).
    Equal singular values share their cotangents evenly; a nonzero cotangent of their
    singular vectors (as for ``eigh_adjoint``), or one outside the span of the vectors of a
    zero singular value, raises :class:`RuleDomainError`: the singular vectors have no
    derivative there.
    """
    u, s, vh = _svd_factors(ans, a, full_matrices, compute_uv)
    gu, gs, gvh = g if compute_uv else (None, g, None)
    v = _transpose(vh)
    k = s.shape[-1]
    eye = np.eye(k, dtype=_float_dtype(s))
    middle = np.zeros(s.shape + (k,), dtype=eye.dtype)
    result = 0.0
    inverse = np.where(s == 0, 0.0, 1.0 / np.where(s == 0, 1.0, s))
    gaps = _gaps(s * s)
    # where equal singular values are coupled (or a zero one's vector moved outside the
    # span) by gu or gvh, the singular vectors have no derivative: refused
    tied = _tied_columns(s)
    zero = s[..., None, :] == 0
    undefined = False
    if gu is not None:
        undefined = np.any(np.where(tied, gu, 0.0) != 0) \
            or np.any(np.where(zero, gu - u @ (_transpose(u) @ gu), 0.0) != 0)
    if gvh is not None:
        gv = _transpose(gvh)
        undefined = undefined or np.any(np.where(tied, gv, 0.0) != 0) \
            or np.any(np.where(zero, gv - v @ (vh @ gv), 0.0) != 0)
    if undefined:
        raise RuleDomainError(
            "s2s: the singular vectors of np.linalg.svd have no derivative where singular "
            "values are equal (or zero, for the part outside their span), and the loss "
            "depends on them there")
    if gs is not None:
        gs = _shared(gs, s)
    if gs is not None:
        middle = middle + gs[..., None] * eye
    if gu is not None:
        ut_gu = _transpose(u) @ gu
        middle = middle + (gaps * (ut_gu - _transpose(ut_gu))) * s[..., None, :]
        outside = gu - u @ ut_gu                                  # (I - u u.T) gu
        result = result + (outside * inverse[..., None, :]) @ vh
    if gvh is not None:
        gv = _transpose(gvh)
        vt_gv = vh @ gv
        middle = middle + s[..., :, None] * (gaps * (vt_gv - _transpose(vt_gv)))
        outside = gv - v @ vt_gv                                  # (I - v v.T) gv
        result = result + (u * inverse[..., None, :]) @ _transpose(outside)
    return u @ middle @ vh + result


def svd_tangent(t, ans, a, full_matrices=True, compute_uv=True):
    """Tangents ``(du, ds, dvh)`` (``ds`` alone if not ``compute_uv``) of ``np.linalg.svd``."""
    u, s, vh = _svd_factors(ans, a, full_matrices, compute_uv)
    v = _transpose(vh)
    projected = _transpose(u) @ t @ v
    ds = _shared(np.diagonal(projected, axis1=-2, axis2=-1), s)
    if not compute_uv:
        return ds
    inverse = np.where(s == 0, 0.0, 1.0 / np.where(s == 0, 1.0, s))
    gaps = _gaps(s * s)
    ps = projected * s[..., None, :]                              # dP S
    sp = s[..., :, None] * projected                              # S dP
    # where t couples equal singular values (or moves a zero one out of the span) the
    # singular vectors have no derivative: NaN there, as eigh_tangent's
    tied = _tied_columns(s)
    touched = tied & (np.any(np.where(tied, projected, 0.0) != 0, axis=-2, keepdims=True)
                      | np.any(np.where(tied, _transpose(projected), 0.0) != 0, axis=-2,
                               keepdims=True))
    outside_u = (t @ v) - u @ projected
    outside_v = (_transpose(t) @ u) - v @ _transpose(projected)
    du = u @ (gaps * (ps + _transpose(ps))) + outside_u * inverse[..., None, :]
    dv = v @ (gaps * (sp + _transpose(sp))) + outside_v * inverse[..., None, :]
    zero = s[..., None, :] == 0
    du = np.where(touched | zero & np.any(outside_u != 0, axis=-2, keepdims=True), np.nan, du)
    dv = np.where(touched | zero & np.any(outside_v != 0, axis=-2, keepdims=True), np.nan, dv)
    return du, ds, _transpose(dv)


def pinv_adjoint(g, ans, a):
    """Cotangent of ``a`` in ``ans = np.linalg.pinv(a)`` (constant rank, e.g. full rank)."""
    p, pt = ans, _transpose(ans)
    gt = _transpose(g)
    left = np.eye(np.shape(a)[-2], dtype=_float_dtype(a)) - a @ p       # I - A A+
    right = np.eye(np.shape(a)[-1], dtype=_float_dtype(a)) - p @ a      # I - A+ A
    return -pt @ g @ pt + left @ gt @ p @ pt + pt @ p @ gt @ right


def pinv_tangent(t, ans, a):
    """Tangent of ``np.linalg.pinv(a)`` for the tangent ``t`` of ``a`` (constant rank)."""
    p, pt = ans, _transpose(ans)
    tt = _transpose(t)
    left = np.eye(np.shape(a)[-2], dtype=_float_dtype(a)) - a @ p
    right = np.eye(np.shape(a)[-1], dtype=_float_dtype(a)) - p @ a
    return -p @ t @ p + p @ pt @ tt @ left + right @ tt @ pt @ p


# --- the discrete Fourier transforms -------------------------------------------------------


def fft_axes(x, s=None, axes=None):
    """The axes ``np.fft.fftn(x, s, axes)`` transforms: ``axes``; without them every axis,
    or the last ``len(s)`` ones when ``s`` is given (a tuple of non-negative axes)."""
    ndim = np.ndim(x)
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    return tuple(axis % ndim for axis in axes)


def fft_lengths(x, axes):
    """The sizes of ``x`` along ``axes`` (a tuple of ints)."""
    shape = np.shape(x)
    return tuple(shape[axis] for axis in axes)


def fit_to(g, like, axes):
    """``g`` cut or padded with zeros at the end of each of ``axes`` to the size ``like`` has
    there: the transpose of the padding and cutting ``n=`` and ``s=`` do to an FFT's input."""
    g = g if is_dispatched_array(g) else np.asarray(g)
    for axis in axes:
        size, target = g.shape[axis], np.shape(like)[axis]
        if size > target:
            g = np.take(g, np.arange(target), axis=axis)
        elif size < target:
            shape = list(g.shape)
            shape[axis] = target - size
            g = np.concatenate([g, np.zeros(shape, dtype=g.dtype)], axis=axis)
    return g


def _hermitian_weights(g, n, axis, inverse):
    """The weights of the half spectrum ``rfft`` keeps of a length-``n`` signal, along
    ``axis`` of ``g``: bin 0 and, for even ``n``, bin ``n / 2`` stand for one bin of the
    full spectrum, every other for two (a pair of conjugates)."""
    g = g if is_dispatched_array(g) else np.asarray(g)
    size = g.shape[axis]
    twice = np.ones(size, dtype=np.real(g).dtype if g.dtype.kind in "fc" else np.float64)
    last = size if n % 2 else min(size, n // 2)       # bins 1 .. n/2 - 1, or .. (n-1)/2
    twice[1:last] = 2.0
    weights = 1.0 / twice if not inverse else twice
    shape = [1] * g.ndim
    shape[axis] = size
    return np.reshape(weights, shape)


def half_spectrum(g, n, axis):
    """``g`` (a half spectrum of a length-``n`` transform) with every bin that stands for a
    pair of conjugates halved: the weights in the adjoints of ``rfft`` and ``ihfft``."""
    return g * _hermitian_weights(g, n, axis, inverse=False)


def double_spectrum(g, n, axis):
    """``g`` with every bin that stands for a pair of conjugates doubled (the adjoints of
    ``irfft`` and ``hfft``, which read such a bin twice)."""
    return g * _hermitian_weights(g, n, axis, inverse=True)


# --- eig, qr, lstsq, products of several matrices, tensor inverses, condition numbers -------
# Written in operations that have rules (and declared in s2s/rules/generated.py), so their
# derivatives are taken from this source at second order.


class RuleDomainError(NotImplementedError):
    """A rule's helper met an input its derivative does not cover: equal eigenvalues
    (``np.linalg.eig``), a rank-deficient QR or least-squares problem, extra
    columns that are not unique (``full_matrices``, ``mode="complete"``).  s2s reports it as
    a ``MissingRuleError``; an exported module raises it as it is."""


class DispatchedArrayRefusal(RuleDomainError):
    """A derivative that arrays of another library (Dask) cannot evaluate without computing
    (:func:`refuse_dispatched`); s2s reports it as a ``MissingRuleError`` naming the
    function."""


def _distinct_eigenvalues(w, function):
    """``w``, refused (:class:`RuleDomainError`) if two eigenvalues are equal: closer than
    ``sqrt(eps)`` times the largest modulus (a defective matrix's split ones are that
    close).  There the eigenvectors, and a non-symmetric matrix's eigenvalues, have no
    derivative."""
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None]
    gaps = np.abs(w[..., None, :] - w[..., :, None])
    itself = np.eye(np.shape(w)[-1], dtype=bool)
    tolerance = np.sqrt(np.finfo(_float_dtype(w)).eps) * scale
    if np.any(np.logical_and(gaps <= tolerance, np.logical_not(itself))):
        raise RuleDomainError(
            f"s2s: np.linalg.{function} has equal (repeated) eigenvalues here; its derivative "
            "is defined for distinct eigenvalues only")
    return w


def _eigenvector_gauge(v):
    """Where each column of ``v`` has its entry of largest modulus (a boolean mask): NumPy's
    eig (LAPACK's geev) scales each eigenvector to unit length with that entry real and
    positive, which fixes its phase."""
    largest = np.argmax(np.abs(v), axis=-2)
    return np.arange(np.shape(v)[-2])[:, None] == largest[..., None, :]


def _phase_ties(v):
    """Columns of ``v`` whose two entries of largest modulus tie (within ``sqrt(eps)``):
    there the entry NumPy makes real, and so the eigenvector's phase, jumps."""
    moduli = np.sort(np.abs(v), axis=-2)
    if np.shape(v)[-2] < 2:
        return np.zeros(np.shape(v)[:-2] + np.shape(v)[-1:], dtype=bool)
    largest, second = moduli[..., -1, :], moduli[..., -2, :]
    return largest - second <= np.sqrt(np.finfo(_float_dtype(v)).eps) * largest


def _matched_eigenvectors(w, a):
    """The eigenvectors of ``a`` for the eigenvalues ``w`` (those np.linalg.eigvals gave),
    from np.linalg.eig, each matched to the nearest of ``w``."""
    values, vectors = np.linalg.eig(a)
    order = np.argmin(np.abs(w[..., :, None] - values[..., None, :]), axis=-1)
    return (np.take_along_axis(values, order, axis=-1),
            np.take_along_axis(vectors, order[..., None, :], axis=-1))


def eig_adjoint(g, ans, a):
    """Cotangent of ``a`` in ``w, v = np.linalg.eig(a)`` for ``g = (gw, gv)`` (None: zero).

    Distinct eigenvalues (:class:`RuleDomainError` otherwise), real or complex.  Giles
    (2008), "An extended collection of matrix derivative results", section 3.1, with the
    eigenvectors scaled to unit length (the normalisation term of Boeddeker et al. (2017),
    "On the computation of complex-valued gradients with application to statistically
    optimum beamforming") and their phase fixed as NumPy fixes it (the entry of largest
    modulus real): with the registry's cotangents (``2 dL/dz``, plain transposes),
    ``a_b = v^-T (diag(gw) + F * (v^T gv' - v^T conj(v) diag(Re diag(v^T gv')))) v^T``,
    ``F[i, j] = 1 / (w[j] - w[i])``, where ``gv'`` is ``gv`` plus, at each column's largest
    entry ``v[k, j]``, ``-i Im((v^T gv)[j, j]) / v[k, j]`` (the transpose of the phase
    fix).  Real for a real ``a``.  Where a column's two largest entries tie in modulus
    (a 2x2 rotation's eigenvectors) that phase jumps: a cotangent that depends on it is
    refused (:class:`RuleDomainError`), one of a phase-invariant loss is not.
    """
    w, v = ans
    w = _distinct_eigenvalues(w, "eig")
    gw, gv = g
    inner = np.zeros(v.shape, dtype=np.result_type(v, w, _float_dtype(a)))
    if gw is not None:
        if not np.iscomplexobj(w):
            gw = np.real(gw)
        inner = inner + gw[..., None] * np.eye(w.shape[-1], dtype=inner.dtype)
    if gv is not None:
        if not np.iscomplexobj(v):
            gv = np.real(gv)
        else:
            gauge = _eigenvector_gauge(v)
            largest = np.real(np.sum(np.where(gauge, v, 0), axis=-2))
            phased = np.imag(np.sum(gv * v, axis=-2))      # the loss's change with the phase
            if np.any(np.logical_and(_phase_ties(v), np.abs(phased) > np.sqrt(np.finfo(
                    _float_dtype(v)).eps) * np.sqrt(np.sum(np.abs(gv) ** 2, axis=-2)))):
                raise RuleDomainError(
                    "s2s: this loss depends on the phase of an eigenvector of np.linalg.eig "
                    "whose two largest entries are equal in modulus; the phase NumPy gives it "
                    "(that entry real) jumps there, so it has no derivative (a loss of |v|, "
                    "or of v diag(w) v^-1, does not depend on it)")
            gv = gv - 1j * np.where(gauge, (phased / largest)[..., None, :], 0)
        vt_gv = _transpose(v) @ gv
        scale = np.real(np.diagonal(vt_gv, axis1=-2, axis2=-1))
        inner = inner + _gaps(w) * (vt_gv - (_transpose(v) @ np.conj(v)) * scale[..., None, :])
    result = np.linalg.solve(_transpose(v), inner @ _transpose(v))
    if not np.iscomplexobj(a):
        result = np.real(result)
    return result


def eig_tangent(t, ans, a):
    """Tangents ``(dw, dv)`` of ``np.linalg.eig(a)`` (distinct eigenvalues): ``dw =
    diag(P)`` and ``dv = v (F * P)`` with ``P = v^-1 t v``, less each column's part that
    changes its length (``v Re diag(v^H dv)``) and, for complex eigenvectors, its phase
    (the imaginary part of the largest entry, which NumPy keeps real)."""
    w, v = ans
    w = _distinct_eigenvalues(w, "eig")
    projected = np.linalg.solve(v, t @ v)                       # v^-1 t v
    raw = v @ (_gaps(w) * projected)
    scale = np.real(np.sum(np.conj(v) * raw, axis=-2))
    dv = raw - v * scale[..., None, :]
    if np.iscomplexobj(v):
        gauge = _eigenvector_gauge(v)
        largest = np.real(np.sum(np.where(gauge, v, 0), axis=-2))
        turn = np.imag(np.sum(np.where(gauge, dv, 0), axis=-2)) / largest
        dv = dv - 1j * v * turn[..., None, :]
    return np.diagonal(projected, axis1=-2, axis2=-1).copy(), dv


def eigvals_adjoint(g, ans, a):
    """Cotangent of ``a`` in ``w = np.linalg.eigvals(a)`` (distinct eigenvalues):
    ``v^-T diag(g) v^T`` (Giles 2008), with ``v`` from np.linalg.eig matched to ``w``."""
    values, vectors = _matched_eigenvectors(ans, a)
    return eig_adjoint((g, None), (values, vectors), a)


def eigvals_tangent(t, ans, a):
    """Tangent of ``np.linalg.eigvals(a)``: ``diag(v^-1 t v)``."""
    values, vectors = _matched_eigenvectors(ans, a)
    _distinct_eigenvalues(values, "eigvals")
    return np.diagonal(np.linalg.solve(vectors, t @ vectors), axis1=-2, axis2=-1).copy()


def eigvalsh_adjoint(g, ans, a, UPLO="L"):  # noqa: N803  (NumPy's name)
    """Cotangent of ``a`` in ``np.linalg.eigvalsh(a, UPLO)``: ``v diag(g) v^T`` on the
    triangle read (NumPy's eigh and eigvalsh list the eigenvalues in the same order)."""
    return eigh_adjoint((g, None), np.linalg.eigh(a, UPLO), UPLO)


def eigvalsh_tangent(t, ans, a, UPLO="L"):  # noqa: N803
    """Tangent of ``np.linalg.eigvalsh(a, UPLO)``."""
    return eigh_tangent(t, np.linalg.eigh(a, UPLO), UPLO)[0]


def _qr_factors(ans, a, mode):
    """``q, r`` of ``np.linalg.qr(a, mode)``, refusing the modes without a unique derivative."""
    m, n = np.shape(a)[-2:]
    if mode == "raw":
        raise RuleDomainError("s2s: np.linalg.qr with mode='raw' (Householder reflectors) is "
                              "not differentiated; use mode='reduced'")
    if mode == "complete" and m > n:
        raise RuleDomainError(
            "s2s: the derivative of np.linalg.qr with mode='complete' is defined only when "
            "a has no more rows than columns (the extra columns of q are not unique); use "
            "mode='reduced'")
    if mode == "r":
        return np.linalg.qr(a)
    return ans


def _full_rank(r, function):
    """``r``, a triangular factor, refused (:class:`RuleDomainError`) with a zero on its
    diagonal (relative to its largest entry there): no derivative there."""
    diagonal = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    if np.any(diagonal <= np.finfo(_float_dtype(r)).eps * np.shape(r)[-1]
              * np.max(diagonal, axis=-1, keepdims=True)):
        raise RuleDomainError(f"s2s: {function} of a rank-deficient matrix has no derivative "
                              "(a zero on the diagonal of r)")
    return r


def _qr_adjoint_tall(gq, gr, q, r):
    """Cotangent of ``a = q r`` (``m >= n``, ``r`` square and invertible) for ``gq, gr``.

    Walter and Lehmann (2018), "Algorithmic differentiation of linear algebra functions
    with application in optimum experimental design"; Seeger et al. (2017), "Auto-
    differentiating linear algebra": ``a_b = (gq + q copyltu(M)) r^-T`` with
    ``M = r gr^T - gq^T q`` and ``copyltu(M) = tril(M) + tril(M, -1)^T``.
    """
    r = _full_rank(r, "np.linalg.qr")
    middle = np.zeros(np.shape(r), dtype=_float_dtype(q, r))
    left = np.zeros(np.shape(q), dtype=middle.dtype)
    if gr is not None:
        middle = middle + r @ _transpose(gr)
    if gq is not None:
        middle = middle - _transpose(gq) @ q
        left = left + gq
    copied = np.tril(middle) + _transpose(np.tril(middle, -1))
    return _transpose(np.linalg.solve(r, _transpose(left + q @ copied)))


def qr_adjoint(g, ans, a, mode="reduced"):
    """Cotangent of ``a`` in ``np.linalg.qr(a, mode)``: ``g = (gq, gr)`` (None: zero), or
    ``gr`` alone for ``mode="r"``.  A wide ``a = [x, y]`` (m < n) is ``x = q r1`` and
    ``r2 = q^T y`` (Liao et al. (2019), "Differentiable programming tensor networks"), so
    ``x`` gets the tall cotangent for ``gq + y gr2^T`` and ``y`` gets ``q gr2``.
    """
    q, r = _qr_factors(ans, a, mode)
    gq, gr = (None, g) if mode == "r" else g
    m, n = np.shape(a)[-2:]
    if m >= n:
        return _qr_adjoint_tall(gq, gr, q, r)
    y = a[..., :, m:]
    if gr is None:
        return np.concatenate([_qr_adjoint_tall(gq, None, q, r[..., :, :m]),
                               np.zeros(np.shape(y), dtype=_float_dtype(q, y))], axis=-1)
    gr2 = gr[..., :, m:]
    total = y @ _transpose(gr2) if gq is None else gq + y @ _transpose(gr2)
    return np.concatenate([_qr_adjoint_tall(total, gr[..., :, :m], q, r[..., :, :m]),
                           q @ gr2], axis=-1)


def _qr_tangent_tall(t, q, r):
    """Tangents ``(dq, dr)`` of ``a = q r`` (m >= n): with ``c = q^T t r^-1`` and the skew
    ``o = tril(c, -1) - tril(c, -1)^T``, ``dr = (c - o) r`` and ``dq = t r^-1 - q (c - o)``."""
    r = _full_rank(r, "np.linalg.qr")
    t_rinv = _transpose(np.linalg.solve(_transpose(r), _transpose(t)))      # t r^-1
    c = _transpose(q) @ t_rinv
    lower = np.tril(c, -1)
    upper = c - lower + _transpose(lower)
    return t_rinv - q @ upper, upper @ r


def qr_tangent(t, ans, a, mode="reduced"):
    """Tangents ``(dq, dr)`` of ``np.linalg.qr(a, mode)`` (``dr`` alone for mode 'r')."""
    q, r = _qr_factors(ans, a, mode)
    m, n = np.shape(a)[-2:]
    if m >= n:
        dq, dr = _qr_tangent_tall(t, q, r)
    else:
        dq, dr1 = _qr_tangent_tall(t[..., :, :m], q, r[..., :, :m])
        dr2 = _transpose(dq) @ a[..., :, m:] + _transpose(q) @ t[..., :, m:]
        dr = np.concatenate([dr1, dr2], axis=-1)
    return dr if mode == "r" else (dq, dr)


def _lstsq_parts(ans, a, b):
    """``x, residual vectors, singular values, pinv(a)`` of a full-rank least-squares
    problem ``np.linalg.lstsq(a, b)``; a rank-deficient one is refused."""
    x, residuals, rank, s = ans
    if rank < min(np.shape(a)):
        raise RuleDomainError(
            "s2s: np.linalg.lstsq of a rank-deficient matrix has no derivative (its "
            "solution jumps with the rank); the rule covers full-rank a")
    column = np.reshape(x, (np.shape(x)[0], -1))
    return column, np.reshape(b, (np.shape(b)[0], -1)) - a @ column, np.linalg.pinv(a)


def lstsq_adjoint(g, ans, a, b, which):
    """Cotangent of ``a`` (``which`` 0) or ``b`` (1) in ``np.linalg.lstsq(a, b)`` for
    ``g = (gx, gresiduals, grank, gs)`` (None: zero), full-rank ``a``.

    The solution is ``x = pinv(a) b`` (Golub and Pereyra (1973), "The differentiation of
    pseudo-inverses and nonlinear least squares problems"): ``b_b = pinv(a)^T gx`` and
    ``a`` through the pseudo-inverse's adjoint; the residuals ``|b - a x|^2`` are a
    minimum over ``x``, so ``a_b = -2 r x^T``, ``b_b = 2 r`` per column (``r = b - a x``);
    the singular values as in ``np.linalg.svd``.
    """
    column, residual, pinverse = _lstsq_parts(ans, a, b)
    gx, gresiduals, _, gs = g
    residuals = ans[1]
    if which == 1:
        result = np.zeros(np.shape(residual), dtype=_float_dtype(a, b))
        if gx is not None:
            result = result + _transpose(pinverse) @ np.reshape(gx, np.shape(column))
        if gresiduals is not None and np.size(residuals) > 0:
            result = result + 2 * residual * gresiduals
        return np.reshape(result, np.shape(b))
    result = np.zeros(np.shape(a), dtype=_float_dtype(a, b))
    if gx is not None:
        gp = np.reshape(gx, np.shape(column)) @ _transpose(np.reshape(b, np.shape(residual)))
        result = result + pinv_adjoint(gp, pinverse, a)
    if gresiduals is not None and np.size(residuals) > 0:
        result = result - 2 * (residual * gresiduals) @ _transpose(column)
    if gs is not None:
        result = result + svd_adjoint(gs, ans[3], a, False, False)
    return result


def lstsq_tangent(t, ans, a, b, which):
    """Tangents ``(dx, dresiduals, 0, ds)`` of ``np.linalg.lstsq(a, b)`` for the tangent
    ``t`` of ``a`` (``which`` 0) or ``b`` (1), full-rank ``a``."""
    x, residuals, rank, s = ans
    column, residual, pinverse = _lstsq_parts(ans, a, b)
    if which == 1:
        t_column = np.reshape(t, np.shape(residual))
        dx = pinverse @ t_column
        dresiduals = 2 * np.sum(residual * t_column, axis=0)
        ds = np.zeros(np.shape(s), dtype=_float_dtype(s))
    else:
        b_column = np.reshape(b, np.shape(residual))
        dx = pinv_tangent(t, pinverse, a) @ b_column
        dresiduals = -2 * np.sum(residual * (t @ column), axis=0)
        ds = svd_tangent(t, s, a, False, False)
    if np.size(residuals) == 0:
        dresiduals = np.zeros(np.shape(residuals), dtype=_float_dtype(residuals))
    return np.reshape(dx, np.shape(x)), dresiduals, 0.0, ds


def matrix_power_adjoint(g, a, n):
    """Cotangent of ``a`` in ``np.linalg.matrix_power(a, n)``: for ``n > 0`` the sum over
    ``k`` of ``(a^T)^k g (a^T)^(n-1-k)``; for ``n < 0`` the same for ``inv(a)^|n|``, then
    through the inverse (``-inv(a)^T (.) inv(a)^T``); zero for ``n == 0``."""
    base = np.linalg.inv(a) if n < 0 else a
    count = -n if n < 0 else n
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1], dtype=_float_dtype(a)), np.shape(a))]
    for _ in range(count - 1):
        powers.append(powers[-1] @ base)
    result = np.zeros(np.shape(a), dtype=_float_dtype(g, a))
    for k in range(count):
        result = result + _transpose(powers[k]) @ g @ _transpose(powers[count - 1 - k])
    if n < 0:
        result = -_transpose(base) @ result @ _transpose(base)
    return result


def matrix_power_tangent(t, a, n):
    """Tangent of ``np.linalg.matrix_power(a, n)``: the sum of ``a^k t a^(n-1-k)``."""
    base = np.linalg.inv(a) if n < 0 else a
    step = -base @ t @ base if n < 0 else t
    count = -n if n < 0 else n
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1], dtype=_float_dtype(a)), np.shape(a))]
    for _ in range(count - 1):
        powers.append(powers[-1] @ base)
    result = np.zeros(np.shape(a), dtype=_float_dtype(t, a))
    for k in range(count):
        result = result + powers[k] @ step @ powers[count - 1 - k]
    return result


def _multi_dot_matrices(arrays):
    """The operands of ``np.linalg.multi_dot`` as matrices: a 1-D first one is a row, a 1-D
    last one a column."""
    count = len(arrays)
    matrices = []
    for index in range(count):
        item = arrays[index]
        if index == 0 and np.ndim(item) == 1:
            item = np.reshape(item, (1, -1))
        elif index == count - 1 and np.ndim(item) == 1:
            item = np.reshape(item, (-1, 1))
        matrices.append(item)
    return matrices


def multi_dot_adjoint(g, arrays):
    """Cotangents (a :class:`SequenceAdjoint`) of the arrays in ``np.linalg.multi_dot``:
    operand ``i`` of ``m_0 ... m_(k-1)`` gets ``(m_0...m_(i-1))^T g (m_(i+1)...m_(k-1))^T``."""
    matrices = _multi_dot_matrices(arrays)
    count = len(matrices)
    rows, cols = np.shape(matrices[0])[0], np.shape(matrices[-1])[1]
    gradient = np.reshape(g, (rows, cols))
    before = [np.eye(rows, dtype=_float_dtype(g, *arrays))]
    for index in range(1, count):
        before.append(before[-1] @ matrices[index - 1])
    after = [np.eye(cols, dtype=_float_dtype(g, *arrays))]        # after[j]: the last j
    for index in range(1, count):
        after.append(matrices[count - index] @ after[-1])
    result = []
    for index in range(count):
        piece = _transpose(before[index]) @ gradient @ _transpose(after[count - 1 - index])
        result.append(np.reshape(piece, np.shape(arrays[index])))
    return adjoint_copy(result)


def multi_dot_tangent(t, arrays):
    """Tangent of ``np.linalg.multi_dot(arrays)``: one product per operand with a tangent
    (None: zero), that operand replaced by its tangent."""
    result = None
    for index, tangent in enumerate(t):
        if tangent is not None:
            term = np.linalg.multi_dot(_replaced(arrays, index, tangent))
            result = term if result is None else result + term
    if result is None:
        return zeros_like(np.linalg.multi_dot(arrays))
    return result


def _tensorsolve_matrix(a, b, axes):
    """``a`` of ``np.linalg.tensorsolve(a, b, axes)`` as the square matrix solved."""
    ndim = np.ndim(a)
    if axes is not None:
        a = np.moveaxis(a, axes, tuple(range(ndim - len(axes), ndim)))
    size = np.size(b)
    return np.reshape(a, (size, size))


def _moved_shape(shape, axes):
    """``shape`` with the axes ``axes`` moved to the end, as np.linalg.tensorsolve does."""
    if axes is None:
        return tuple(shape)
    axes = [axis % len(shape) for axis in axes]
    return tuple(size for axis, size in enumerate(shape) if axis not in axes) \
        + tuple(shape[axis] for axis in axes)


def tensorsolve_adjoint(g, ans, a, b, axes, which):
    """Cotangent of ``a`` (``which`` 0) or ``b`` (1) in ``x = np.linalg.tensorsolve(a, b,
    axes)``: the solve of the flattened system, ``b_b = A^-T g``, ``A_b = -b_b x^T``
    (Giles 2008), folded back into ``a``'s shape and axes."""
    matrix = _tensorsolve_matrix(a, b, axes)
    gb = np.linalg.solve(_transpose(matrix), np.ravel(g))
    if which == 1:
        return np.reshape(gb, np.shape(b))
    ga = np.reshape(-np.outer(gb, np.ravel(ans)), _moved_shape(np.shape(a), axes))
    if axes is None:
        return ga
    ndim = np.ndim(a)
    return np.moveaxis(ga, tuple(range(ndim - len(axes), ndim)), axes)


def tensorsolve_tangent(t, ans, a, b, axes, which):
    """Tangent of ``np.linalg.tensorsolve(a, b, axes)`` for the tangent ``t`` of ``a``
    (``which`` 0: ``-A^-1 dA x``) or of ``b`` (1: ``A^-1 db``)."""
    matrix = _tensorsolve_matrix(a, b, axes)
    if which == 1:
        step = np.ravel(t)
    else:
        t_matrix = _tensorsolve_matrix(t, b, axes)
        step = -t_matrix @ np.ravel(ans)
    return np.reshape(np.linalg.solve(matrix, step), np.shape(ans))


def tensorinv_adjoint(g, ans, a, ind=2):
    """Cotangent of ``a`` in ``np.linalg.tensorinv(a, ind)``: the inverse's ``-B^T G B^T``
    (Giles 2008) on the flattened matrices, in ``a``'s shape."""
    rows = int(np.prod(np.shape(a)[:ind]))
    inverse = np.reshape(ans, (-1, rows))
    gradient = np.reshape(g, (-1, rows))
    return np.reshape(-_transpose(inverse) @ gradient @ _transpose(inverse), np.shape(a))


def tensorinv_tangent(t, ans, a, ind=2):
    """Tangent of ``np.linalg.tensorinv(a, ind)``: ``-B dA B`` on the flattened matrices."""
    rows = int(np.prod(np.shape(a)[:ind]))
    inverse = np.reshape(ans, (-1, rows))
    return np.reshape(-inverse @ np.reshape(t, (rows, -1)) @ inverse, np.shape(ans))


def cond_adjoint(g, ans, x, p=None):
    """Cotangent of ``x`` in ``np.linalg.cond(x, p)``.

    ``p`` None, 2, -2: a ratio of extreme singular values, through the singular values'
    adjoint (the extreme ones distinct, as in generic matrices); other ``p``:
    ``norm(x, p) norm(inv(x), p)``, through the norms' adjoints and the inverse's (Giles
    2008).  A singular ``x`` has an infinite condition number and no derivative.
    """
    if p is None or p == 2 or p == -2:
        s = np.linalg.svd(x, compute_uv=False)
        count = np.shape(s)[-1]
        first, last = np.arange(count) == 0, np.arange(count) == count - 1
        top, bottom = s[..., 0], s[..., -1]
        if p == -2:
            gs = (g / top)[..., None] * last - (g * bottom / top ** 2)[..., None] * first
        else:
            gs = (g / bottom)[..., None] * first - (g * top / bottom ** 2)[..., None] * last
        return svd_adjoint(gs, s, x, False, False)
    inverse = np.linalg.inv(x)
    norm_x = np.linalg.norm(x, p, axis=(-2, -1))
    norm_inverse = np.linalg.norm(inverse, p, axis=(-2, -1))
    direct = norm_adjoint(g * norm_inverse, norm_x, x, p, (-2, -1), False)
    through = norm_adjoint(g * norm_x, norm_inverse, inverse, p, (-2, -1), False)
    return direct - _transpose(inverse) @ through @ _transpose(inverse)


def cond_tangent(t, ans, x, p=None):
    """Tangent of ``np.linalg.cond(x, p)``: the gradient (``cond_adjoint`` of ones) against
    ``t``, matrix by matrix."""
    return np.sum(cond_adjoint(np.ones_like(ans), ans, x, p) * t, axis=(-2, -1))


def sequence_copy(values):
    """``list(values)``: a new list with the same entries (tangents of a copied list)."""
    return list(values)


def list_adjoint(g, like):
    """Cotangent of ``like`` in ``list(like)``: rows stacked back for an array."""
    if isinstance(like, np.ndarray):
        return np.stack([np.zeros(like.shape[1:]) if item is None else item for item in g]) \
            if len(g) else np.zeros_like(like)
    return adjoint_copy(g)


def snapshot(array):
    """The array (or dict) and a copy of its contents, to put back later (None for
    anything else)."""
    if isinstance(array, np.ndarray):
        return (array, np.copy(array))
    return (array, dict(array)) if isinstance(array, dict) else None


def restore(saved) -> None:
    """Put back the contents :func:`snapshot` took, into the array (or dict) it took them
    from (the name may have been rebound since)."""
    if saved is not None:
        container, contents = saved
        if isinstance(container, dict):
            container.clear()
            container.update(contents)
        else:
            container[...] = contents


#: the saved value of a dict entry that did not exist before the write
ABSENT = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


def saved_entry(mapping, key):
    """``mapping[key]`` before a write, or :data:`ABSENT` if the write adds the key."""
    return np.copy(mapping[key]) if key in mapping else ABSENT


def restore_entry(mapping, key, value) -> None:
    """Undo the write ``mapping[key] = ...`` with the value :func:`saved_entry` kept."""
    if value is ABSENT:
        del mapping[key]
    else:
        mapping[key] = value


def entry_cotangent(adjoint, key, like):
    """The cotangent of ``adjoint[key]`` for the value ``like`` written there (zeros if the
    entry was never read)."""
    cotangent = adjoint.get(key) if isinstance(adjoint, dict) else None
    return zeros_like(like) if cotangent is None else np.copy(cotangent)


# --- helpers of the rules for assembled arrays, differences and statistics ---------------
# (s2s/rules/assembly.py, calculus.py, descriptive.py).  Most return index maps, masks and
# shapes, or weights that depend only on the order of values: they are declared zero, and
# the rules combine them with operations that have rules, so gradient code can be
# differentiated again.  select_adjoint, gradient_adjoint, gradient_of, cross_adjoint,
# variables_as_rows and rows_adjoint are linear maps with rules of their own.


def pad_pairs(ndim, pad_width):
    """``np.pad``'s ``pad_width`` as one ``(before, after)`` pair of ints per axis."""
    widths = np.round(np.asarray(pad_width)).astype(np.intp)
    return [(int(before), int(after)) for before, after in np.broadcast_to(widths, (ndim, 2))]


def pad_interior(shape, pad_width):
    """The index of the original array inside ``np.pad(array, pad_width)``: slices."""
    return tuple(slice(before, before + size)
                 for (before, _), size in zip(pad_pairs(len(shape), pad_width), shape))


PAD_GATHERS = ("edge", "reflect", "symmetric", "wrap")


def pad_sources(shape, pad_width, mode, reflect_type="even"):
    """For each entry of ``np.pad(array, pad_width, mode)``, the flat index of the entry of
    ``array`` it copies (modes edge, reflect, symmetric and wrap copy entries): NumPy pads
    the positions ``0 .. size - 1`` the same way."""
    if mode not in PAD_GATHERS or reflect_type != "even":
        raise NotImplementedError(
            f"s2s differentiates np.pad with mode 'constant', 'empty', 'edge', 'reflect', "
            f"'symmetric' or 'wrap' (reflect_type='even'), not mode={mode!r}, "
            f"reflect_type={reflect_type!r}")
    positions = np.arange(int(np.prod(shape))).reshape(shape)
    if mode in ("reflect", "symmetric"):
        return np.pad(positions, pad_width, mode, reflect_type=reflect_type)
    return np.pad(positions, pad_width, mode)


def axis_pad_width(ndim, axis, before, after):
    """``pad_width`` for ``np.pad`` that pads one axis only."""
    widths = [(0, 0)] * ndim
    widths[axis % ndim] = (before, after)
    return widths


def along_axis_shape(ndim, axis, length):
    """``(1, ..., length, ..., 1)``: a vector's shape to broadcast it along ``axis``."""
    shape = [1] * ndim
    shape[axis % ndim] = length
    return tuple(shape)


def arange_like(start, stop, step, like):
    """``np.arange(start, stop, step)`` in the float dtype of ``like``."""
    return np.arange(start, stop, step, dtype=_float_dtype(like))


def insert_positions(shape, obj, values_shape, axis, like):
    """Where ``np.insert(arr, obj, values, axis)`` puts things: the flat positions in the
    result of ``arr``'s entries (in ``arr``'s order), the flat positions of the inserted
    entries, and the flat index in ``values`` of the entry each copies (``values`` is
    broadcast).  NumPy inserts index arrays the same way it inserts values.  An integer
    result ``like`` (float values cast to an integer ``arr``) copies no values."""
    size, count = int(np.prod(shape)), int(np.prod(values_shape))
    owners = np.insert(np.arange(size).reshape(shape), obj, np.full(values_shape, -1),
                       axis).ravel()
    sources = np.insert(np.full(shape, -1), obj, np.arange(count).reshape(values_shape),
                        axis).ravel()
    inserted = np.flatnonzero(sources >= 0)
    if np.result_type(like).kind not in "fc":
        inserted = inserted[:0]
    return np.flatnonzero(owners >= 0), inserted, sources[inserted]


def delete_sources(shape, obj, axis):
    """For each entry of ``np.delete(arr, obj, axis)``, the flat index in ``arr`` it copies."""
    return np.delete(np.arange(int(np.prod(shape))).reshape(shape), obj, axis)


def rollaxis_destination(ndim, axis, start=0):
    """``np.rollaxis(a, axis, start)`` is ``np.moveaxis(a, axis, destination)``."""
    axis %= ndim
    start = start + ndim if start < 0 else start
    return start - 1 if axis < start else start


def kron_layout(shape_a, shape_b):
    """``np.kron(a, b)`` as a product of ``a`` and ``b`` reshaped to interleaved axes:
    (the product's shape, ``a``'s spread shape, ``b``'s, the axes of ``b``, those of ``a``).
    The shorter shape gets leading ones, as in NumPy."""
    ndim = max(len(shape_a), len(shape_b))
    shape_a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    shape_b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    interleaved = tuple(size for pair in zip(shape_a, shape_b) for size in pair)
    spread_a = tuple(size for item in shape_a for size in (item, 1))
    spread_b = tuple(size for item in shape_b for size in (1, item))
    return (interleaved, spread_a, spread_b, tuple(range(1, 2 * ndim, 2)),
            tuple(range(0, 2 * ndim, 2)))


def linspace_weights(num, endpoint, axis, ndim, like):
    """The share ``i / (num - 1)`` (``i / num`` without the endpoint) of ``stop`` in entry
    ``i`` of ``np.linspace``, shaped to broadcast along ``axis`` of the ``ndim``-dimensional
    result, in ``like``'s float dtype."""
    weights = np.linspace(0.0, 1.0, num, endpoint=endpoint).astype(_float_dtype(like))
    return np.reshape(weights, along_axis_shape(ndim, axis, num))


def select_masks(condlist, shape):
    """Where ``np.select(condlist, choicelist, default)`` takes each choice (the first true
    condition), and last where it takes the default, broadcast to ``shape``."""
    masks, taken = [], np.zeros(shape, dtype=bool)
    for condition in condlist:
        condition = np.broadcast_to(condition, shape)
        masks.append(condition & ~taken)
        taken = taken | condition
    masks.append(~taken)
    return masks


def select_adjoint(g, condlist, choicelist):
    """Cotangents (a list) of the choices in ``np.select(condlist, choicelist)``."""
    masks = select_masks(condlist, np.shape(g))
    return SequenceAdjoint(unbroadcast(np.where(mask, g, 0.0), choice)
                           for mask, choice in zip(masks, choicelist))


def _gradient_axes(arguments, axis):
    """The axes ``np.gradient(*arguments, axis=axis)`` differentiates along and their spacings."""
    f, spacings = arguments[0], tuple(arguments[1:])
    axes = _axes(axis, np.ndim(f))
    if not spacings:
        spacings = (1.0,) * len(axes)
    elif len(spacings) == 1 and np.ndim(spacings[0]) == 0:
        spacings = spacings * len(axes)
    return axes, spacings


def gradient_stencil(size, spacing, edge_order, like):
    """Row ``i`` of ``np.gradient``'s matrix along one axis: its columns ``columns[i]`` (three
    consecutive ones) and coefficients ``coefficients[i]``.  Each triple holds one column
    of each residue modulo 3, so ``np.gradient`` of the three combs ``k % 3 == r`` gives the
    coefficients, as NumPy computes them (uniform or coordinate spacing, edge_order)."""
    starts = np.clip(np.arange(size) - 1, 0, max(size - 3, 0))
    columns = starts[:, None] + np.arange(3)
    dtype = _float_dtype(like)
    combs = [np.gradient((np.arange(size) % 3 == residue).astype(dtype), spacing,
                         edge_order=edge_order) for residue in range(3)]
    coefficients = np.stack(combs, axis=-1)[np.arange(size)[:, None], columns % 3]
    coefficients = np.where(columns < size, coefficients, 0).astype(dtype)
    return np.minimum(columns, size - 1), coefficients


def gradient_adjoint(g, arguments, axis=None, edge_order=1):
    """Cotangent of ``f = arguments[0]`` in ``np.gradient(*arguments, axis=axis)``: each
    output's cotangent (``g``, or a tuple for several axes, None: zero) through the
    transpose of the stencil along its axis."""
    f = arguments[0]
    axes, spacings = _gradient_axes(arguments, axis)
    outputs = tuple(g) if len(axes) != 1 or isinstance(g, (list, tuple)) else (g,)
    result = np.zeros(np.shape(f), dtype=_float_dtype(f, *[o for o in outputs if o is not None]))
    if any(is_dispatched_array(o) for o in outputs if o is not None):
        return _dispatched_gradient_adjoint(result, outputs, axes, spacings, edge_order)
    for along, spacing, cotangent in zip(axes, spacings, outputs):
        if cotangent is None:
            continue
        size = np.shape(f)[along]
        columns, coefficients = gradient_stencil(size, spacing, edge_order, result)
        moved = np.moveaxis(result, along, 0)                    # a view into result
        spread = np.moveaxis(np.asarray(cotangent), along, 0)
        extra = (1,) * (spread.ndim - 1)
        for k in range(3):
            np.add.at(moved, columns[:, k], coefficients[:, k].reshape((size,) + extra) * spread)
    return result


def _dispatched_gradient_adjoint(zeros, outputs, axes, spacings, edge_order):
    """:func:`gradient_adjoint` for cotangents of another library: each stencil column's
    contributions scattered with :func:`dispatched_add_at` (no ``np.add.at`` into a view)."""
    result = None
    for along, spacing, cotangent in zip(axes, spacings, outputs):
        if cotangent is None:
            continue
        size = zeros.shape[along]
        columns, coefficients = gradient_stencil(size, spacing, edge_order, zeros)
        spread = np.moveaxis(cotangent, along, 0)
        extra = (1,) * (spread.ndim - 1)
        for k in range(3):
            contribution = dispatched_add_at(
                coefficients[:, k].reshape((size,) + extra) * spread, spread, spread.shape,
                columns[:, k], zeros.dtype)
            contribution = np.moveaxis(contribution, 0, along)
            result = contribution if result is None else result + contribution
    return zeros if result is None else result


def gradient_of(t, arguments, axis=None, edge_order=1):
    """``np.gradient(t, *arguments[1:], axis=axis, edge_order=edge_order)``: ``np.gradient``
    with the spacings of the call ``arguments`` describes."""
    result = np.gradient(t, *arguments[1:], axis=axis, edge_order=edge_order)
    if is_dispatched_array(t) and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]                        # Dask gives a list for one axis, NumPy not
    return result


def convolution_padding(size_a, size_v, mode, correlate=False):
    """``(before, after)``: where ``np.convolve(a, v, mode)`` (``np.correlate`` if
    ``correlate``) sits inside the ``'full'`` result, whose length is ``size_a + size_v - 1``."""
    mode = {0: "valid", 1: "same", 2: "full"}.get(mode, mode)
    full = size_a + size_v - 1
    shorter, longer = min(size_a, size_v), max(size_a, size_v)
    if mode == "full":
        return (0, 0)
    if mode == "valid":
        length, offset = longer - shorter + 1, shorter - 1
    elif mode == "same":
        length = longer
        if correlate and size_a < size_v:
            offset = size_a // 2
        else:
            offset = (shorter - 1) // 2
    else:
        raise ValueError(f"mode must be 'valid', 'same' or 'full', not {mode!r}")
    return (offset, full - offset - length)


def interp_segments(x, xp, left=None, right=None, period=None):
    """The piece of ``np.interp(x, xp, fp, left, right, period)`` each ``x`` falls on:
    ``(lower, upper, x0, x1, inside, below, above)``, where inside ``[xp[0], xp[-1]]`` the
    value is ``fp[lower] + (x - x0) / (x1 - x0) * (fp[upper] - fp[lower])`` (on a knot, the
    segment to its right, as NumPy evaluates; on the last knot, the last segment),
    ``below`` / ``above`` mark ``x`` left / right of ``xp`` taking ``fp[0]`` / ``fp[-1]``
    (``left`` / ``right`` not given), and elsewhere the value is ``left`` / ``right``.
    With a ``period``, ``x`` is reduced into one period and ``xp`` wraps around, as NumPy
    does; ``lower`` and ``upper`` index the original ``fp``."""
    x = np.asarray(x, dtype=np.float64)
    xp = np.asarray(xp, dtype=np.float64)
    positions = np.arange(xp.size)
    if period is not None:
        period = abs(period)
        x = x % period
        order = np.argsort(xp % period)
        xp = np.concatenate([xp[order][-1:] - period, (xp % period)[order],
                             xp[order][:1] % period + period])
        positions = np.concatenate([order[-1:], order, order[:1]])
    segment = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(xp.size - 2, 0))
    following = np.minimum(segment + 1, xp.size - 1)
    below = (x < xp[0]) & (left is None)
    above = (x > xp[-1]) & (right is None)
    if xp.size == 1:                         # one knot: fp[0], or left / right off it
        inside = np.zeros(x.shape, dtype=bool)
        below = below | above | (x == xp[0])
        above = np.zeros(x.shape, dtype=bool)
    else:
        inside = (x >= xp[0]) & (x <= xp[-1])
    return (positions[segment], positions[following], xp[segment], xp[following], inside,
            below, above)


def quantile_weights(a, q, axis=None, method="linear", ignore_nan=False, overwrite_input=False,
                     weights=None):
    """Weights ``w`` of shape ``q.shape + a.shape`` with ``np.quantile(a, q, axis, method)``
    equal to ``np.sum(w * a, axis)`` (per quantile): each quantile interpolates between two
    order statistics, and the weight of each is shared evenly among the entries equal to it
    (ties).  The two order statistics and the interpolation weight come from NumPy itself:
    the quantile of the positions ``0 .. n - 1`` is ``lower + gamma``, and the quantile of
    the step ``k >= lower + 1`` is ``gamma``.  With ``ignore_nan`` (nanquantile) NaN entries
    get no weight and ``n`` counts the others; a lane of NaNs gets none."""
    if overwrite_input or weights is not None:
        raise NotImplementedError("s2s differentiates quantiles without overwrite_input=True "
                                  "(the input is reordered in place) and without weights=")
    if is_dispatched_array(a):
        refuse_dispatched(a, "the gradient of a quantile or median finds each lane's order "
                             "statistics by sorting it (np.sort, np.take_along_axis)")
    a = np.asarray(a)
    dtype = _float_dtype(a)
    q = np.asarray(q, dtype=np.float64)
    axes = _axes(axis, a.ndim)
    kept = tuple(d for d in range(a.ndim) if d not in axes)
    lanes = np.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
    lane_shape = lanes.shape[:len(kept)]
    lanes = lanes.reshape(lane_shape + (-1,))
    size = lanes.shape[-1]
    ordered = np.sort(lanes, axis=-1)                           # NaN last
    counts = np.sum(~np.isnan(lanes), axis=-1) if ignore_nan else np.full(lane_shape, size)
    levels = q.ravel()
    lower = np.zeros((levels.size,) + lane_shape, dtype=np.intp)
    upper = np.zeros_like(lower)
    gamma = np.zeros(lower.shape, dtype=dtype)
    for count in np.unique(counts):
        if count == 0:
            continue
        where = counts == count
        index = np.quantile(np.arange(count, dtype=np.float64), levels, method=method)
        low = np.clip(np.floor(index).astype(np.intp), 0, count - 1)
        high = np.minimum(low + 1, count - 1)
        steps = np.arange(count)[None, :] >= high[:, None]
        share = np.array([np.quantile(step.astype(np.float64), level, method=method)
                          for step, level in zip(steps, levels)])
        share = np.where(high > low, share, 0.0)
        lower[:, where] = low[:, None]
        upper[:, where] = high[:, None]
        gamma[:, where] = share[:, None].astype(dtype)
    low_value = np.take_along_axis(ordered[None], lower[..., None], axis=-1)
    high_value = np.take_along_axis(ordered[None], upper[..., None], axis=-1)
    low_mask, high_mask = lanes[None] == low_value, lanes[None] == high_value
    low_count = np.maximum(np.sum(low_mask, axis=-1, keepdims=True), 1)
    high_count = np.maximum(np.sum(high_mask, axis=-1, keepdims=True), 1)
    weights = ((1 - gamma[..., None]) * low_mask / low_count
               + gamma[..., None] * high_mask / high_count).astype(dtype)
    if ignore_nan:
        weights = np.where(counts[None, ..., None] > 0, weights, 0).astype(dtype)
    reduced = tuple(a.shape[d] for d in axes)
    weights = weights.reshape((levels.size,) + lane_shape + reduced)
    first = 1 + len(kept)
    weights = np.moveaxis(weights, tuple(range(first, first + len(axes))),
                          tuple(1 + d for d in axes))
    return weights.reshape(q.shape + a.shape)


def kept_shape(shape, axis, q_shape=()):
    """``q_shape + shape`` with the reduced ``axis`` (all axes if None) of size one."""
    axes = _axes(axis, len(shape))
    return tuple(q_shape) + tuple(1 if d in axes else size for d, size in enumerate(shape))


def count_valid(a, axis=None, ddof=0):
    """The number of entries that are not NaN along ``axis`` (kept), minus ``ddof``, in
    ``a``'s float dtype."""
    valid = np.sum(~np.isnan(a), axis=axis, keepdims=True)
    return (valid - ddof).astype(_float_dtype(a))


def partition_sources(a, ans, axis=-1):
    """For each entry of ``ans = np.partition(a, kth, axis)``, the index along ``axis`` of the
    entry of ``a`` it is: the two arrays hold the same values, so their stable sorting
    orders pair them up (equal values in order)."""
    if axis is None:
        a, axis = np.ravel(a), 0
    order_a = np.argsort(a, axis=axis, kind="stable")
    order_ans = np.argsort(ans, axis=axis, kind="stable")
    sources = np.empty_like(order_a)
    np.put_along_axis(sources, order_ans, order_a, axis)
    return sources


def average_layout(weights_shape, shape, axis):
    """How ``np.average(a, axis, weights)`` aligns ``weights`` with ``a``: the permutation of
    ``weights``' axes, the shape that then broadcasts against ``a``, and for the way back
    the permuted shape and the inverse permutation."""
    if tuple(weights_shape) == tuple(shape):
        identity = tuple(range(len(shape)))
        return identity, tuple(shape), tuple(shape), identity
    axes = _axes(axis, len(shape))
    permutation = tuple(int(k) for k in np.argsort(axes))
    aligned = tuple(size if d in axes else 1 for d, size in enumerate(shape))
    permuted = tuple(weights_shape[k] for k in permutation)
    return permutation, aligned, permuted, tuple(int(k) for k in np.argsort(permutation))


def _as_vectors(x, axis):
    """``x`` with ``axis`` last, its vectors of two components padded with a zero third."""
    moved = np.moveaxis(x, axis, -1)
    if moved.shape[-1] == 2:
        moved = np.concatenate([moved, np.zeros_like(moved[..., :1])], axis=-1)
    return moved


def cross_adjoint(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, which=0):
    """Cotangent of ``a`` (``which=0``: ``b x g``) or of ``b`` (``which=1``: ``g x a``) in
    ``np.cross(a, b, axisa, axisb, axisc, axis)``, from ``<g, a x b> = <a, b x g> =
    <b, g x a>``.  Vectors of two components are those of three with a zero third (their
    product is the third component only)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    size_a, size_b = np.shape(a)[axisa], np.shape(b)[axisb]
    vectors_a, vectors_b = _as_vectors(a, axisa), _as_vectors(b, axisb)
    if size_a == 2 and size_b == 2:
        g = np.asarray(g)[..., None]
        vectors_g = np.concatenate([np.zeros_like(g), np.zeros_like(g), g], axis=-1)
    else:
        vectors_g = np.moveaxis(g, axisc, -1)
    if which == 0:
        moved = np.moveaxis(a, axisa, -1)
        result = np.cross(vectors_b, vectors_g)[..., :size_a]
        return np.moveaxis(unbroadcast(result, moved), -1, axisa)
    moved = np.moveaxis(b, axisb, -1)
    result = np.cross(vectors_g, vectors_a)[..., :size_b]
    return np.moveaxis(unbroadcast(result, moved), -1, axisb)


def variables_as_rows(m, y=None, rowvar=True):
    """The matrix ``np.cov(m, y, rowvar)`` works on: one row per variable, ``m``'s then
    ``y``'s (transposed where NumPy transposes them)."""
    rows = np.atleast_2d(m)
    if not rowvar and np.ndim(m) != 1:
        rows = rows.T
    if y is None:
        return rows
    others = np.atleast_2d(y)
    if not rowvar and others.shape[0] != 1:
        others = others.T
    return np.concatenate((rows, others), axis=0)


def rows_adjoint(g, m, y=None, rowvar=True, which=0):
    """Cotangent of ``m`` (``which=0``) or ``y`` (``which=1``) in ``variables_as_rows``."""
    transposed_m = not rowvar and np.ndim(m) != 1
    count = np.shape(np.atleast_2d(m))[1 if transposed_m else 0]
    if which == 0:
        piece = g[:count]
        return np.reshape(piece.T if transposed_m else piece, np.shape(m))
    piece = g[count:]
    transposed_y = not rowvar and np.shape(np.atleast_2d(y))[0] != 1
    return np.reshape(piece.T if transposed_y else piece, np.shape(y))


def cov_weights(count, bias=False, ddof=None, fweights=None, aweights=None):
    """``np.cov``'s weight of each of ``count`` observations and its normalization ``fact``
    (so that ``c = Xc W Xc^T / fact``), as NumPy computes them."""
    if ddof is None:
        ddof = 0 if bias else 1
    weights = None
    if fweights is not None:
        weights = np.asarray(fweights, dtype=float)
    if aweights is not None:
        aweights = np.asarray(aweights, dtype=float)
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        return np.ones(count), max(count - ddof, 0.0)
    total = np.sum(weights)
    if ddof == 0:
        fact = total
    elif aweights is None:
        fact = total - ddof
    else:
        fact = total - ddof * np.sum(weights * aweights) / total
    return weights, max(fact, 0.0)


def axis_slice(ndim, axis, start=None, stop=None):
    """The index ``x[..., start:stop, ...]`` with the slice on ``axis``."""
    index = [slice(None)] * ndim
    index[axis % ndim] = slice(start, stop)
    return tuple(index)


def replace_axis(shape, axis, length):
    """``shape`` with ``length`` on ``axis``."""
    shape = list(shape)
    shape[axis % len(shape)] = length
    return tuple(shape)


def reduced_axes(ndim, axis=None, offset=0):
    """The axes a reduction over ``axis`` of an ``ndim``-dimensional array removes, shifted
    by ``offset`` (the leading axes of a quantile's ``q``)."""
    return tuple(offset + d for d in _axes(axis, ndim))


def concatenated_length(value, axis):
    """How many entries ``value`` adds along ``axis`` as ``np.diff``'s ``prepend`` /
    ``append``: none for None, one for a scalar (broadcast), else its length."""
    if value is None:
        return 0
    return 1 if np.ndim(value) == 0 else np.shape(value)[axis]


def zeros_or_absent(value):
    """Zeros like ``value``, or NumPy's marker of an argument not given if it is None."""
    if value is None:
        return np._NoValue
    value = np.asarray(value)
    return np.zeros_like(value, dtype=_float_dtype(value))


def zeros_or_none(value):
    """Zeros like ``value``, or None if it is None."""
    if value is None:
        return None
    value = np.asarray(value)
    return np.zeros_like(value, dtype=_float_dtype(value))


def meshgrid_shape(xi, position, indexing="xy"):
    """The shape ``(1, ..., n, ..., 1)`` that input ``position`` of ``np.meshgrid(*xi)``
    takes before it is broadcast: Cartesian ``'xy'`` indexing swaps the first two axes."""
    axis = position
    if indexing == "xy" and len(xi) > 1 and position < 2:
        axis = 1 - position
    return along_axis_shape(len(xi), axis, size_of(xi[position]))


def output_tangent(ans, position, tangent):
    """The tangent of a tuple-valued result in which only entry ``position`` varies:
    ``tangent`` broadcast to that entry (a copy), zeros elsewhere."""
    return tuple(np.array(np.broadcast_to(tangent, np.shape(entry))) if index == position
                 else np.zeros_like(entry) for index, entry in enumerate(ans))


def powers_of(x, count):
    """``x[..., None] ** (count - 1, ..., 1, 0)``, in ``x``'s float dtype (``0 ** 0`` is 1):
    the powers ``np.polyval`` multiplies its coefficients by."""
    x = x if is_dispatched_array(x) else np.asarray(x)
    return np.expand_dims(x, -1) ** arange_like(count - 1, -1, -1, x)


def polyfit_weights(x, w=None, full=False, cov=False):
    """The weight of each point in ``np.polyfit(x, y, deg, w=w)`` (ones without ``w``).
    ``full`` and ``cov`` return diagnostics whose derivatives s2s does not take."""
    if full or cov:
        raise NotImplementedError("s2s differentiates np.polyfit with full=False and "
                                  "cov=False (the coefficients only)")
    return np.ones(np.shape(x)) if w is None else np.asarray(w, dtype=np.float64)


def __getattr__(name):
    """A helper published by a rule module that loads on first use (SciPy's: see
    :meth:`s2s.rules.registry.Registry.defer`), for code generated in another process
    (an exported module, ``from s2s.runtime import ...``): those rule modules load first."""
    rules = sys.modules.get("s2s.rules")      # imported with s2s (not imported here: the
    if name.startswith("__") or rules is None:  # rules import this module)
        raise AttributeError(f"module 's2s.runtime' has no attribute {name!r}")
    rules.REGISTRY.load_deferred()
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(f"module 's2s.runtime' has no attribute {name!r}") from None
