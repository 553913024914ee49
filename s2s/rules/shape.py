"""Rules for operations that move elements without changing them (reshape, transpose...).

Sequence conventions (``concatenate``, ``stack``, ``hstack``, ``vstack``, ``dstack``,
``column_stack``, and the ``split`` family):

* a function taking a sequence of arrays has ONE argument, the list or tuple; its VJP
  returns a list (a :class:`~s2s.runtime.SequenceAdjoint`) with one cotangent per
  element, and its JVP takes a list ``t`` with one tangent per element (None: zero);
* a function returning a list of arrays (``split``...) receives in its VJP a list ``g``
  with one cotangent per output (None: zero), and its JVP returns a list of tangents.
"""
import numpy as np

from ..runtime import (
    array_adjoint,
    as_array,
    array_tangent,
    column_stack_adjoint,
    concatenate_adjoint,
    diag_adjoint,
    diagonal_adjoint,
    dstack_adjoint,
    hstack_adjoint,
    repeat_adjoint,
    stack_adjoint,
    tile_adjoint,
    unbroadcast,
    vstack_adjoint,
    zeros_for_none,
)
from .domains import ArrayList, Shaped
from .registry import define, define_nondifferentiable_attributes

# --- one array in, the same elements out ----------------------------------------------------


def reshape_vjp(g, ans, x, shape, order="C"):
    if order == "C":
        return np.reshape(g, np.shape(x))
    return np.reshape(g, np.shape(x), order=order)


def reshape_jvp(t, ans, x, shape, order="C"):
    if order == "C":
        return np.reshape(t, np.shape(ans))
    return np.reshape(t, np.shape(ans), order=order)


define(np.reshape, methods=("reshape",), vjp=reshape_vjp, jvp=reshape_jvp, display="Reshape",
       linear=True, examples=({"shape": (-1,)}, {"shape": (2, 1, 6)},
                              {"shape": (6, 2), "order": "F"}), complex_ok=True)


def ravel_vjp(g, ans, x, order="C"):
    if order == "C":
        return np.reshape(g, np.shape(x))
    return np.reshape(g, np.shape(x), order=order)


def ravel_jvp(t, ans, x, order="C"):
    return np.ravel(t, order=order)


# x.flatten() is x.ravel() that always copies: the same derivative.
define(np.ravel, methods=("ravel", "flatten"), vjp=ravel_vjp, jvp=ravel_jvp, display="View",
       linear=True, examples=({}, {"order": "F"}), complex_ok=True)


def transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(axes).tolist())     # a list: Dask refuses an array


def transpose_jvp(t, ans, x, axes=None):
    return np.transpose(t, axes)


define(np.transpose, methods=("transpose",), attributes=("T",), vjp=transpose_vjp,
       jvp=transpose_jvp, display="Transpose", linear=True, examples=({}, {"axes": (1, 0)}),
       complex_ok=True)

# Attributes that describe an array, not its values: no gradient flows through them.
define_nondifferentiable_attributes("shape", "ndim", "size", "dtype", "itemsize", "nbytes",
                                    "strides")


def swapaxes_vjp(g, ans, x, axis1, axis2):
    return np.swapaxes(g, axis1, axis2)


def swapaxes_jvp(t, ans, x, axis1, axis2):
    return np.swapaxes(t, axis1, axis2)


define(np.swapaxes, methods=("swapaxes",), vjp=swapaxes_vjp, jvp=swapaxes_jvp,
       display="Transpose", linear=True, examples=({"axis1": 0, "axis2": -1},), complex_ok=True)


def moveaxis_vjp(g, ans, x, source, destination):
    return np.moveaxis(g, destination, source)


def moveaxis_jvp(t, ans, x, source, destination):
    return np.moveaxis(t, source, destination)


define(np.moveaxis, vjp=moveaxis_vjp, jvp=moveaxis_jvp, display="Movedim", linear=True,
       domains=(Shaped(shape=(2, 3, 4)),),
       examples=({"source": 0, "destination": -1}, {"source": (0, 1), "destination": (2, 0)}),
       complex_ok=True)


