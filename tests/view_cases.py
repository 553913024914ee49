"""Loops over views, and views read after a write to the array they see (issue 15, item 1).

Each function ``f(x, y)`` of a float vector ``x`` (3 entries) and a float ``y`` either has
a gradient s2s must get right (``DIFFERENTIABLE`` in tests/test_soundness.py) or reads a
value through a view, or an array through a view written in place, where the adjoint of
the view would miss the write: refused with an UnsupportedError naming both lines, never a
wrong number.  The first one was found by a long random-program run
(tests/regressions/zip_over_a_transposed_view_of_a_written_array.py).
"""
import numpy as np

def zip_transpose(x, y):
    out = np.zeros(3)
    out[0] = x[0] * 1.0
    for a, b in zip(x, out.T):
        out[1:] = b * 2.0
    return np.sum(out) + y

def iterate_transpose(x, y):
    out = x * 1.0
    s = 0.0
    for r in out.T:
        out[1:] = out[1:] + r * y
        s = s + r
    return s + np.sum(out)

def iterate_np_transpose(x, y):
    out = x * 1.0
    s = 0.0
    for r in np.transpose(out):
        out[2] = r * y
        s = s + r
    return s

def iterate_reversed_slice(x, y):
    out = x * 1.0
    s = 0.0
    for r in out[::-1]:
        out[0] = out[0] + r * y
        s = s + r * r
    return s + np.sum(out)

def iterate_reshape(x, y):
    out = x * 1.0
    s = 0.0
    for r in out.reshape(3):
        out[2] = r * y
        s = s + r
    return s

def iterate_np_reshape(x, y):
    out = x * 1.0
    s = 0.0
    for r in np.reshape(out, (3,)):
        out[2] = r * y
        s = s + r
    return s

def iterate_ravel(x, y):
    out = np.outer(x, x)
    s = 0.0
    for r in out.ravel():
        out[2, 2] = r * y
        s = s + r
    return s

def enumerate_slice(x, y):
    out = x * 1.0
    s = 0.0
    for i, r in enumerate(out[1:]):
        out[i + 1] = out[i] * y
        s = s + r
    return s

def rows_of_a_matrix(x, y):
    A = np.outer(x, x)
    s = 0.0
    for row in A:
        A[2] = A[2] + row * y
        s = s + np.sum(row)
    return s + np.sum(A)

def rows_of_a_matrix_read_after_write(x, y):
    A = np.outer(x, x)
    s = 0.0
    for row in A:
        A[1:] = A[1:] * y
        s = s + np.sum(row)
    return s

def columns_of_a_matrix(x, y):
    A = np.outer(x, x)
    s = 0.0
    for col in A.T:
        A[:, 2] = col * y
        s = s + np.sum(col)
    return s

def alias_view_before_loop(x, y):
    out = x * 1.0
    v = out.T
    s = 0.0
    for r in v:
        out[2] = r * y
        s = s + r
    return s

def transpose_read_after_write(x, y):
    out = x * 1.0
    v = out.T
    out[0] = y * x[1]
    return np.sum(v * v)

def reshape_read_after_write(x, y):
    out = x * 1.0
    v = out.reshape(3, 1)
    out[0] = y * x[1]
    return np.sum(v * v)

def row_read_after_write(x, y):
    A = np.outer(x, x)
    r = A[0]
    A[0, 1] = y * x[2]
    return np.sum(r * r)

def row_index_read_after_write(x, y):
    A = np.outer(x, x)
    i = 1
    r = A[i]
    A[1, 0] = y * x[2]
    return np.sum(r * r)

def np_flip_loop(x, y):
    out = x * 1.0
    s = 0.0
    for r in np.flip(out):
        out[0] = r * y
        s = s + r
    return s

def asarray_read_after_write(x, y):
    out = x * 1.0
    v = np.asarray(out)
    out[0] = y * x[1]
    return np.sum(v * v)

def squeeze_read_after_write(x, y):
    out = np.outer(x, x)[0:1]
    v = out.squeeze()
    out[0, 0] = y * x[1]
    return np.sum(v * v)

def swapaxes_loop(x, y):
    A = np.outer(x, x)
    s = 0.0
    for col in np.swapaxes(A, 0, 1):
        A[:, 0] = col * y
        s = s + np.sum(col * col)
    return s

def diagonal_read_after_write(x, y):
    A = np.outer(x, x)
    d = np.diagonal(A)
    A[1, 1] = y
    return np.sum(d * d)

def real_read_after_write(x, y):
    out = x * 1.0
    v = out.real
    out[0] = y * x[1]
    return np.sum(v * v)

def zip_two_views(x, y):
    out = x * 1.0
    s = 0.0
    for a, b in zip(out.T, out[::-1]):
        out[1] = a * b * y
        s = s + a + b
    return s

def chained_views_read_after_write(x, y):
    out = x * 1.0
    v = out[0:2]
    w = v[0:1]
    out[0] = y * x[1]
    return np.sum(w * w) + np.sum(v)

def write_through_a_view(x, y):
    out = x * 1.0
    v = out[0:2]
    v[0] = y * x[1]
    return np.sum(out * out)

def write_through_a_transpose(x, y):
    out = x * 1.0
    v = out.T
    v[0] = y * x[1]
    return np.sum(out * out)

def write_through_a_row(x, y):
    A = np.outer(x, x)
    r = A[0]
    r[1] = y * x[2]
    return np.sum(A * A)

def swap_scalars(x, y):
    out = x * y
    t = out[0]
    out[0] = out[1]
    out[1] = t
    return out[0] * 2.0 + out[1] * t

def loop_rows_write_through(x, y):
    A = np.outer(x, x)
    for row in A:
        row[0] = row[1] * y
    return np.sum(A * A)

def iterate_a_vector_written_in_place(x, y):
    out = x * 1.0
    s = 0.0
    for t in out:
        out[2] = t * y
        s = s + t * t
    return s + np.sum(out)

def rows_read_before_the_write(x, y):
    A = np.outer(x, x)
    s = 0.0
    for i in range(3):
        row = A[i]
        s = s + np.sum(row * row)
        A[i] = A[i] * y
    return s + np.sum(A)
