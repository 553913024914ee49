"""Forward mode versus reverse mode on a tall and a wide Jacobian (d2l.ai, automatic
differentiation, exercise 8: when to differentiate forward, when backward).

Run with:  python3 examples/forward_vs_reverse.py

Forward mode (f.jvp, generated jvp_<name> code with tangents x_d) gives one *column* of the
Jacobian per pass: J @ u.  Reverse mode (f.vjp, the pullback with adjoints x_b) gives one
*row* per pass: v @ J.  So a Jacobian of R^n -> R^m costs n forward passes or m reverse
passes: forward wins for tall Jacobians (n < m), reverse for wide ones (n > m, such as the
gradient of a loss).  benchmarks/jacobian_modes.py times the same at larger sizes.
"""
import numpy as np

import s2s

rng = np.random.default_rng(0)
W_TALL = rng.normal(size=(6, 2))      # R^2 -> R^6
W_WIDE = rng.normal(size=(2, 6))      # R^6 -> R^2


@s2s.differentiate
def tall(x):
    return np.tanh(W_TALL @ x) * np.sum(x ** 2)


@s2s.differentiate
def wide(x):
    return np.tanh(W_WIDE @ x) * np.sum(x ** 2)


def jacobian_by_columns(f, x):
    """n forward passes: column j is J @ e_j."""
    columns = []
    for j in range(x.size):
        _, column = f.jvp((x,), (np.eye(x.size)[j],))
        columns.append(column)
    return np.stack(columns, axis=1), len(columns)


def jacobian_by_rows(f, x):
    """One forward sweep, then m reverse passes: row i is e_i @ J."""
    value, pullback = f.vjp(x)
    rows = [pullback(np.eye(value.size)[i]) for i in range(value.size)]
    return np.stack(rows, axis=0), len(rows)


def main() -> None:
    for f, n in ((tall, 2), (wide, 6)):
        x = np.random.default_rng(1).normal(size=n)
        m = np.size(f(x))
        by_columns, forward_passes = jacobian_by_columns(f, x)
        by_rows, reverse_passes = jacobian_by_rows(f, x)
        print(f"{f.__name__}: R^{n} -> R^{m}, Jacobian shape {by_columns.shape}")
        print(f"  forward mode: {forward_passes} passes (one per input)")
        print(f"  reverse mode: {reverse_passes} passes (one per output)")
        print(f"  max |forward - reverse| = {np.max(np.abs(by_columns - by_rows)):.1e}")
        assert np.allclose(by_columns, by_rows, rtol=1e-12, atol=1e-14)
        for mode in ("forward", "reverse"):
            J = s2s.jacobian(f, mode=mode)(x)
            assert np.allclose(J, by_columns, rtol=1e-12, atol=1e-14)
        cheaper = "forward" if n < m else "reverse"
        print(f"  s2s.jacobian(f, mode=...) agrees for both modes; mode='auto' uses "
              f"{cheaper} here")
        # The two modes are transposes of each other: <v, J u> == <v J, u>.
        u, v = np.random.default_rng(2).normal(size=n), np.random.default_rng(3).normal(size=m)
        _, Ju = f.jvp((x,), (u,))
        vJ = f.vjp(x)[1](v)
        print(f"  dot-product test: <v, J u> = {v @ Ju:.12f}, <v J, u> = {vJ @ u:.12f}")
        assert abs(v @ Ju - vJ @ u) < 1e-12

    print("\nThe forward-mode code (each value's tangent x_d right after the value):")
    print(tall.forward_source, end="")
    print("\nThe reverse-mode code (a forward sweep, then adjoints x_b in reverse order):")
    print(tall.source, end="")


if __name__ == "__main__":
    main()
