"""Complex numbers: inputs, intermediates and outputs, under one convention.

The gradient of a real-valued ``L`` with respect to a complex ``z`` is
``dL/dRe z + i dL/dIm z`` (PyTorch's convention, the direction of steepest ascent), so a
gradient step ``z - lr * grad`` works as for reals.  (JAX and autograd return the
conjugate, ``dL/dRe z - i dL/dIm z``.)  For a complex output, ``vjp``'s pullback takes a
complex cotangent ``v`` and gives the gradient of ``Re(sum(conj(v) * f))``.

Every gradient is checked against central finite differences that move the real and the
imaginary part of each element separately (``reference.complex_numerical_gradient``), in
generated code (``mode == "source"``), on the tape, and in forward mode (``s2s.jvp``
against finite differences along a complex tangent).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2s
from reference import complex_numerical_gradient, complex_numerical_jvp
from s2s.tape import tensor, vjp_with_tape

RNG = np.random.default_rng(20261215)
Z = np.array([0.3 + 0.4j, -0.7 + 0.2j, 1.1 - 0.5j])
X = np.array([0.3, -0.7, 1.1])
W = np.array([[0.5 - 0.2j, 0.1 + 0.3j, -0.4j], [0.7, -0.3 + 0.1j, 0.2 + 0.2j]])
COMPLEX_GLOBAL = np.array([1j, 2.0, -1.0 + 0.5j])


# --- functions: complex inputs, complex intermediates, mixed ------------------------------------

def modulus_squared(z):
    return np.sum(np.abs(z) ** 2)


def holomorphic_chain(z):
    w = np.exp(z) * np.sin(z) / (1.5 + z * z) + np.log(z + 2.0) - np.sqrt(z + 3.0) ** 3
    return np.real(np.sum(w * np.conj(w)))


def parts(z):
    return np.sum(np.real(z) ** 2 * np.imag(z) + np.angle(z) * np.abs(z))


def conjugates(z):
    return np.real(np.sum(np.conj(z) * z * (1 + 2j) + np.conj(z * z)))


def matrix_product(z):
    return np.sum(np.abs(W @ z - np.array([1.0, 1j])) ** 2)


def phases(x):
    return np.sum(np.real(np.exp(1j * x) * (x + 0.5j)) + np.imag(np.exp(2j * x) ** 2))


def real_and_complex(x, z):
    return np.sum(np.abs(x * z + 1j * x) ** 2) + np.real(np.vdot(z, x * z))


def statistics(z):
    return np.var(z) + np.std(z * (1 + 1j)) + np.abs(np.mean(z)) + np.abs(np.prod(z))


def reductions_and_shapes(z):
    m = np.reshape(np.outer(z[::-1] * 2j, z), (9,))[2:8].reshape(2, 3)
    return np.sum(np.abs(np.cumsum(m, axis=1)) ** 2) + np.abs(np.max(np.real(m.T))) \
        + np.sum(np.abs(np.transpose(np.tril(np.flip(m.T, 0)))))


def powers(z):
    return np.real(np.sum(z ** 3 + (1.5 + 0.5j) ** z + z ** (0.5 + 1j)))


def linear_algebra(z):
    a = np.outer(z, z[::-1]) + 3 * np.eye(3)
    return np.abs(np.linalg.det(a)) + np.sum(np.abs(np.linalg.solve(a, z)) ** 2) \
        + np.real(np.trace(np.linalg.inv(a)))


def norms(z):
    m = np.outer(z, z[::-1]) + np.eye(3)
    return np.linalg.norm(z) + np.linalg.norm(z, 1) + np.linalg.norm(z, np.inf) \
        + np.linalg.norm(z, 3) + np.linalg.norm(m, "nuc") + np.linalg.norm(m, 2) \
        + np.linalg.norm(m, 1) + np.sum(np.linalg.norm(m, axis=0))


def loop_and_branch(z):
    total = 0.0
    for k in range(3):
        if np.real(z[k]) > 0:
            total = total + np.abs(z[k] * z[k] - 1j)
        else:
            total = total + np.real(np.exp(z[k]))
    return total


def element_loop(x, y):
    total = 0.0
    for i in range(3):
        total = total + np.real(np.exp(1j * x[i]) * y) * x[i]
    return total


def written_array(x):            # generated code only: the tape cannot write tensors in arrays
    c = np.zeros(3, dtype=complex)
    c[0] = x[0] * 1j
    c[1:] = x[1:] + 2j * x[:2]
    return np.sum(np.abs(c) ** 2)


COMPLEX_FUNCTIONS = [modulus_squared, holomorphic_chain, parts, conjugates, matrix_product,
                     statistics, reductions_and_shapes, powers, linear_algebra, norms,
                     loop_and_branch]
REAL_INPUT_FUNCTIONS = [phases, written_array]


def assert_close(actual, expected, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


# --- 1. the convention ------------------------------------------------------------------------

def test_the_convention_on_the_simplest_functions():
    """|z|^2 -> 2z, Re z -> 1, Im z -> i: the direction of steepest ascent."""
    z = 0.3 - 0.8j
    assert s2s.grad(lambda z: np.abs(z) ** 2)(z) == pytest.approx(2 * z)
    assert s2s.grad(lambda z: np.real(z))(z) == pytest.approx(1.0)
    assert s2s.grad(lambda z: np.imag(z))(z) == pytest.approx(1j)
    assert isinstance(s2s.grad(lambda z: np.real(z * z))(z), complex)
    # a holomorphic f: the gradient of Re f is conj(f'(z))
    assert s2s.grad(lambda z: np.real(np.exp(z)))(z) == pytest.approx(np.conj(np.exp(z)))


def test_the_tape_follows_the_convention():
    z = tensor(np.array([0.3 - 0.8j, 1.0 + 2.0j]), requires_grad=True)
    (np.abs(z) ** 2).sum().backward()
    assert_close(z.grad.data, 2 * z.data, rtol=1e-12)


def test_gradient_descent_on_complex_parameters_converges():
    """Least squares with a complex matrix: z - lr * grad decreases the loss to its minimum."""
    b = np.array([1.0 - 1j, 0.5j])
    loss = s2s.differentiate(lambda z: np.sum(np.abs(W @ z - b) ** 2), fallback="error")
    z = np.zeros(3, dtype=complex)
    for _ in range(500):
        z = z - 0.2 * loss.grad(z)
    assert loss(z) < 1e-10
    assert_close(W @ z, b, atol=1e-5)


# --- 2. gradients against finite differences --------------------------------------------------

@pytest.mark.parametrize("function", COMPLEX_FUNCTIONS, ids=lambda f: f.__name__)
def test_generated_code_on_complex_inputs(function):
    differentiable = s2s.differentiate(function, fallback="error")
    assert differentiable.mode == "source"
    expected = complex_numerical_gradient(function, (Z,), 0)
    gradient = differentiable.grad(Z)
    assert gradient.dtype == np.complex128
    assert_close(gradient, expected)
    value, gradient = differentiable.value_and_grad(Z)
    assert_close(gradient, expected)
    assert value == pytest.approx(function(Z))
    _, pullback = differentiable.vjp(Z)
    assert_close(pullback(1.0), expected)


@pytest.mark.parametrize("function", COMPLEX_FUNCTIONS, ids=lambda f: f.__name__)
def test_tape_on_complex_inputs(function):
    expected = complex_numerical_gradient(function, (Z,), 0)
    _, pullback = vjp_with_tape(function, (Z,), {}, (0,))
    assert_close(pullback(1.0)[0], expected)


@pytest.mark.parametrize("function", COMPLEX_FUNCTIONS, ids=lambda f: f.__name__)
def test_forward_mode_on_complex_inputs(function):
    tangent = RNG.normal(size=3) + 1j * RNG.normal(size=3)
    _, derivative = s2s.jvp(function, (Z,), (tangent,))
    assert_close(derivative, complex_numerical_jvp(function, (Z,), 0, tangent))
    # the dot-product identity with the gradient: dL[t] = Re <grad, t>
    gradient = s2s.grad(function)(Z)
    assert derivative == pytest.approx(float(np.real(np.vdot(gradient, tangent))))


@pytest.mark.parametrize("function", REAL_INPUT_FUNCTIONS, ids=lambda f: f.__name__)
def test_complex_intermediates_of_real_inputs(function):
    differentiable = s2s.differentiate(function, fallback="error")
    expected = complex_numerical_gradient(function, (X,), 0)
    tape = [] if function is written_array else [vjp_with_tape(function, (X,), {}, (0,))[1](
        1.0)[0]]
    for gradient in [differentiable.grad(X), differentiable.value_and_grad(X)[1]] + tape:
        assert gradient.dtype == np.float64          # a real input's gradient is real
        assert_close(gradient, expected)
    tangent = RNG.normal(size=3)
    _, derivative = s2s.jvp(function, (X,), (tangent,))
    assert_close(derivative, complex_numerical_jvp(function, (X,), 0, tangent))


@pytest.mark.filterwarnings("error")
def test_element_reads_in_a_loop_add_real_parts_in_place():
    """x_b[i] += g in place: a complex g from complex intermediates adds its real part,
    without NumPy's ComplexWarning (an error here)."""
    differentiable = s2s.differentiate(element_loop, wrt=(0, 1), fallback="error")
    assert "cotangent_for(" in differentiable.source_for(X, 0.8)
    gx, gy = differentiable.grad(X, 0.8)
    assert_close(gx, complex_numerical_gradient(element_loop, (X, 0.8), 0))
    assert gy == pytest.approx(complex_numerical_gradient(element_loop, (X, 0.8), 1))
    direction = RNG.normal(size=3)
    gradient = s2s.grad(lambda x: element_loop(x, 0.8))
    expected = (gradient(X + 1e-5 * direction) - gradient(X - 1e-5 * direction)) / 2e-5
    assert_close(s2s.hvp(lambda x: element_loop(x, 0.8), X, direction), expected,
                 rtol=1e-5, atol=1e-6)


