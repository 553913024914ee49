"""Rules for arrays assembled from the entries of others: ``pad``, ``append``, ``insert``,
``delete``, ``rollaxis``, ``diagflat``, ``kron``, ``vander``, ``meshgrid``,
``broadcast_arrays``, ``linspace``, ``select``, and the cleaning conversions
``nan_to_num`` and ``real_if_close``.

Most of these copy entries.  Their VJPs are written as gathers and scatters with rules
(``np.take``, ``take_adjoint``, indexing, ``unbroadcast``) over index maps that NumPy
itself computes: ``np.pad``, ``np.insert`` and ``np.delete`` applied to the positions
``0 .. size - 1`` say which entry each result entry copies (helpers of
:mod:`s2s.runtime`, declared zero).  So every VJP is written in operations that have
rules, and gradient code can be differentiated again.

Conventions:

* ``np.pad`` is differentiated in ``array`` for the modes ``constant`` (the border is
  ``constant_values``, a parameter: a differentiated value there is refused), ``empty``
  (the border is uninitialised memory: no derivative), and ``edge``, ``reflect``,
  ``symmetric`` and ``wrap`` (entries copied into the border: the copies' cotangents add
  up).  The statistic and ramp modes, ``reflect_type='odd'`` and a callable mode raise
  ``NotImplementedError`` when the derivative runs.
* ``np.insert`` casts ``values`` to ``arr``'s dtype: an integer result takes no gradient.
* Functions returning several arrays (``meshgrid``, ``broadcast_arrays``,
  ``linspace(retstep=True)``) follow :mod:`s2s.rules.linalg`'s convention: the VJP reads
  a tuple ``g`` with one cotangent per output (None: zero), the JVP returns a tuple.
  ``meshgrid`` and ``broadcast_arrays`` take their arrays variadically, like
  ``np.einsum``: one rule position per array, up to four.
* ``np.select``'s ``condlist`` gets no gradient; ``choicelist`` is one list argument (a
  list of cotangents, as for ``np.concatenate``), and ``default`` is differentiated.
"""
import numpy as np

from ..runtime import (
    along_axis_shape,
    arange_like,
    delete_sources,
    insert_positions,
    kron_layout,
    linspace_weights,
    meshgrid_shape,
    output_tangent,
    pad_interior,
    pad_sources,
    rollaxis_destination,
    select_adjoint,
    select_masks,
    take_adjoint,
    unbroadcast,
    zeros_for_none,
)
from .domains import ArrayList, BooleanList, Shaped
from .registry import Domain, define, define_nondifferentiable

INTEGER = Domain(integer=True)          # an index or a count: examples always give it

define_nondifferentiable(pad_interior, pad_sources, delete_sources, insert_positions,
                         rollaxis_destination, kron_layout, linspace_weights, select_masks,
                         along_axis_shape, arange_like, meshgrid_shape)

# --- padding, appending, inserting, deleting --------------------------------------------------


def pad_vjp(g, ans, array, pad_width, mode="constant", constant_values=0, end_values=0,
            reflect_type="even", stat_length=None):
    # constant / empty: the interior of g.  The other modes copy entries of array into the
    # border: each entry collects the cotangents of its copies.
    if mode == "constant" or mode == "empty":
        return g[pad_interior(np.shape(array), pad_width)]
    return take_adjoint(g, array, pad_sources(np.shape(array), pad_width, mode, reflect_type))


def pad_jvp(t, ans, array, pad_width, mode="constant", constant_values=0, end_values=0,
            reflect_type="even", stat_length=None):
    if mode == "constant" or mode == "empty":
        return np.pad(t, pad_width)
    return np.take(t, pad_sources(np.shape(array), pad_width, mode, reflect_type))


define(np.pad, vjp=pad_vjp, jvp=pad_jvp, display="ConstantPadNd", linear=True,
       examples=({"pad_width": 1}, {"pad_width": ((1, 2), (0, 3)), "constant_values": 2.5},
                 {"pad_width": 2, "mode": "edge"},
                 {"pad_width": ((2, 1), (3, 4)), "mode": "reflect"},
                 {"pad_width": ((4, 5), (2, 7)), "mode": "reflect"},
                 {"pad_width": (1, 2), "mode": "symmetric"},
                 {"pad_width": ((5, 2), (9, 1)), "mode": "symmetric"},
                 {"pad_width": ((5, 7), (1, 6)), "mode": "wrap"}), complex_ok=True)