def expand_dims_vjp(g, ans, x, axis):
    return np.reshape(g, np.shape(x))


def expand_dims_jvp(t, ans, x, axis):
    return np.expand_dims(t, axis)


define(np.expand_dims, vjp=expand_dims_vjp, jvp=expand_dims_jvp, display="Unsqueeze",
       linear=True, examples=({"axis": 0}, {"axis": (0, 3)}), complex_ok=True)


def squeeze_vjp(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


def squeeze_jvp(t, ans, x, axis=None):
    return np.squeeze(t, axis)


define(np.squeeze, methods=("squeeze",), vjp=squeeze_vjp, jvp=squeeze_jvp, display="Squeeze",
       linear=True, domains=(Shaped(shape=(3, 1, 4, 1)),), examples=({}, {"axis": 1}),
       complex_ok=True)


def atleast_vjp(g, ans, x):
    return np.reshape(g, np.shape(x))


def atleast_1d_jvp(t, ans, x):
    return np.atleast_1d(t)


def atleast_2d_jvp(t, ans, x):
    return np.atleast_2d(t)


def atleast_3d_jvp(t, ans, x):
    return np.atleast_3d(t)


# One array at a time (np.atleast_2d(x), not np.atleast_2d(x, y)).
define(np.atleast_1d, vjp=atleast_vjp, jvp=atleast_1d_jvp, display="View", linear=True,
       domains=(Shaped(shape=()),), complex_ok=True)
define(np.atleast_2d, vjp=atleast_vjp, jvp=atleast_2d_jvp, display="View", linear=True,
       domains=(Shaped(shape=(3,)),), complex_ok=True)
define(np.atleast_3d, vjp=atleast_vjp, jvp=atleast_3d_jvp, display="View", linear=True,
       domains=(Shaped(shape=(3,)),), complex_ok=True)


def broadcast_to_vjp(g, ans, x, shape, subok=False):
    return unbroadcast(g, x)


def broadcast_to_jvp(t, ans, x, shape, subok=False):
    return np.broadcast_to(t, shape)


define(np.broadcast_to, vjp=broadcast_to_vjp, jvp=broadcast_to_jvp, display="Expand",
       linear=True, domains=(Shaped(shape=(3, 1)),), examples=({"shape": (2, 3, 4)},),
       complex_ok=True)


def flip_vjp(g, ans, x, axis=None):
    return np.flip(g, axis)


def flip_jvp(t, ans, x, axis=None):
    return np.flip(t, axis)


define(np.flip, vjp=flip_vjp, jvp=flip_jvp, display="Flip", linear=True,
       examples=({}, {"axis": 0}, {"axis": (0, 1)}), complex_ok=True)


def fliplr_vjp(g, ans, x):
    return np.fliplr(g)


def fliplr_jvp(t, ans, x):
    return np.fliplr(t)


define(np.fliplr, vjp=fliplr_vjp, jvp=fliplr_jvp, display="Flip", linear=True, complex_ok=True)


def flipud_vjp(g, ans, x):
    return np.flipud(g)


def flipud_jvp(t, ans, x):
    return np.flipud(t)


define(np.flipud, vjp=flipud_vjp, jvp=flipud_jvp, display="Flip", linear=True, complex_ok=True)


def rot90_vjp(g, ans, x, k=1, axes=(0, 1)):
    return np.rot90(g, -k, axes)


def rot90_jvp(t, ans, x, k=1, axes=(0, 1)):
    return np.rot90(t, k, axes)


define(np.rot90, vjp=rot90_vjp, jvp=rot90_jvp, display="Rot90", linear=True,
       examples=({}, {"k": 3}, {"k": 1, "axes": (1, 0)}), complex_ok=True)


def roll_vjp(g, ans, x, shift, axis=None):
    return np.roll(g, np.negative(shift), axis)


def roll_jvp(t, ans, x, shift, axis=None):
    return np.roll(t, shift, axis)


define(np.roll, vjp=roll_vjp, jvp=roll_jvp, display="Roll", linear=True,
       examples=({"shift": 1}, {"shift": -2, "axis": 1}, {"shift": (1, 2), "axis": (0, 1)}),
       complex_ok=True)


def tile_vjp(g, ans, x, reps):
    # The copies of each element summed.
    return tile_adjoint(g, x, reps)


def tile_jvp(t, ans, x, reps):
    return np.tile(t, reps)


define(np.tile, vjp=tile_vjp, jvp=tile_jvp, display="Repeat", linear=True,
       examples=({"reps": 2}, {"reps": (2, 1, 3)}), complex_ok=True)


def repeat_vjp(g, ans, x, repeats, axis=None):
    # The copies of each element summed.
    return repeat_adjoint(g, x, repeats, axis)


def repeat_jvp(t, ans, x, repeats, axis=None):
    return np.repeat(t, repeats, axis)


define(np.repeat, methods=("repeat",), vjp=repeat_vjp, jvp=repeat_jvp,
       display="RepeatInterleave", linear=True,
       examples=({"repeats": 2}, {"repeats": [1, 0, 2], "axis": 0},
                 {"repeats": 2, "axis": -1}), complex_ok=True)

# --- diagonals and triangles ------------------------------------------------------------------


def diag_vjp(g, ans, x, k=0):
    # A vector placed on a diagonal, or a diagonal read off a matrix: the other one.
    return diag_adjoint(g, x, k)


def diag_jvp(t, ans, x, k=0):
    return np.diag(t, k)


define(np.diag, vjp=diag_vjp, jvp=diag_jvp, display="Diag", linear=True,
       examples=({}, {"k": 1}, {"k": -2}), complex_ok=True)


def diagonal_vjp(g, ans, x, offset=0, axis1=0, axis2=1):
    return diagonal_adjoint(g, x, offset, axis1, axis2)


def diagonal_jvp(t, ans, x, offset=0, axis1=0, axis2=1):
    return np.diagonal(t, offset, axis1, axis2)


define(np.diagonal, methods=("diagonal",), vjp=diagonal_vjp, jvp=diagonal_jvp,
       display="Diagonal", linear=True,
       examples=({}, {"offset": 1}, {"offset": -1, "axis1": 1, "axis2": 0}), complex_ok=True)


def trace_vjp(g, ans, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    shape = np.shape(np.diagonal(x, offset, axis1, axis2))
    return diagonal_adjoint(np.broadcast_to(np.expand_dims(g, -1), shape), x, offset, axis1,
                            axis2)


def trace_jvp(t, ans, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return np.trace(t, offset, axis1, axis2)


define(np.trace, methods=("trace",), vjp=trace_vjp, jvp=trace_jvp, display="Trace",
       linear=True, examples=({}, {"offset": 1}), complex_ok=True)


def triu_vjp(g, ans, x, k=0):
    return np.triu(g, k)


def triu_jvp(t, ans, x, k=0):
    return np.triu(t, k)


define(np.triu, vjp=triu_vjp, jvp=triu_jvp, display="Triu", linear=True,
       examples=({}, {"k": 1}, {"k": -1}), complex_ok=True)


def tril_vjp(g, ans, x, k=0):
    return np.tril(g, k)


def tril_jvp(t, ans, x, k=0):
    return np.tril(t, k)


define(np.tril, vjp=tril_vjp, jvp=tril_jvp, display="Tril", linear=True,
       examples=({}, {"k": 1}, {"k": -1}), complex_ok=True)

# --- sequences of arrays in: one list argument, a list of cotangents out ----------------------


def concatenate_vjp(g, ans, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    # g cut back into one piece per array: a list of cotangents.
    return concatenate_adjoint(g, arrays, axis)


def concatenate_jvp(t, ans, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    # t: a list with one tangent per array (None: zero).
    return np.concatenate(zeros_for_none(t, arrays), axis)


define(np.concatenate, vjp=concatenate_vjp, jvp=concatenate_jvp, display="Cat", linear=True,
       domains=(ArrayList(shapes=((2, 3), (1, 3))),), examples=({}, {"axis": None}, {"axis": -2}),
       complex_ok=True)


def stack_vjp(g, ans, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    # One slice of g per array: a list of cotangents.
    return stack_adjoint(g, arrays, axis)


def stack_jvp(t, ans, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    # t: a list with one tangent per array (None: zero).
    return np.stack(zeros_for_none(t, arrays), axis)


define(np.stack, vjp=stack_vjp, jvp=stack_jvp, display="Stack", linear=True,
       domains=(ArrayList(shapes=((2, 3), (2, 3), (2, 3))),),
       examples=({}, {"axis": 1}, {"axis": -1}), complex_ok=True)


def hstack_vjp(g, ans, tup, dtype=None, casting="same_kind"):
    # g cut back into one piece per array: a list of cotangents.
    return hstack_adjoint(g, tup)


def hstack_jvp(t, ans, tup, dtype=None, casting="same_kind"):
    # t: a list with one tangent per array (None: zero).
    return np.hstack(zeros_for_none(t, tup))


define(np.hstack, vjp=hstack_vjp, jvp=hstack_jvp, display="Cat", linear=True,
       domains=(ArrayList(shapes=((2, 3), (2, 1))),), complex_ok=True)


def vstack_vjp(g, ans, tup, dtype=None, casting="same_kind"):
    # g cut back into one piece per array: a list of cotangents.
    return vstack_adjoint(g, tup)


def vstack_jvp(t, ans, tup, dtype=None, casting="same_kind"):
    # t: a list with one tangent per array (None: zero).
    return np.vstack(zeros_for_none(t, tup))


define(np.vstack, vjp=vstack_vjp, jvp=vstack_jvp, display="Cat", linear=True,
       domains=(ArrayList(shapes=((3,), (2, 3))),), complex_ok=True)


def dstack_vjp(g, ans, tup):
    # g cut back into one piece per array: a list of cotangents.
    return dstack_adjoint(g, tup)


def dstack_jvp(t, ans, tup):
    # t: a list with one tangent per array (None: zero).
    return np.dstack(zeros_for_none(t, tup))


define(np.dstack, vjp=dstack_vjp, jvp=dstack_jvp, display="Cat", linear=True,
       domains=(ArrayList(shapes=((2, 3), (2, 3, 2))),), complex_ok=True)


def column_stack_vjp(g, ans, tup):
    # g cut back into one piece per array: a list of cotangents.
    return column_stack_adjoint(g, tup)


def column_stack_jvp(t, ans, tup):
    # t: a list with one tangent per array (None: zero).
    return np.column_stack(zeros_for_none(t, tup))


define(np.column_stack, vjp=column_stack_vjp, jvp=column_stack_jvp, display="Cat",
       linear=True, domains=(ArrayList(shapes=((3,), (3, 2))),), complex_ok=True)

# --- a list of arrays out: g is a list (None entries: zero) -----------------------------------


def split_vjp(g, ans, x, indices_or_sections, axis=0):
    # g: one cotangent per piece (None: zero); the pieces joined again.
    return np.concatenate(zeros_for_none(g, ans), axis)


def split_jvp(t, ans, x, indices_or_sections, axis=0):
    # A list of tangents, one per piece.
    return np.split(t, indices_or_sections, axis)


define(np.split, vjp=split_vjp, jvp=split_jvp, display="Split", linear=True,
       examples=({"indices_or_sections": 3}, {"indices_or_sections": [1, 3], "axis": 1}),
       complex_ok=True)


def array_split_vjp(g, ans, x, indices_or_sections, axis=0):
    # g: one cotangent per piece (None: zero); the pieces joined again.
    return np.concatenate(zeros_for_none(g, ans), axis)


def array_split_jvp(t, ans, x, indices_or_sections, axis=0):
    # A list of tangents, one per piece.
    return np.array_split(t, indices_or_sections, axis)


define(np.array_split, vjp=array_split_vjp, jvp=array_split_jvp, display="Split", linear=True,
       examples=({"indices_or_sections": 2}, {"indices_or_sections": 3, "axis": 1}),
       complex_ok=True)


def hsplit_vjp(g, ans, x, indices_or_sections):
    # g: one cotangent per piece (None: zero); the pieces joined again.
    return np.hstack(zeros_for_none(g, ans))


def hsplit_jvp(t, ans, x, indices_or_sections):
    # A list of tangents, one per piece.
    return np.hsplit(t, indices_or_sections)


define(np.hsplit, vjp=hsplit_vjp, jvp=hsplit_jvp, display="Split", linear=True,
       examples=({"indices_or_sections": 2}, {"indices_or_sections": [1]}), complex_ok=True)


def vsplit_vjp(g, ans, x, indices_or_sections):
    # g: one cotangent per piece (None: zero); the pieces joined again.
    return np.vstack(zeros_for_none(g, ans))


def vsplit_jvp(t, ans, x, indices_or_sections):
    # A list of tangents, one per piece.
    return np.vsplit(t, indices_or_sections)


define(np.vsplit, vjp=vsplit_vjp, jvp=vsplit_jvp, display="Split", linear=True,
       examples=({"indices_or_sections": 3}, {"indices_or_sections": [2]}), complex_ok=True)


def dsplit_vjp(g, ans, x, indices_or_sections):
    # g: one cotangent per piece (None: zero); the pieces joined again.
    return np.dstack(zeros_for_none(g, ans))


def dsplit_jvp(t, ans, x, indices_or_sections):
    # A list of tangents, one per piece.
    return np.dsplit(t, indices_or_sections)


define(np.dsplit, vjp=dsplit_vjp, jvp=dsplit_jvp, display="Split", linear=True,
       domains=(Shaped(shape=(2, 2, 4)),), examples=({"indices_or_sections": 2},), complex_ok=True)

# --- copies and conversions -------------------------------------------------------------------


def array_vjp(g, ans, x, dtype=None):
    # a list of values in: a list of cotangents out, one slice of g each
    return array_adjoint(g, x)


def array_jvp(t, ans, x, dtype=None):
    # a copy, like the primal: a tangent aliasing a view would change with later writes
    return array_tangent(t, x)


define(np.array, aliases=(np.asarray, as_array), vjp=array_vjp, jvp=array_jvp, display="Copy",
       linear=True, elementwise=True, complex_ok=True)


def copy_vjp(g, ans, x, order="K", subok=False):
    return g


def copy_jvp(t, ans, x, order="K", subok=False):
    # a copy, like the primal: a tangent aliasing a view would change with later writes
    return np.copy(t)


define(np.copy, methods=("copy",), vjp=copy_vjp, jvp=copy_jvp, display="Clone", linear=True,
       elementwise=True, complex_ok=True)


def astype_vjp(g, ans, x, dtype, copy=True):
    # The identity, back in x's float dtype (the real part for a real x cast to complex).
    # Casts to integers make no float result, so nothing is recorded for them (the tape)
    # and they are constants (generated code).
    if np.iscomplexobj(x):
        return as_array(g).astype(np.result_type(as_array(x), np.float32))
    return as_array(np.real(g)).astype(np.result_type(as_array(x), np.float32))


def astype_jvp(t, ans, x, dtype, copy=True):
    # the real part for a complex x cast to a real dtype (NumPy drops the imaginary part)
    if np.iscomplexobj(ans):
        return as_array(t).astype(np.result_type(ans))
    return as_array(np.real(t)).astype(np.result_type(ans))


if hasattr(np, "astype"):                              # NumPy >= 2.1 only
    define(np.astype, methods=("astype",), vjp=astype_vjp, jvp=astype_jvp, display="ToCopy",
           linear=True, elementwise=True, examples=({"dtype": np.float64},), complex_ok=True)