def test_a_real_and_a_complex_input_together():
    differentiable = s2s.differentiate(real_and_complex, wrt=(0, 1), fallback="error")
    gx, gz = differentiable.grad(X, Z)
    assert gx.dtype == np.float64 and gz.dtype == np.complex128
    assert_close(gx, complex_numerical_gradient(real_and_complex, (X, Z), 0))
    assert_close(gz, complex_numerical_gradient(real_and_complex, (X, Z), 1))
    tx, tz = vjp_with_tape(real_and_complex, (X, Z), {}, (0, 1))[1](1.0)
    assert_close(tx, gx, rtol=1e-10)
    assert_close(tz, gz, rtol=1e-10)


def test_scalars_and_dtypes():
    f = s2s.grad(lambda z: np.sum(np.abs(np.sin(z)) ** 2))
    z = 0.4 + 0.3j
    gradient = f(z)
    assert isinstance(gradient, complex)
    assert gradient == pytest.approx(complex_numerical_gradient(
        lambda z: np.abs(np.sin(z)) ** 2, (z,), 0))
    single = f(np.complex64(z))
    assert isinstance(single, np.complex64)
    array = f(np.array([z, -z], dtype=np.complex64))
    assert array.dtype == np.complex64
    assert_close(array[0], gradient, rtol=1e-5)