def append_vjp_arr(g, ans, arr, values, axis=None):
    # The leading part of g (both are flattened without an axis).
    if axis is None:
        return np.reshape(g[:np.size(arr)], np.shape(arr))
    return np.take(g, np.arange(np.shape(arr)[axis]), axis)


def append_vjp_values(g, ans, arr, values, axis=None):
    if axis is None:
        return np.reshape(g[np.size(arr):], np.shape(values))
    return np.take(g, np.arange(np.shape(arr)[axis], np.shape(ans)[axis]), axis)


def append_jvp_arr(t, ans, arr, values, axis=None):
    return np.append(t, np.zeros_like(values), axis)


def append_jvp_values(t, ans, arr, values, axis=None):
    return np.append(np.zeros_like(arr), t, axis)


define(np.append, vjp=(append_vjp_arr, append_vjp_values),
       jvp=(append_jvp_arr, append_jvp_values), display="Cat", linear=True,
       domains=(Shaped(shape=(2, 3)), Shaped(shape=(2, 3))),
       examples=({}, {"axis": 0}, {"axis": -1}), complex_ok=True)


def insert_vjp_arr(g, ans, arr, obj, values, axis=None):
    # arr's entries keep their order in the result: g at their places, in arr's shape.
    positions = insert_positions(np.shape(arr), obj, np.shape(values), axis, ans)
    return np.reshape(np.take(g, positions[0]), np.shape(arr))


def insert_vjp_values(g, ans, arr, obj, values, axis=None):
    # Each inserted entry copies an entry of values (broadcast): the copies add up.
    positions = insert_positions(np.shape(arr), obj, np.shape(values), axis, ans)
    return take_adjoint(np.take(g, positions[1]), values, positions[2])


def insert_jvp_arr(t, ans, arr, obj, values, axis=None):
    return np.insert(t, obj, np.zeros_like(values), axis)


def insert_jvp_values(t, ans, arr, obj, values, axis=None):
    return np.insert(np.zeros_like(arr), obj, t, axis)


define(np.insert, vjp=(insert_vjp_arr, None, insert_vjp_values),
       jvp=(insert_jvp_arr, None, insert_jvp_values), display="Insert", linear=True,
       domains=(Shaped(shape=(3, 4)), INTEGER, Shaped(shape=(3,))),
       examples=({"obj": 2}, {"obj": 1, "axis": 1}, {"obj": [0, 2, 2], "axis": 1},
                 {"obj": [4, 0, 7]}, {"obj": slice(1, 4)}), complex_ok=True)


def delete_vjp(g, ans, arr, obj, axis=None):
    # The entries kept get g; the deleted ones nothing.
    return take_adjoint(g, arr, delete_sources(np.shape(arr), obj, axis))


def delete_jvp(t, ans, arr, obj, axis=None):
    return np.delete(t, obj, axis)


define(np.delete, vjp=delete_vjp, jvp=delete_jvp, display="Delete", linear=True,
       examples=({"obj": 2}, {"obj": [0, 5, 11]}, {"obj": 1, "axis": 0},
                 {"obj": [0, 2], "axis": 1}, {"obj": slice(0, 4, 2), "axis": -1}), complex_ok=True)

# --- moving axes, diagonals, products of entries --------------------------------------------


def rollaxis_vjp(g, ans, a, axis, start=0):
    # np.rollaxis(a, axis, start) is np.moveaxis(a, axis, destination): move back.
    return np.moveaxis(g, rollaxis_destination(np.ndim(a), axis, start), axis)


def rollaxis_jvp(t, ans, a, axis, start=0):
    return np.rollaxis(t, axis, start)


define(np.rollaxis, vjp=rollaxis_vjp, jvp=rollaxis_jvp, display="Movedim", linear=True,
       domains=(Shaped(shape=(2, 3, 4)),),
       examples=({"axis": 2}, {"axis": 0, "start": 3}, {"axis": -1, "start": 1},
                 {"axis": 1, "start": -1}, {"axis": 1, "start": 1}), complex_ok=True)


