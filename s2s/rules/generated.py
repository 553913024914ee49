"""Rules for the helpers that generated code calls, so generated code can be differentiated.

Reverse-mode code calls ``unbroadcast``, ``broadcast_like``, ``index_adjoint``, the
adjoints of shape operations (``stack_adjoint``, ``take_adjoint``...), of products
(``matmul_adjoint_x/y``, ``dot_adjoint``...) and ``zeros_like`` from :mod:`s2s.runtime`,
and copies lists of saved values with ``list``.  Each of these is linear in the cotangent
it moves (the product adjoints are bilinear), so its derivatives are again such helpers.
The adjoints of nonlinear operations (``norm_adjoint``, ``cumprod_adjoint``, the
decompositions of linear algebra) are written in operations that have rules: they are
declared with :func:`~s2s.rules.registry.define_from_source`, and code generation reads
their source like a user's function.  Helpers that compute only dtypes, shapes or masks
(``split_evenly``'s tie weights) are declared zero.  ``einsum_argument_adjoint``, whose
subscripts are computed from its arguments, has a rule of its own (it is multilinear).
Any other helper is refused with :class:`s2s.MissingRuleError` naming it.  With these
rules the gradient code can be differentiated like user code: forward-over-reverse gives
Hessian-vector products and second derivatives, for every rule of the registry
(``tests/test_second_order_rules.py``).
"""
import numpy as np

from ..runtime import (add_cotangents, adjoint_copy, adjoint_read, array_adjoint, array_tangent,
                       broadcast_like, column_stack_adjoint, concatenate_adjoint, copy_value,
                       cotangent_for,
                       diag_adjoint, diagonal_adjoint, dot_adjoint, double_spectrum,
                       dstack_adjoint, fft_axes, fft_lengths, fit_to, half_spectrum,
                       einsum_adjoint_cotangents, einsum_adjoint_tangent,
                       einsum_argument_adjoint, einsum_argument_tangent, hstack_adjoint,
                       index_accumulate, index_accumulate_tangent, index_adjoint,
                       inner_adjoint, list_adjoint, matmul_adjoint_x, matmul_adjoint_y,
                       repeat_adjoint, sequence_copy, stack_adjoint, take_adjoint,
                       take_along_axis_adjoint, tensordot_adjoint, tile_adjoint, unbroadcast,
                       vstack_adjoint, zeros_for_none, zeros_like)
from .. import runtime
from .registry import define, define_from_source, define_nondifferentiable

define_nondifferentiable(zeros_like)

# --- helpers of nonlinear rules: differentiated from their source, or zero -----------------
# Zero: a dtype (_float_dtype), a flag (_solves_vector), axes and shapes (_axes,
# _moved_shape), the weights sharing a cotangent among tied entries (split_evenly: a
# function of a boolean mask), the pairs of equal eigenvalues (_ties, _tied_columns), where
# NumPy fixes an eigenvector's phase and where that jumps (_eigenvector_gauge, _phase_ties).
define_nondifferentiable(runtime._float_dtype, runtime._solves_vector, runtime._axes,
                         runtime.split_evenly, runtime._moved_shape, runtime._ties,
                         runtime._tied_columns, runtime._eigenvector_gauge,
                         runtime._phase_ties)
define_from_source(
    runtime._transpose, runtime._gaps, runtime._shared, runtime._phi, runtime._read_triangle,
    runtime._along_first, runtime._svd_factors, runtime._matrix_norm_derivative, runtime._unit,
    runtime.zeros_for_none, runtime.list_adjoint, runtime.product_of_others,
    runtime._dispatched_cumprod_adjoint, runtime.cumprod_adjoint, runtime.norm_adjoint,
    runtime.solve_adjoint_a, runtime.solve_adjoint_b, runtime.adjugate, runtime.logdet_adjoint,
    runtime.cholesky_adjoint, runtime.eigh_adjoint, runtime.svd_adjoint,
    runtime.pinv_adjoint, runtime._distinct_eigenvalues, runtime._matched_eigenvectors,
    runtime.eig_adjoint, runtime.eigvals_adjoint, runtime.eigvalsh_adjoint,
    runtime._qr_factors, runtime._full_rank, runtime._qr_adjoint_tall, runtime.qr_adjoint,
    runtime._lstsq_parts, runtime.lstsq_adjoint, runtime.matrix_power_adjoint,
    runtime._multi_dot_matrices, runtime.multi_dot_adjoint, runtime._tensorsolve_matrix,
    runtime.tensorsolve_adjoint, runtime.tensorinv_adjoint, runtime.cond_adjoint)


