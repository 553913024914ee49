"""Functions with loops, branches, jumps and element writes (issue: control flow).

Registered in the same ZOO as tests/zoo.py, so every gradient test covers them.
"""
import numpy as np

from zoo import arrays, case, scalars


@case(arrays((3,)), tags=("while", "branch", "d2l"), cotangent=True)
def d2l_f(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


@case(arrays((3,)), tags=("while", "seed"), cotangent=True)
def doubling_while(x):
    y = x * 2
    while np.linalg.norm(y) < 1000:
        y = y * 2
    return y


@case(scalars(1), tags=("scalar", "branch"),
      sympy=lambda sp, x: sp.Piecewise((x ** 3, x > 0.5), (sp.sin(x) * 2, x > -0.5), (-x, True)) * x)
def piecewise(x):
    if x > 0.5:
        y = x ** 3
    elif x > -0.5:
        y = np.sin(x) * 2
    else:
        y = -x
    return y * x


@case(scalars(2), wrt=(0, 1), tags=("scalar", "ifexp", "boolop"),
      sympy=lambda sp, x, y: sp.Piecewise((x * y, (x > 0) & (y > 0)), (x - y, True))
      + sp.Piecewise((sp.exp(x), ~((x < -1) | (y < -1))), (y ** 2, True)))
def conditional_expression(x, y):
    z = x * y if x > 0 and y > 0 else x - y
    w = np.exp(x) if not (x < -1 or y < -1) else y ** 2
    return z + w


@case(arrays((6,)), tags=("loop", "range"))
def accumulate_products(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[(i + 1) % len(x)]
    return s


@case(arrays((5,), (5,)), wrt=(0, 1), tags=("loop", "zip", "accumulate"))
def dot_by_zip(x, w):
    s = 0.0
    for a, b in zip(x, w):
        s += a * b
    return s


@case(arrays((4, 3)), tags=("loop", "rows", "enumerate"))
def rows_with_enumerate(X):
    total = 0.0
    for i, row in enumerate(X):
        total = total + (i + 1) * np.sum(np.sin(row) * row)
    return total


def _horner_sympy(sp, x):
    y = 0
    for c in [0.5, -1.0, 2.0, 3.0, -0.25, 1.5]:    # the loop unrolled: constant bounds
        y = y * x + c
    return y


@case(scalars(1, -1.0, 1.0), tags=("scalar", "loop", "horner"), sympy=_horner_sympy)
def horner(x):
    coefficients = [0.5, -1.0, 2.0, 3.0, -0.25, 1.5]
    y = 0.0
    for c in coefficients:
        y = y * x + c
    return y


@case(arrays((3,), (1,)), wrt=(0, 1), tags=("loop", "recurrence", "ode"))
def euler_recurrence(x, k):
    dt = 0.001
    for step in range(1000):
        x = x + dt * (-k * x + np.sin(x))
    return np.sum(x ** 2)


@case(arrays((8,)), tags=("loop", "break", "continue"))
def break_and_continue(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < -1.5:
            continue
        if i > 5:
            break
        s = s + np.tanh(x[i]) * x[i]
    return s


@case(arrays((6,)), tags=("loop", "early-return"))
def early_return_in_loop(x):
    for i in range(len(x)):
        if x[i] > 1.5:
            return x[i] * np.sum(x)
    return np.sum(x ** 2)


@case(arrays((5,)), tags=("subscript-write", "loop"))
def fill_output(x):
    out = np.zeros(5)
    for i in range(5):
        out[i] = np.sin(x[i]) * x[(i + 2) % 5]
    return np.sum(out ** 2)


@case(arrays((4,)), tags=("subscript-write", "overwrite"))
def overwrite_elements(x):
    y = x * 2
    y[1] = y[0] * y[2]
    y[0] += y[3]
    y[2:4] = y[0:2] * x[1]
    return np.sum(y * y)


@case(arrays((4,)), tags=("loop", "softmax"))
def softmax_with_loops(z):
    m = z[0]
    for i in range(1, len(z)):
        if z[i] > m:
            m = z[i]
    total = 0.0
    e = np.zeros(len(z))
    for i in range(len(z)):
        e[i] = np.exp(z[i] - m)
        total += e[i]
    p = e / total
    return np.sum(p * np.arange(4.0))


@case(arrays((3, 3)), tags=("loop", "nested"))
def nested_loops(A):
    s = 0.0
    for i in range(3):
        for j in range(3):
            if j >= i:
                s = s + A[i, j] * A[j, i]
    return s


@case(arrays((4,)), tags=("while", "else", "loop-else"))
def while_else(x):
    i = 0
    s = 0.0
    while i < len(x):
        if x[i] > 1.8:
            break
        s += x[i] ** 2
        i += 1
    else:
        s = s * 2
    return s


@case(arrays((3,)), tags=("loop", "piecewise"))
def branch_inside_loop(x):
    y = x
    for k in range(4):
        if np.sum(y) > 0:
            y = y * np.cos(y)
        else:
            y = y + 0.5 * y ** 2
    return np.sum(y)


@case(scalars(2, 0.1, 1.0), wrt=(0, 1), tags=("scalar", "while", "data-dependent"))
def data_dependent_while(x, y):
    n = 0
    z = x
    while z < 10.0 and n < 50:
        z = z * (1.5 + y)
        n += 1
    return z * y


@case(arrays((6,)), tags=("loop", "branch", "carried", "product"))
def product_with_branches(x):
    # the carried adjoint p_b changes every iteration, in both branches
    p = 1.0
    for i in range(len(x)):
        if x[i] > 0:
            p = p * (1 + x[i])
        else:
            p = p * np.cos(x[i])
    return p


@case(arrays((3,)), tags=("loop", "shape-change"))
def scalar_grows_into_array(w):
    # p starts as a Python float and becomes an array: its adjoint must be summed back
    p = 1.0
    q = 0.5
    for k in range(3):
        q = q * 1.5
        p = p * (w + q)
    return np.sum(p)


@case(arrays((5,), (1,)), wrt=(0, 1), tags=("subscript-write", "view", "overlap"))
def shift_in_place(x, a):
    # y[:-1] is a view that the write to y[1:] changes: the reverse sweep must see the
    # values as they were when the product was computed
    y = x * 1.0
    y[1:] = y[:-1] * a
    t = y[0:3]
    z = np.sum(t * t)
    y[0] = 10.0 * a[0]
    return z + np.sum(y ** 2)


@case(arrays((3,), (4,)), wrt=(0, 1), tags=("loop", "list", "append", "stack"))
def rows_appended_then_stacked(x, w):
    rows = []
    for k in range(4):
        rows.append(np.sin(x * w[k]))
    return np.sum(np.stack(rows) ** 2)


@case(arrays((3,)), tags=("loop", "list", "append", "np.array"))
def list_appended_then_arrayed(x):
    values = []
    for k in range(3):
        values.append(x[k] * x[(k + 1) % 3])
    return np.sum(np.array(values) * np.array([1.0, 2.0, 3.0]))


@case(scalars(2), wrt=(0, 1), tags=("scalar", "list", "np.array"),
      sympy=lambda sp, a, b: a ** 2 + 2 * b * a + (b * b) * 3 + 4 * a)
def nested_list_literal_arrayed(a, b):
    matrix = np.array([[a, b], [b * b, a]])
    return np.sum(matrix * np.array([[a, 2 * a], [3.0, 4.0]]))


@case(arrays((4, 2)), tags=("loop", "list", "iterate-list", "unpack"))
def loop_over_a_list_of_pairs(X):
    pairs = [(X[0], X[1]), (X[2], X[3])]
    total = 0.0
    for left, right in pairs:
        total = total + np.sum(left * right)
    return total


@case(arrays((4,)), tags=("loop", "while", "list", "pop"))
def last_in_first_out(x):
    stack = []
    for k in range(4):
        stack.append(x[k] * 2.0)
    total = 0.0
    while len(stack) > 1:
        top = stack.pop()
        total = total * 0.5 + np.sin(top) * stack[-1]
    return total + stack.pop()


@case(arrays((2,)), tags=("loop", "list", "append", "read-while-appending", "trajectory"))
def trajectory_in_a_list(x):
    states = [x]
    for k in range(5):
        states.append(states[-1] * 0.9 + np.sin(states[-1]))
    return np.sum(np.stack(states) ** 2)