def test_check_accepts_complex_arguments():
    report = s2s.check(real_and_complex, X, Z, wrt=(0, 1), order=1)
    assert report.ok and {"source", "tape"} <= set(report.errors)
    assert s2s.check(holomorphic_chain, Z, order=2).ok


def test_the_command_line_checks_complex_arguments(tmp_path):
    (tmp_path / "mod.py").write_text(textwrap.dedent("""\
        import numpy as np


        def f(z):
            return np.sum(np.abs(z * z + 1j) ** 2)
        """))
    done = subprocess.run([sys.executable, "-m", "s2s", "check", "mod.py:f", "--at",
                           "z=np.array([0.5+1j, -0.25j])"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "source" in done.stdout and "MISMATCH" not in done.stdout


# --- 3. complex outputs -----------------------------------------------------------------------

def complex_output(z):
    return np.exp(z) * z + np.conj(z) ** 2


def test_grad_of_a_complex_output_is_an_input_error():
    with pytest.raises(s2s.InputError, match="complex"):
        s2s.grad(lambda z: np.sum(z * z))(Z)
    gradient = s2s.grad(lambda x: np.sum(np.exp(1j * x)))
    value_and_gradient = s2s.value_and_grad(lambda x: np.sum(np.exp(1j * x)))
    for _ in range(2):                                  # the cached paths too
        with pytest.raises(s2s.InputError, match="complex"):
            gradient(X)
        with pytest.raises(s2s.InputError, match="complex"):
            value_and_gradient(X)
    with pytest.raises(s2s.InputError, match="complex"):
        s2s.grad(lambda x: x * 1j)(0.5)                   # forward mode for a scalar input


def complex_constant_in_a_global(x):
    return np.sum(COMPLEX_GLOBAL * x)


def test_grad_without_the_value_still_refuses_complex_outputs():
    """``grad`` skips computing the value only where no complex value can arise (here a
    complex global array makes the output complex)."""
    differentiable = s2s.differentiate(complex_constant_in_a_global, fallback="error")
    for _ in range(2):                                  # the cached path too
        with pytest.raises(s2s.InputError, match="complex"):
            differentiable.grad(X)


def test_vjp_of_a_complex_output_takes_a_complex_cotangent():
    v = RNG.normal(size=3) + 1j * RNG.normal(size=3)

    def loss(z):                          # what the pullback differentiates
        return np.real(np.sum(np.conj(v) * complex_output(z)))
    expected = complex_numerical_gradient(loss, (Z,), 0)
    differentiable = s2s.differentiate(complex_output, fallback="error")
    value, pullback = differentiable.vjp(Z)
    assert_close(value, complex_output(Z), rtol=1e-12)
    assert_close(pullback(v), expected)
    _, tape_pullback = vjp_with_tape(complex_output, (Z,), {}, (0,))
    assert_close(tape_pullback(v)[0], expected)
    z = tensor(Z, requires_grad=True)
    complex_output(z).backward(gradient=v)
    assert_close(z.grad.data, expected)
    # a real input, a complex output: the gradient is real
    _, pullback = s2s.vjp(lambda x: np.exp(1j * x) * x, X)
    assert_close(pullback(v), complex_numerical_gradient(
        lambda x: np.real(np.sum(np.conj(v) * np.exp(1j * x) * x)), (X,), 0))
    assert pullback(v).dtype == np.float64


def test_complex_cotangents_and_outputs_are_checked():
    _, pullback = s2s.vjp(lambda z: np.abs(z), Z)
    with pytest.raises(s2s.InputError, match="real"):
        pullback(np.ones(3) * 1j)                       # a real output: a real cotangent
    z = tensor(np.array(1.0 + 2.0j), requires_grad=True)
    with pytest.raises(s2s.TapeError, match="real scalar"):
        (z * z).backward()
    _, pullback = vjp_with_tape(lambda z: z * z, (1.0 + 2.0j,), {}, (0,))
    with pytest.raises(s2s.InputError, match="complex"):
        pullback()


def test_a_jacobian_of_a_real_input_with_a_complex_output_is_complex():
    function = lambda x: np.exp(1j * x) * x[::-1]    # noqa: E731
    jacobian = s2s.jacobian(function)(X)
    columns = [complex_numerical_jvp(function, (X,), 0, unit) for unit in np.eye(3)]
    assert_close(jacobian, np.stack(columns, axis=1))
    with pytest.raises(s2s.InputError, match="complex"):
        s2s.jacobian(function, mode="reverse")(X)
    with pytest.raises(s2s.InputError, match="complex"):
        s2s.jacobian(lambda z: z * z)(Z)


# --- 4. second order ------------------------------------------------------------------------

@pytest.mark.parametrize("function", [modulus_squared, holomorphic_chain, conjugates, parts],
                         ids=lambda f: f.__name__)
def test_hessian_vector_products_of_complex_inputs(function):
    """hvp: the derivative of the gradient (in the convention) along a complex direction."""
    direction = RNG.normal(size=3) + 1j * RNG.normal(size=3)
    gradient = s2s.grad(function)
    h = 1e-5
    expected = (gradient(Z + h * direction) - gradient(Z - h * direction)) / (2 * h)
    assert_close(s2s.hvp(function, Z, direction), expected, rtol=1e-5, atol=1e-6)


def test_hvp_of_real_inputs_through_complex_intermediates():
    direction = RNG.normal(size=3)
    gradient = s2s.grad(phases)
    h = 1e-5
    expected = (gradient(X + h * direction) - gradient(X - h * direction)) / (2 * h)
    product = s2s.hvp(phases, X, direction)
    assert product.dtype == np.float64
    assert_close(product, expected, rtol=1e-5, atol=1e-6)
    hessian = s2s.hessian(phases)(X)
    assert_close(hessian @ direction, expected, rtol=1e-5, atol=1e-6)


def test_second_derivatives_refuse_what_is_not_defined():
    with pytest.raises(s2s.InputError, match="hvp"):
        s2s.hessian(modulus_squared)(Z)
    with pytest.raises(s2s.InputError, match="complex"):
        s2s.grad(s2s.grad(lambda z: np.abs(z) ** 2))(0.5 + 1j)
    with pytest.raises(s2s.InputError, match="complex"):
        s2s.hvp(lambda x: np.sum(x * 1j), X, X)


# --- 5. rules for real values only refuse complex ones ----------------------------------------

def cholesky_of_complex(z):
    a = np.outer(z, np.conj(z)) + 3 * np.eye(3)
    return np.sum(np.abs(np.linalg.cholesky(a)))


def sign_of_complex(z):
    return np.sum(np.real(np.sign(z) * z))


def real_only_rules_on_reals(x):
    a = np.outer(x, x) + 3 * np.eye(3)
    return np.sum(np.linalg.cholesky(a)) + np.sum(np.sign(x) * x)


@pytest.mark.parametrize("function", [cholesky_of_complex, sign_of_complex],
                         ids=lambda f: f.__name__)
def test_rules_for_real_values_refuse_complex_ones(function):
    differentiable = s2s.differentiate(function, fallback="error")
    # the code for complex arguments checks; the code for real ones (f.source) need not
    assert "refuse_complex" in differentiable.source_for(Z)
    assert "refuse_complex" not in differentiable.source
    assert "refuse_complex" not in differentiable.source_for(X)
    with pytest.raises(s2s.MissingRuleError, match="complex"):
        differentiable.grad(Z)
    with pytest.raises(s2s.MissingRuleError, match="complex"):
        s2s.jvp(function, (Z,), (np.ones(3, dtype=complex),))
    with pytest.raises(s2s.MissingRuleError, match="complex"):
        vjp_with_tape(function, (Z,), {}, (0,))


def cholesky_of_a_complex_intermediate(x):
    a = np.outer(x, x) + 3 * np.eye(3) * (1.0 + 0.1j)
    return np.sum(np.abs(np.linalg.cholesky(a)))


def test_complex_values_made_in_the_code_are_checked_for_real_arguments():
    differentiable = s2s.differentiate(cholesky_of_a_complex_intermediate, fallback="error")
    assert "refuse_complex" in differentiable.source      # a complex constant: checked
    with pytest.raises(s2s.MissingRuleError, match="cholesky"):
        differentiable.grad(X)


def test_a_complex_array_inside_a_list_argument_is_checked():
    def function(x, arrays):
        return np.sum(np.sign(x * arrays[0]) * x)
    differentiable = s2s.differentiate(function, fallback="error")
    assert_close(differentiable.grad(X, [np.ones(3)]), np.sign(X))
    for _ in range(2):                                   # the cached fast path too
        with pytest.raises(s2s.MissingRuleError, match="sign"):
            differentiable.grad(X, [np.ones(3) * 1j])


def test_the_same_rules_work_on_real_values():
    differentiable = s2s.differentiate(real_only_rules_on_reals, fallback="error")
    assert_close(differentiable.grad(X),
                 complex_numerical_gradient(real_only_rules_on_reals, (X,), 0))


def test_scipy_functions_refuse_complex_values():
    special = pytest.importorskip("scipy.special")

    def gamma_of(z):
        return np.sum(np.abs(special.gamma(z + 2.0)))
    with pytest.raises(s2s.MissingRuleError, match="scipy.special.gamma"):
        s2s.differentiate(gamma_of, fallback="error").grad(Z)
    with pytest.raises(s2s.MissingRuleError, match="complex"):
        vjp_with_tape(gamma_of, (Z,), {}, (0,))


def test_exported_gradient_code_raises_a_plain_error_for_complex_values(tmp_path):
    """An exported module carries no s2s errors: the refusal is a TypeError subclass."""
    path = tmp_path / "grad_cholesky.py"
    s2s.export(cholesky_of_complex, str(path))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)   # noqa: S102
    with pytest.raises(TypeError, match="complex"):
        namespace["grad_cholesky_of_complex"](Z)
    real = namespace["grad_cholesky_of_complex"](X)
    assert_close(real, complex_numerical_gradient(cholesky_of_complex, (X,), 0))


def test_exported_gradients_of_real_inputs_through_complex_intermediates(tmp_path):
    path = tmp_path / "grad_phases.py"
    s2s.export(phases, str(path))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)   # noqa: S102
    gradient = namespace["grad_phases"](X)
    assert gradient.dtype == np.float64
    assert_close(gradient, complex_numerical_gradient(phases, (X,), 0))
    complex_path = tmp_path / "grad_complex_output.py"
    s2s.export(lambda x: np.sum(np.exp(1j * x)), str(complex_path))
    namespace = {}
    exec(compile(complex_path.read_text(), str(complex_path), "exec"), namespace)  # noqa: S102
    function = next(value for key, value in namespace.items() if key.startswith("grad_"))
    with pytest.raises(ValueError, match="complex"):
        function(X)