def unbroadcast_vjp(g, ans, x, like):
    return broadcast_like(g, x)


def unbroadcast_jvp(t, ans, x, like):
    return unbroadcast(t, like)


define(unbroadcast, vjp=(unbroadcast_vjp, None), jvp=(unbroadcast_jvp, None), linear=True,
       display="Unbroadcast", complex_ok=True)


def broadcast_like_vjp(g, ans, x, like):
    return unbroadcast(g, x)


def broadcast_like_jvp(t, ans, x, like):
    return broadcast_like(t, like)


define(broadcast_like, vjp=(broadcast_like_vjp, None), jvp=(broadcast_like_jvp, None),
       linear=True, display="BroadcastLike", complex_ok=True)


# --- what the lowering for Dask and CuPy arrays calls instead of np.copy and np.size ------

def copy_value_vjp(g, ans, x):
    return g


def copy_value_jvp(t, ans, x):
    return copy_value(t)


define(copy_value, vjp=copy_value_vjp, jvp=copy_value_jvp, linear=True, display="Clone",
       elementwise=True, complex_ok=True)
define_nondifferentiable(runtime.size_of)


def index_adjoint_vjp(g, ans, x, like, index):
    return adjoint_read(g, like, index)


def index_adjoint_jvp(t, ans, x, like, index):
    return index_adjoint(t, like, index)


define(index_adjoint, vjp=(index_adjoint_vjp, None, None),
       jvp=(index_adjoint_jvp, None, None), linear=True, display="IndexAdjoint", complex_ok=True)


def matmul_adjoint_x_jvp_g(t, ans, h, x, y):
    return matmul_adjoint_x(t, x, y)


def matmul_adjoint_x_jvp_y(t, ans, h, x, y):
    return matmul_adjoint_x(h, x, t)


def matmul_adjoint_x_vjp_g(g, ans, h, x, y):
    return np.matmul(g, y)


def matmul_adjoint_x_vjp_y(g, ans, h, x, y):
    return matmul_adjoint_y(h, g, y)


define(matmul_adjoint_x, vjp=(matmul_adjoint_x_vjp_g, None, matmul_adjoint_x_vjp_y),
       jvp=(matmul_adjoint_x_jvp_g, None, matmul_adjoint_x_jvp_y), display="MatmulAdjointX",
       complex_ok=True)


def matmul_adjoint_y_jvp_g(t, ans, h, x, y):
    return matmul_adjoint_y(t, x, y)


def matmul_adjoint_y_jvp_x(t, ans, h, x, y):
    return matmul_adjoint_y(h, t, y)


def matmul_adjoint_y_vjp_g(g, ans, h, x, y):
    return np.matmul(x, g)


def matmul_adjoint_y_vjp_x(g, ans, h, x, y):
    return matmul_adjoint_x(h, x, g)


define(matmul_adjoint_y, vjp=(matmul_adjoint_y_vjp_g, matmul_adjoint_y_vjp_x, None),
       jvp=(matmul_adjoint_y_jvp_g, matmul_adjoint_y_jvp_x, None), display="MatmulAdjointY",
       complex_ok=True)


def list_vjp(g, ans, x):
    return list_adjoint(g, x)


def list_jvp(t, ans, x):
    return sequence_copy(t)


# list(saved) in generated code copies a list; list(array) splits an array into rows
define(list, vjp=list_vjp, jvp=list_jvp, linear=True, display="List", complex_ok=True)


# --- the adjoints of linear shape operations ------------------------------------------------
# Each helper moves its cotangent ``g`` linearly; the other arguments give shapes only.  Its
# JVP is the helper applied to the tangent, and its VJP the primal operation it transposes.


