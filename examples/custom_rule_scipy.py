"""A derivative rule for a function s2s cannot read: SciPy's special functions.

`scipy.special.erf` and `scipy.special.xlogy` are compiled ufuncs with no Python source,
so s2s needs to be told their derivatives.  One declaration each serves the generated
reverse code, forward mode and the runtime tape.

    python examples/custom_rule_scipy.py
"""
import numpy as np
import scipy.special as special

import s2s

# d/dx erf(x) = 2 / sqrt(pi) * exp(-x^2): a VJP and a JVP for the one argument.
s2s.defvjp(special.erf,
           lambda g, ans, x: g * (2 / np.sqrt(np.pi)) * np.exp(-x ** 2),
           jvps=(lambda t, ans, x: t * (2 / np.sqrt(np.pi)) * np.exp(-x ** 2),))


# xlogy(x, y) = x * log(y): one decorated rule per argument; it broadcasts like a ufunc.
@s2s.vjp_rule(special.xlogy, argnum=0, broadcasting=True)
def xlogy_vjp_x(g, ans, x, y):
    return g * np.log(y)


@s2s.vjp_rule(special.xlogy, argnum=1, broadcasting=True)
def xlogy_vjp_y(g, ans, x, y):
    return g * x / y


# A count has no derivative: declared so, s2s treats its result as a constant.
s2s.nondifferentiable(np.count_nonzero)


@s2s.differentiate(wrt=("x", "y"))
def loss(x, y):
    active = np.count_nonzero(x > 0)
    return np.sum(special.erf(x) * special.xlogy(x, y)) / (1 + active)


def main():
    x = np.array([0.3, -0.5, 1.2])
    y = np.array([1.5, 2.0, 0.7])
    print(loss.source)
    dx, dy = loss.grad(x, y)
    print("d loss / dx =", np.round(dx, 6))
    print("d loss / dy =", np.round(dy, 6))

    h = 1e-6
    numeric = np.array([(loss(x + h * e, y) - loss(x - h * e, y)) / (2 * h) for e in np.eye(3)])
    print("finite differences agree:", np.allclose(dx, numeric, rtol=1e-6, atol=1e-9))

    t = s2s.tensor(x, requires_grad=True)            # the same rules on the tape
    loss.function(t, y).backward()
    print("tape agrees:", np.allclose(t.grad.numpy(), dx, rtol=1e-12, atol=0))

    _, tangent = s2s.jvp(special.erf, (x,), (np.ones(3),))   # and in forward mode
    print("forward mode d erf/dx:", np.round(tangent, 6))


if __name__ == "__main__":
    main()