# --- 6. a user's rule for complex values ------------------------------------------------------

def faddeeva_derivative(z):
    """w'(z) = 2i / sqrt(pi) - 2 z w(z) for the Faddeeva function w (scipy.special.wofz)."""
    from scipy import special
    return 2j / np.sqrt(np.pi) - 2 * z * special.wofz(z)


@pytest.fixture
def wofz_rule():
    special = pytest.importorskip("scipy.special")
    from s2s.rules import REGISTRY
    assert REGISTRY.lookup(special.wofz) is None, "wofz got a built-in rule: use another"
    s2s.defvjp(special.wofz, lambda g, ans, z: g * faddeeva_derivative(z),
               jvps=(lambda t, ans, z: t * faddeeva_derivative(z),))
    yield special.wofz
    rule = REGISTRY.lookup(special.wofz)                  # leave the registry as it was
    del REGISTRY._by_primal[id(special.wofz)]
    del REGISTRY._by_name[rule.name]


def test_a_users_rule_is_for_real_values_until_it_says_otherwise(wofz_rule):
    def loss(z):
        return np.sum(np.abs(wofz_rule(z)) ** 2)
    with pytest.raises(s2s.MissingRuleError, match="complex"):
        s2s.differentiate(loss, fallback="error").grad(Z)
    with pytest.raises(s2s.MissingRuleError, match="complex"):
        vjp_with_tape(loss, (Z,), {}, (0,))
    s2s.defvjp(wofz_rule, complex_ok=True)           # the same rules, declared holomorphic

    def again(z):                                    # (code already generated is kept)
        return np.sum(np.abs(wofz_rule(z)) ** 2)
    expected = complex_numerical_gradient(again, (Z,), 0)
    assert_close(s2s.differentiate(again, fallback="error").grad(Z), expected)
    assert_close(vjp_with_tape(again, (Z,), {}, (0,))[1](1.0)[0], expected)