def array_adjoint_vjp(g, ans, x, like):
    return array_tangent(g, like)


def array_adjoint_jvp(t, ans, x, like):
    return array_adjoint(t, like)


define(array_adjoint, vjp=(array_adjoint_vjp, None), jvp=(array_adjoint_jvp, None),
       linear=True, display="ArrayAdjoint", complex_ok=True)


def array_tangent_vjp(g, ans, x, like):
    return array_adjoint(g, like)


def array_tangent_jvp(t, ans, x, like):
    return array_tangent(t, like)


define(array_tangent, vjp=(array_tangent_vjp, None), jvp=(array_tangent_jvp, None),
       linear=True, display="ArrayTangent", complex_ok=True)


def concatenate_adjoint_vjp(g, ans, x, xs, axis=0):
    flat = np.concatenate([np.ravel(item) for item in zeros_for_none(g, xs)])
    return np.reshape(flat, np.shape(x)) if axis is None \
        else np.concatenate(zeros_for_none(g, xs), axis)


def concatenate_adjoint_jvp(t, ans, x, xs, axis=0):
    return concatenate_adjoint(t, xs, axis)


define(concatenate_adjoint, vjp=(concatenate_adjoint_vjp, None, None),
       jvp=(concatenate_adjoint_jvp, None, None), linear=True, display="CatAdjoint",
       complex_ok=True)


def stack_adjoint_vjp(g, ans, x, xs, axis=0):
    return np.stack(zeros_for_none(g, xs), axis)


def stack_adjoint_jvp(t, ans, x, xs, axis=0):
    return stack_adjoint(t, xs, axis)


define(stack_adjoint, vjp=(stack_adjoint_vjp, None, None),
       jvp=(stack_adjoint_jvp, None, None), linear=True, display="StackAdjoint", complex_ok=True)


def hstack_adjoint_vjp(g, ans, x, xs):
    return np.hstack(zeros_for_none(g, xs))


def hstack_adjoint_jvp(t, ans, x, xs):
    return hstack_adjoint(t, xs)


define(hstack_adjoint, vjp=(hstack_adjoint_vjp, None), jvp=(hstack_adjoint_jvp, None),
       linear=True, display="CatAdjoint", complex_ok=True)


def vstack_adjoint_vjp(g, ans, x, xs):
    return np.vstack(zeros_for_none(g, xs))


def vstack_adjoint_jvp(t, ans, x, xs):
    return vstack_adjoint(t, xs)


define(vstack_adjoint, vjp=(vstack_adjoint_vjp, None), jvp=(vstack_adjoint_jvp, None),
       linear=True, display="CatAdjoint", complex_ok=True)


def dstack_adjoint_vjp(g, ans, x, xs):
    return np.dstack(zeros_for_none(g, xs))


def dstack_adjoint_jvp(t, ans, x, xs):
    return dstack_adjoint(t, xs)


define(dstack_adjoint, vjp=(dstack_adjoint_vjp, None), jvp=(dstack_adjoint_jvp, None),
       linear=True, display="CatAdjoint", complex_ok=True)


def column_stack_adjoint_vjp(g, ans, x, xs):
    return np.column_stack(zeros_for_none(g, xs))


def column_stack_adjoint_jvp(t, ans, x, xs):
    return column_stack_adjoint(t, xs)


define(column_stack_adjoint, vjp=(column_stack_adjoint_vjp, None),
       jvp=(column_stack_adjoint_jvp, None), linear=True, display="CatAdjoint", complex_ok=True)


def tile_adjoint_vjp(g, ans, x, like, reps):
    return np.tile(g, reps)


def tile_adjoint_jvp(t, ans, x, like, reps):
    return tile_adjoint(t, like, reps)


define(tile_adjoint, vjp=(tile_adjoint_vjp, None, None), jvp=(tile_adjoint_jvp, None, None),
       linear=True, display="TileAdjoint", complex_ok=True)


def repeat_adjoint_vjp(g, ans, x, like, repeats, axis=None):
    return np.repeat(g, repeats, axis)


def repeat_adjoint_jvp(t, ans, x, like, repeats, axis=None):
    return repeat_adjoint(t, like, repeats, axis)