def diagflat_vjp(g, ans, v, k=0):
    # The flattened v sits on diagonal k.
    return np.reshape(np.diagonal(g, k), np.shape(v))


def diagflat_jvp(t, ans, v, k=0):
    return np.diagflat(t, k)


define(np.diagflat, vjp=diagflat_vjp, jvp=diagflat_jvp, display="DiagEmbed", linear=True,
       domains=(Shaped(shape=(2, 3)),), examples=({}, {"k": 1}, {"k": -2}), complex_ok=True)


def kron_vjp_a(g, ans, a, b):
    # kron(a, b) is a times b on interleaved axes (a[i] b[j] at (i0, j0, i1, j1, ...)):
    # g in that layout, times b, summed over b's axes.
    layout = kron_layout(np.shape(a), np.shape(b))
    spread = np.reshape(g, layout[0]) * np.reshape(b, layout[2])
    return np.reshape(np.sum(spread, axis=layout[3]), np.shape(a))


def kron_vjp_b(g, ans, a, b):
    layout = kron_layout(np.shape(a), np.shape(b))
    spread = np.reshape(g, layout[0]) * np.reshape(a, layout[1])
    return np.reshape(np.sum(spread, axis=layout[4]), np.shape(b))


def kron_jvp_a(t, ans, a, b):
    return np.kron(t, b)


def kron_jvp_b(t, ans, a, b):
    return np.kron(a, t)


define(np.kron, vjp=(kron_vjp_a, kron_vjp_b), jvp=(kron_jvp_a, kron_jvp_b), display="Kron",
       domains=(Shaped(shape=(2, 3)), Shaped(shape=(3, 2))), complex_ok=True)


def vander_vjp(g, ans, x, N=None, increasing=False):  # noqa: N803  (NumPy's name)
    # Column j holds x ** p_j; its derivative p_j x ** (p_j - 1) is p_j times the column
    # of the next lower power.
    if increasing:
        powers = arange_like(1, np.shape(ans)[1], 1, ans)
        return np.sum(g[:, 1:] * ans[:, :-1] * powers, axis=1)
    powers = arange_like(np.shape(ans)[1] - 1, 0, -1, ans)
    return np.sum(g[:, :-1] * ans[:, 1:] * powers, axis=1)


def vander_jvp(t, ans, x, N=None, increasing=False):  # noqa: N803
    if increasing:
        powers = arange_like(1, np.shape(ans)[1], 1, ans)
        return np.pad(ans[:, :-1] * powers, ((0, 0), (1, 0))) * np.expand_dims(t, 1)
    powers = arange_like(np.shape(ans)[1] - 1, 0, -1, ans)
    return np.pad(ans[:, 1:] * powers, ((0, 0), (0, 1))) * np.expand_dims(t, 1)


define(np.vander, vjp=vander_vjp, jvp=vander_jvp, display="Vander",
       domains=(Shaped(shape=(4,)),),
       examples=({}, {"N": 3}, {"N": 5, "increasing": True}, {"N": 1}))

# --- several arrays out: g is a tuple (None entries: zero) -------------------------------------