define(repeat_adjoint, vjp=(repeat_adjoint_vjp, None, None),
       jvp=(repeat_adjoint_jvp, None, None), linear=True, display="RepeatAdjoint", complex_ok=True)


def diagonal_adjoint_vjp(g, ans, x, like, offset=0, axis1=0, axis2=1):
    return np.diagonal(g, offset, axis1, axis2)


def diagonal_adjoint_jvp(t, ans, x, like, offset=0, axis1=0, axis2=1):
    return diagonal_adjoint(t, like, offset, axis1, axis2)


define(diagonal_adjoint, vjp=(diagonal_adjoint_vjp, None), jvp=(diagonal_adjoint_jvp, None),
       linear=True, display="DiagonalAdjoint", complex_ok=True)


def diag_adjoint_vjp(g, ans, x, like, k=0):
    return np.diag(g, k)


def diag_adjoint_jvp(t, ans, x, like, k=0):
    return diag_adjoint(t, like, k)


define(diag_adjoint, vjp=(diag_adjoint_vjp, None), jvp=(diag_adjoint_jvp, None),
       linear=True, display="DiagAdjoint", complex_ok=True)


def take_adjoint_vjp(g, ans, x, like, indices, axis=None, mode="raise"):
    return np.take(g, indices, axis, mode=mode)


def take_adjoint_jvp(t, ans, x, like, indices, axis=None, mode="raise"):
    return take_adjoint(t, like, indices, axis, mode)


define(take_adjoint, vjp=(take_adjoint_vjp, None, None), jvp=(take_adjoint_jvp, None, None),
       linear=True, display="TakeAdjoint", complex_ok=True)


def take_along_axis_adjoint_vjp(g, ans, x, like, indices, axis=-1):
    return np.take_along_axis(g, indices, axis)


def take_along_axis_adjoint_jvp(t, ans, x, like, indices, axis=-1):
    return take_along_axis_adjoint(t, like, indices, axis)


define(take_along_axis_adjoint, vjp=(take_along_axis_adjoint_vjp, None, None),
       jvp=(take_along_axis_adjoint_jvp, None, None), linear=True,
       display="TakeAlongAxisAdjoint", complex_ok=True)

# --- the adjoints of bilinear products ---------------------------------------------------------
# ``r = helper(g, a, b, which)`` is the cotangent of operand ``which`` of a product P(a, b):
# linear in g and in the *other* operand; the operand ``which`` gives its shape only.  For
# which = 0, <h, r> = <g, P(h, b)>, so the VJP for g is P(h, b) and for b it is the cotangent
# of b in <g, P(h, b)>; which = 1 is the mirror image.


def dot_adjoint_vjp_g(g, ans, x, a, b, which):
    return np.dot(g, b) if which == 0 else np.dot(a, g)


def dot_adjoint_vjp_a(g, ans, x, a, b, which):
    return zeros_like(a) if which == 0 else dot_adjoint(x, a, g, 0)


def dot_adjoint_vjp_b(g, ans, x, a, b, which):
    return dot_adjoint(x, g, b, 1) if which == 0 else zeros_like(b)


def dot_adjoint_jvp_g(t, ans, x, a, b, which):
    return dot_adjoint(t, a, b, which)


def dot_adjoint_jvp_a(t, ans, x, a, b, which):
    return zeros_like(ans) if which == 0 else dot_adjoint(x, t, b, which)


def dot_adjoint_jvp_b(t, ans, x, a, b, which):
    return dot_adjoint(x, a, t, which) if which == 0 else zeros_like(ans)


define(dot_adjoint, vjp=(dot_adjoint_vjp_g, dot_adjoint_vjp_a, dot_adjoint_vjp_b, None),
       jvp=(dot_adjoint_jvp_g, dot_adjoint_jvp_a, dot_adjoint_jvp_b, None),
       display="DotAdjoint", complex_ok=True)


def inner_adjoint_vjp_g(g, ans, x, a, b, which):
    return np.inner(g, b) if which == 0 else np.inner(a, g)


def inner_adjoint_vjp_a(g, ans, x, a, b, which):
    return zeros_like(a) if which == 0 else inner_adjoint(x, a, g, 0)


def inner_adjoint_vjp_b(g, ans, x, a, b, which):
    return inner_adjoint(x, g, b, 1) if which == 0 else zeros_like(b)


def inner_adjoint_jvp_g(t, ans, x, a, b, which):
    return inner_adjoint(t, a, b, which)


def inner_adjoint_jvp_a(t, ans, x, a, b, which):
    return zeros_like(ans) if which == 0 else inner_adjoint(x, t, b, which)


def inner_adjoint_jvp_b(t, ans, x, a, b, which):
    return inner_adjoint(x, a, t, which) if which == 0 else zeros_like(ans)


define(inner_adjoint, vjp=(inner_adjoint_vjp_g, inner_adjoint_vjp_a, inner_adjoint_vjp_b, None),
       jvp=(inner_adjoint_jvp_g, inner_adjoint_jvp_a, inner_adjoint_jvp_b, None),
       display="InnerAdjoint", complex_ok=True)


def tensordot_adjoint_vjp_g(g, ans, x, a, b, axes, which):
    return np.tensordot(g, b, axes) if which == 0 else np.tensordot(a, g, axes)


def tensordot_adjoint_vjp_a(g, ans, x, a, b, axes, which):
    return zeros_like(a) if which == 0 else tensordot_adjoint(x, a, g, axes, 0)


def tensordot_adjoint_vjp_b(g, ans, x, a, b, axes, which):
    return tensordot_adjoint(x, g, b, axes, 1) if which == 0 else zeros_like(b)


def tensordot_adjoint_jvp_g(t, ans, x, a, b, axes, which):
    return tensordot_adjoint(t, a, b, axes, which)


def tensordot_adjoint_jvp_a(t, ans, x, a, b, axes, which):
    return zeros_like(ans) if which == 0 else tensordot_adjoint(x, t, b, axes, which)


def tensordot_adjoint_jvp_b(t, ans, x, a, b, axes, which):
    return tensordot_adjoint(x, a, t, axes, which) if which == 0 else zeros_like(ans)


define(tensordot_adjoint,
       vjp=(tensordot_adjoint_vjp_g, tensordot_adjoint_vjp_a, tensordot_adjoint_vjp_b, None,
            None),
       jvp=(tensordot_adjoint_jvp_g, tensordot_adjoint_jvp_a, tensordot_adjoint_jvp_b, None,
            None),
       display="TensordotAdjoint", complex_ok=True)


def index_accumulate_vjp_adjoint(g, ans, adjoint, x, like, index):
    return g


def index_accumulate_vjp_x(g, ans, adjoint, x, like, index):
    return adjoint_read(g, like, index)


def index_accumulate_jvp_adjoint(t, ans, adjoint, x, like, index):
    return t


def index_accumulate_jvp_x(t, ans, adjoint, x, like, index):
    return index_accumulate_tangent(t, ans, like, index)


# Reading an adjoint at an index or a field, and placing a tangent there: each the other's
# transpose (linear in the first argument; the rest give the structure).


def adjoint_read_vjp(g, ans, x, like, index):
    return index_accumulate_tangent(g, x, like, index)


def adjoint_read_jvp(t, ans, x, like, index):
    return adjoint_read(t, like, index)


define(adjoint_read, vjp=(adjoint_read_vjp, None, None), jvp=(adjoint_read_jvp, None, None),
       linear=True, display="AdjointRead")


def index_accumulate_tangent_vjp(g, ans, x, shaped, like, index):
    return adjoint_read(g, like, index)


def index_accumulate_tangent_jvp(t, ans, x, shaped, like, index):
    return index_accumulate_tangent(t, shaped, like, index)


define(index_accumulate_tangent, vjp=(index_accumulate_tangent_vjp, None, None, None),
       jvp=(index_accumulate_tangent_jvp, None, None, None), linear=True,
       display="IndexAccumulateTangent")


define(index_accumulate, vjp=(index_accumulate_vjp_adjoint, index_accumulate_vjp_x, None, None),
       jvp=(index_accumulate_jvp_adjoint, index_accumulate_jvp_x, None, None), linear=True,
       display="IndexAccumulate", complex_ok=True)