def meshgrid_vjp_0(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    # Output k spreads xi[k] along one axis: its cotangent summed over the others.
    along = meshgrid_shape(xi, 0, indexing)
    return np.reshape(unbroadcast(zeros_for_none(g, ans)[0], np.reshape(xi[0], along)),
                      np.shape(xi[0]))


def meshgrid_vjp_1(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    along = meshgrid_shape(xi, 1, indexing)
    return np.reshape(unbroadcast(zeros_for_none(g, ans)[1], np.reshape(xi[1], along)),
                      np.shape(xi[1]))


def meshgrid_vjp_2(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    along = meshgrid_shape(xi, 2, indexing)
    return np.reshape(unbroadcast(zeros_for_none(g, ans)[2], np.reshape(xi[2], along)),
                      np.shape(xi[2]))


def meshgrid_vjp_3(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    along = meshgrid_shape(xi, 3, indexing)
    return np.reshape(unbroadcast(zeros_for_none(g, ans)[3], np.reshape(xi[3], along)),
                      np.shape(xi[3]))


def meshgrid_jvp_0(t, ans, *xi, copy=True, sparse=False, indexing="xy"):
    # (one tangent per output: t spread along its axis in output 0, zeros elsewhere)
    along = meshgrid_shape(xi, 0, indexing)
    return output_tangent(ans, 0, np.reshape(t, along))


def meshgrid_jvp_1(t, ans, *xi, copy=True, sparse=False, indexing="xy"):
    along = meshgrid_shape(xi, 1, indexing)
    return output_tangent(ans, 1, np.reshape(t, along))


def meshgrid_jvp_2(t, ans, *xi, copy=True, sparse=False, indexing="xy"):
    along = meshgrid_shape(xi, 2, indexing)
    return output_tangent(ans, 2, np.reshape(t, along))


def meshgrid_jvp_3(t, ans, *xi, copy=True, sparse=False, indexing="xy"):
    along = meshgrid_shape(xi, 3, indexing)
    return output_tangent(ans, 3, np.reshape(t, along))


define(np.meshgrid, vjp=(meshgrid_vjp_0, meshgrid_vjp_1, meshgrid_vjp_2, meshgrid_vjp_3),
       jvp=(meshgrid_jvp_0, meshgrid_jvp_1, meshgrid_jvp_2, meshgrid_jvp_3),
       several_outputs=True, display="Meshgrid", linear=True, domains=(Shaped(),) * 4,
       examples=({"xi": ((3,), (4,))}, {"xi": ((3,), (2, 2)), "indexing": "ij"},
                 {"xi": ((2,), (3,), (4,))}, {"xi": ((3,), (2,)), "sparse": True},
                 {"xi": ((2,), (3,), (2,), (2,)), "indexing": "ij", "sparse": True},
                 {"xi": ((4,),)}), complex_ok=True)


def broadcast_arrays_vjp_0(g, ans, *args, subok=False):
    # Each output is its input broadcast: the cotangent summed back to the input's shape.
    return unbroadcast(zeros_for_none(g, ans)[0], args[0])


def broadcast_arrays_vjp_1(g, ans, *args, subok=False):
    return unbroadcast(zeros_for_none(g, ans)[1], args[1])


def broadcast_arrays_vjp_2(g, ans, *args, subok=False):
    return unbroadcast(zeros_for_none(g, ans)[2], args[2])


def broadcast_arrays_vjp_3(g, ans, *args, subok=False):
    return unbroadcast(zeros_for_none(g, ans)[3], args[3])


def broadcast_arrays_jvp_0(t, ans, *args, subok=False):
    return output_tangent(ans, 0, t)


def broadcast_arrays_jvp_1(t, ans, *args, subok=False):
    return output_tangent(ans, 1, t)


def broadcast_arrays_jvp_2(t, ans, *args, subok=False):
    return output_tangent(ans, 2, t)


def broadcast_arrays_jvp_3(t, ans, *args, subok=False):
    return output_tangent(ans, 3, t)


define(np.broadcast_arrays,
       vjp=(broadcast_arrays_vjp_0, broadcast_arrays_vjp_1, broadcast_arrays_vjp_2,
            broadcast_arrays_vjp_3),
       jvp=(broadcast_arrays_jvp_0, broadcast_arrays_jvp_1, broadcast_arrays_jvp_2,
            broadcast_arrays_jvp_3),
       several_outputs=True, display="BroadcastTensors", linear=True,
       domains=(Shaped(),) * 4,
       examples=({"args": ((3, 1), (4,))}, {"args": ((2, 3),)},
                 {"args": ((2, 1, 3), (4, 1), ())}, {"args": ((1,), (3, 1), (1, 2), (3, 2))}),
       complex_ok=True)


def linspace_vjp_start(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                       axis=0):
    # Sample i is start + (stop - start) w_i, w_i = i / (num - 1) (i / num without the
    # endpoint); the step (retstep) is (stop - start) / (num - 1) (or / num).
    if retstep:
        samples = ans[0]
        cotangent = zeros_for_none(g, ans)[0]
    else:
        samples = ans
        cotangent = g
    weights = linspace_weights(num, endpoint, axis, np.ndim(samples), samples)
    total = np.sum(cotangent * (1 - weights), axis=axis)
    if retstep:
        total = total - zeros_for_none(g, ans)[1] / (num - 1 if endpoint else num)
    return unbroadcast(total, start)


def linspace_vjp_stop(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                      axis=0):
    if retstep:
        samples = ans[0]
        cotangent = zeros_for_none(g, ans)[0]
    else:
        samples = ans
        cotangent = g
    weights = linspace_weights(num, endpoint, axis, np.ndim(samples), samples)
    total = np.sum(cotangent * weights, axis=axis)
    if retstep:
        total = total + zeros_for_none(g, ans)[1] / (num - 1 if endpoint else num)
    return unbroadcast(total, stop)


def linspace_jvp_start(t, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                       axis=0):
    # linspace is linear in (start, stop) together.
    return np.linspace(t, np.zeros_like(stop), num, endpoint, retstep, axis=axis)


def linspace_jvp_stop(t, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None,
                      axis=0):
    return np.linspace(np.zeros_like(start), t, num, endpoint, retstep, axis=axis)


define(np.linspace, vjp=(linspace_vjp_start, linspace_vjp_stop),
       jvp=(linspace_jvp_start, linspace_jvp_stop), several_outputs=True, display="Linspace",
       linear=True,
       domains=(Shaped(shape=()), Shaped(shape=(3,))),
       examples=({"num": 5}, {"num": 4, "endpoint": False}, {"num": 3, "axis": -1},
                 {"num": 1}, {"num": 4, "retstep": True},
                 {"num": 3, "endpoint": False, "retstep": True, "axis": 1}), complex_ok=True)

# --- choosing among arrays --------------------------------------------------------------------


def select_vjp_choicelist(g, ans, condlist, choicelist, default=0):
    # Each choice gets g where it is chosen (the first true condition): a list of cotangents.
    return select_adjoint(g, condlist, choicelist)


def select_vjp_default(g, ans, condlist, choicelist, default=0):
    # default gets g where no condition holds.
    return unbroadcast(np.where(select_masks(condlist, np.shape(ans))[-1], g, 0.0), default)


def select_jvp_choicelist(t, ans, condlist, choicelist, default=0):
    # t: a list with one tangent per choice (None: zero).
    return np.select(condlist, zeros_for_none(t, choicelist), np.zeros_like(default))


def select_jvp_default(t, ans, condlist, choicelist, default=0):
    return np.where(select_masks(condlist, np.shape(ans))[-1], t, 0.0)


define(np.select, vjp=(None, select_vjp_choicelist, select_vjp_default),
       jvp=(None, select_jvp_choicelist, select_jvp_default), display="Select", linear=True,
       domains=(BooleanList(shapes=((3, 4), (4,))), ArrayList(shapes=((3, 4), (3, 1))),
                Shaped(shape=(4,))), complex_ok=True)


def select_adjoint_vjp_g(g, ans, h, condlist, choicelist):
    # g: a list of cotangents, one per choice; the choices put back where chosen.
    return np.select(condlist, zeros_for_none(g, choicelist), 0.0)


def select_adjoint_jvp_g(t, ans, h, condlist, choicelist):
    return select_adjoint(t, condlist, choicelist)


define(select_adjoint, vjp=(select_adjoint_vjp_g, None, None),
       jvp=(select_adjoint_jvp_g, None, None), display="SelectAdjoint", linear=True,
       domains=(Shaped(shape=(3, 4)), BooleanList(shapes=((3, 4), (4,))),
                ArrayList(shapes=((3, 4), (3, 1)))), complex_ok=True)

# --- cleaning conversions ----------------------------------------------------------------------


def nan_to_num_vjp(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # NaN and infinite entries are replaced by constants: no gradient there.
    return np.where(np.isfinite(x), g, 0.0)


def nan_to_num_jvp(t, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    return np.where(np.isfinite(x), t, 0.0)


define(np.nan_to_num, vjp=nan_to_num_vjp, jvp=nan_to_num_jvp, display="NanToNum",
       linear=True, elementwise=True, examples=({}, {"nan": 1.5, "posinf": 9.0}))


def real_if_close_vjp(g, ans, a, tol=100):
    # The identity on real arrays (the real part's rule where it drops tiny imaginary parts).
    return g


def real_if_close_jvp(t, ans, a, tol=100):
    if np.isrealobj(ans):
        return np.real(t)
    return t


define(np.real_if_close, vjp=real_if_close_vjp, jvp=real_if_close_jvp, display="Real",
       linear=True, elementwise=True)