def add_cotangents_vjp(g, ans, a, b):
    return g


def add_cotangents_jvp(t, ans, a, b):
    return t


# xs_b[-1] = add_cotangents(xs_b[-1], g): a list's adjoint entries may be None (zero)
define(add_cotangents, vjp=(add_cotangents_vjp, add_cotangents_vjp),
       jvp=(add_cotangents_jvp, add_cotangents_jvp), linear=True, display="AddCotangents")


def adjoint_copy_vjp(g, ans, adjoint, like=None):
    return adjoint_copy(g, adjoint)


def adjoint_copy_jvp(t, ans, adjoint, like=None):
    return adjoint_copy(t, adjoint)


# ``like`` gives the shapes of the zeros for None entries only: no derivative.
define(adjoint_copy, vjp=(adjoint_copy_vjp, None), jvp=(adjoint_copy_jvp, None), linear=True,
       display="AdjointCopy", complex_ok=True)


# ``einsum_argument_adjoint(x, arguments, position)``: the cotangent of operand ``position``
# of ``np.einsum(*arguments)`` for the cotangent ``x``, one einsum of ``x`` with the other
# operands.  Linear in ``x`` and in each other operand (``<h, r> = <x, einsum(arguments with
# h at position)>``); the operand at ``position`` gives its shape only, the subscripts none.


def einsum_argument_adjoint_vjp_x(g, ans, x, arguments, position):
    return einsum_argument_tangent(g, arguments, position)


def einsum_argument_adjoint_vjp_arguments(g, ans, x, arguments, position):
    return einsum_adjoint_cotangents(g, x, arguments, position)


def einsum_argument_adjoint_jvp_x(t, ans, x, arguments, position):
    return einsum_argument_adjoint(t, arguments, position)


def einsum_argument_adjoint_jvp_arguments(t, ans, x, arguments, position):
    return einsum_adjoint_tangent(x, arguments, t, position)


define(einsum_argument_adjoint,
       vjp=(einsum_argument_adjoint_vjp_x, einsum_argument_adjoint_vjp_arguments, None),
       jvp=(einsum_argument_adjoint_jvp_x, einsum_argument_adjoint_jvp_arguments, None),
       display="EinsumAdjoint")



# --- the adjoints of the FFTs (s2s/rules/fft.py): linear in the cotangent they move ---------

define_nondifferentiable(fft_axes, fft_lengths)           # functions of shapes


def fit_to_vjp(g, ans, x, like, axes):
    return fit_to(g, x, axes)


def fit_to_jvp(t, ans, x, like, axes):
    return fit_to(t, like, axes)


define(fit_to, vjp=(fit_to_vjp, None, None), jvp=(fit_to_jvp, None, None),
       linear=True, display="FitTo", complex_ok=True)


def half_spectrum_vjp(g, ans, x, n, axis):
    # a real diagonal scaling: its own transpose
    return half_spectrum(g, n, axis)


def half_spectrum_jvp(t, ans, x, n, axis):
    return half_spectrum(t, n, axis)


define(half_spectrum, vjp=(half_spectrum_vjp, None, None),
       jvp=(half_spectrum_jvp, None, None), linear=True, display="HalfSpectrum", complex_ok=True)


def double_spectrum_vjp(g, ans, x, n, axis):
    return double_spectrum(g, n, axis)


def double_spectrum_jvp(t, ans, x, n, axis):
    return double_spectrum(t, n, axis)


define(double_spectrum, vjp=(double_spectrum_vjp, None, None),
       jvp=(double_spectrum_jvp, None, None), linear=True, display="DoubleSpectrum",
       complex_ok=True)


def cotangent_for_vjp(g, ans, x, like):
    # the real part for a real like, else the identity: its own transpose
    return cotangent_for(g, like)


def cotangent_for_jvp(t, ans, x, like):
    return cotangent_for(t, like)


define(cotangent_for, complex_ok=True, vjp=(cotangent_for_vjp, None),
       jvp=(cotangent_for_jvp, None), linear=True, display="CotangentFor")
