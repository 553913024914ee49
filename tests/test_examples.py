"""Every example runs and prints what it promises."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
SMALL_DATA = {**os.environ, "S2S_DASK_EXAMPLE_ROWS": "40000"}   # dask_gradient.py, quick


def run(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{name} failed:\n{result.stderr}"
    return result.stdout


def section(output: str, label: str) -> str:
    """The text an example printed under its '--- label:' header, up to the next header."""
    start = output.index(f"--- {label}:")
    end = output.find("\n--- ", start + 1)
    return output[start:] if end < 0 else output[start:end]


def number_after(text: str, prefix: str) -> float:
    match = re.search(re.escape(prefix) + r"\s*([-+0-9.e]+)", text)
    assert match, f"{prefix!r} not found in the output"
    return float(match.group(1))


def is_png(path: pathlib.Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_demo_prints_function_code_and_values():
    output = run("demo.py")
    assert "def f(x):" in output
    assert "def vjp_f(x):" in output and "def pullback(" in output
    assert "f(x) = 4.5" in output
    assert "[[-1.5  0. ]\n [ 1.5  3. ]]" in output
    assert "db = [4. 4.]" in output


def test_graph_picture_prints_the_tutorial_graph(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / "graph_picture.py"), str(tmp_path)],
                            capture_output=True, text=True, check=True, timeout=120)
    output = result.stdout
    assert "y.grad_fn: <SubBackward0>" in output
    assert "((<AccumulateGrad>, 0), (None, 0))" in output
    for name in ("MeanBackward0", "MulBackward0", "SubBackward0", "AccumulateGrad"):
        assert name in output
    assert '"x\\n (2, 2)"' in output
    assert "x.grad: tensor([[-1.5,  0. ],\n        [ 1.5,  3. ]])" in output
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


# --- the seed notebooks, replayed -------------------------------------------------------


def test_seed_canziani_fr_prints_the_notebook_values(tmp_path):
    output = run("seed_canziani_fr.py", str(tmp_path))
    assert "tensor([[-1.,  0.],\n        [ 1.,  2.]], grad_fn=<SubBackward0>)" in output
    assert section(output, "In [None]").splitlines()[1] == "None"          # x.grad_fn
    assert "<SubBackward0>\n<AccumulateGrad>\ntensor([[1., 2.]," in section(output, "In [6]-[8]")
    assert "tensor([[ 3.,  0.],\n        [ 3., 12.]], grad_fn=<MulBackward0>)" in output
    assert "tensor(4.5, grad_fn=<MeanBackward0>)" in output
    assert "tensor([[-1.5,  0. ],\n        [ 1.5,  3. ]])" in section(output, "In [12]-[13]")
    assert "mean_of_squares(x) = 4.5" in output
    assert "def vjp_mean_of_squares(x):" in output
    dot = (tmp_path / "canziani_graph.dot").read_text()
    assert dot.startswith("digraph") and "MeanBackward0" in dot and '"x\\n (2, 2)"' in dot
    # the while loop: i doublings after the first, so the gradient is 2^(i+1) * cotangent
    i = int(section(output, "In [16]").splitlines()[1])
    start = np.random.default_rng(0).standard_normal(3).astype(np.float32)
    assert np.linalg.norm(start * 2 ** i) < 1000 <= np.linalg.norm(start * 2 ** (i + 1))
    expected = np.array([0.1, 1.0, 0.0001], dtype=np.float32) * 2 ** (i + 1)
    assert f"tensor({np.array2string(expected, separator=', ')})" in section(output, "In [15]")
    assert f"pullback(gradients) = {expected}" in output
    assert "for _ in range(_n0):" in output
    assert "tensor([1., 1., 1.])\ntensor([1., 2., 3.])" in section(output, "In [17]-[18]")
    assert "('x', 'w')): [1. 1. 1.] [1. 2. 3.]" in output
    assert "None\ntensor([1., 2., 3.])" in section(output, "In [19]")
    assert ("RuntimeError!!! >:[\nelement 0 of tensors does not require grad and does not "
            "have a grad_fn") in output
    assert "the gradient is [0. 0. 0.]" in output


def test_seed_intro_pytorch_fr_prints_the_notebook_values():
    output = run("seed_intro_pytorch_fr.py")
    assert section(output, "In [2]").splitlines()[1] == "(4, 3)"
    assert "None\ntensor(2.)\n@s2s.differentiate(wrt='x'): 2.0" in section(output, "In [4]")
    assert ("None\nNone\nNone\ntensor(2.)\ntensor(4.)\ntensor(1.)\n"
            "@s2s.differentiate(wrt=('x', 'w', 'b')): (2.0, 4.0, 1.0)") in output
    cell_6 = section(output, "In [6]")
    X_grad = "tensor([[ 3.,  9., 15.],\n        [ 3.,  9., 15.],\n        [ 3.,  9., 15.],\n" \
             "        [ 3.,  9., 15.]])"
    assert X_grad in cell_6
    assert "tensor([[22., 22.],\n        [26., 26.],\n        [30., 30.]])\ntensor([4., 4.])" \
        in cell_6
    assert "shapes: (4, 3) (3, 2) (2,)" in cell_6
    assert "[[22. 22.]\n [26. 26.]\n [30. 30.]]\n[4. 4.]" in cell_6      # generated code
    assert "def vjp_linear(X, W, b):" in cell_6
    cell_7 = section(output, "In [7]")
    assert cell_7.count(X_grad) == 2
    assert "case 2 equals case 1: True" in cell_7


def test_seed_autograd_fr_prints_the_notebook_values():
    output = run("seed_autograd_fr.py")
    x = np.random.default_rng(0).random(3, dtype=np.float32)
    assert f"tensor({np.array2string(x, separator=', ')}, requires_grad=True)" in output
    assert "grad_fn=<AddBackward0>" in section(output, "In [3]")
    expected = 4 * (x + 2) / 3
    printed = section(output, "In [6]-[7]").split("@s2s.differentiate: [", 1)[1].split("]")[0]
    np.testing.assert_allclose(np.array(printed.split(), dtype=np.float32), expected,
                               rtol=2e-7)                     # float32, in its own precision
    assert ("RuntimeError: element 0 of tensors does not require grad and does not have a "
            "grad_fn") in section(output, "In [9]")
    assert "s2s.WrtError: wrt is empty" in output
    cell_10 = section(output, "In [10]")
    assert "RuntimeError: grad can be implicitly created only for scalar outputs" in cell_10
    assert "s2s.NonScalarOutputError: squares returns a value of shape (3,)" in cell_10
    cell_11 = section(output, "In [11]").splitlines()
    tape = np.array(re.findall(r"[-0-9.e]+", cell_11[1].replace("tensor", "")), dtype=float)
    closed_form = np.array(cell_11[2].rsplit(": ", 1)[1].strip("[]").split(), dtype=float)
    generated = np.array(cell_11[3].rsplit(": ", 1)[1].strip("[]").split(), dtype=float)
    np.testing.assert_allclose(tape, closed_form, rtol=1e-6)
    np.testing.assert_allclose(generated, closed_form, rtol=1e-6)
    assert ("tensor([3., 3., 3., 3.])\ntensor([6., 6., 6., 6.])\ntensor([9., 9., 9., 9.])\n"
            "tensor([12., 12., 12., 12.])") in section(output, "In [12]")
    assert section(output, "In [13]").count("tensor([3., 3., 3., 3.])") == 4
    assert "4 calls: [[3.0, 3.0, 3.0, 3.0]," in output
    cell_14 = section(output, "In [14]")
    assert "tensor([1., 1., 1., 1.], requires_grad=True)" in cell_14
    assert "tensor([0.97, 0.97, 0.97, 0.97], requires_grad=True) tensor([0., 0., 0., 0.])" \
        in cell_14


def test_seed_autograd_ru_prints_the_notebook_values():
    output = run("seed_autograd_ru.py")
    assert "tensor([1., 2., 3.], dtype=float64, requires_grad=True)" in output
    assert section(output, "In [207]").splitlines()[1] == "[1. 2. 3.]"
    assert "None\nNone" in section(output, "In [208]-[210]")
    assert "tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)\n<AddBackward0>" in output
    assert ("tensor([[27., 27.],\n        [27., 27.]], grad_fn=<MulBackward0>)\ntensor(27.,"
            in output)
    assert ("Y is leaf : False\nY req_grad : True\nZ is leaf : False\nZ req_grad : True\n"
            "X is leaf : True\nX req_grad : True") in output
    cell_215 = section(output, "In [215]")
    assert "tensor([[4.5, 4.5],\n        [4.5, 4.5]])" in cell_215
    assert "out = 27.0, d(out)/dx =\n[[4.5 4.5]\n [4.5 4.5]]" in cell_215
    assert "tensor([[1., 1.],\n        [1., 1.]])" in section(output, "In [216]")
    assert "tensor([[9., 9.],\n        [9., 9.]], grad_fn=<MulBackward0>)" in output
    # three backward passes with the same random cotangent add up to 1 + 3 * gradient
    rng = np.random.default_rng(0)
    rng.standard_normal((2, 2))
    gradient = rng.standard_normal((2, 2)).astype(np.float32)
    final = section(output, "In [218]").split("@s2s.differentiate, ones + 3 pullbacks:\n")[1]
    values = np.array(re.findall(r"-?\d+\.\d*", final), dtype=float).reshape(2, 2)
    np.testing.assert_allclose(values, 1 + 3 * gradient, rtol=1e-6)


def test_seed_d2l_autograd_prints_the_section_values():
    output = run("seed_d2l_autograd.py")
    assert "tensor(28., grad_fn=<MulBackward0>)" in output
    assert "tensor([ 0.,  4.,  8., 12.])" in section(output, "n=12")
    assert "[ True  True  True  True]\n@s2s.differentiate: [ 0.  4.  8. 12.] True" in output
    assert "tensor([1., 1., 1., 1.])\n@s2s.differentiate: [1. 1. 1. 1.]" in output
    assert "tensor([0., 2., 4., 6.])" in section(output, "non-scalar")
    assert "[0. 1. 4. 9.] True" in section(output, "n=21")
    assert "[ True  True  True  True]" in section(output, "detach")
    flow = section(output, "control flow")
    assert "a.grad == d / a: True" in flow and "== f(a) / a: True" in flow
    a = float(np.float32(np.random.default_rng(0).standard_normal()))
    slope = number_after(flow, "a.grad = tensor(")
    assert slope == 2 ** round(np.log2(slope)) and 1000 <= abs(a) * slope < 2000
    assert f"f.grad(-a) = {100 * slope}" in flow                       # the else branch
    assert "if _t3:" in flow and "for _ in range(_n0):" in flow
    assert "Specify retain_graph=True" in section(output, "exercise 2")
    assert "tensor([ 0., 12., 24., 36.])" in section(output, "exercise 2")
    assert "called twice: [ 0.  4.  8. 12.] [ 0.  4.  8. 12.]" in output
    exercise_3 = section(output, "exercise 3")
    assert "RuntimeError: grad can be implicitly created only for scalar outputs" in exercise_3
    assert "[   0. 2048.    0.]" in exercise_3


@pytest.mark.parametrize("name", ["seed_canziani_fr.py", "seed_intro_pytorch_fr.py",
                                  "seed_autograd_fr.py", "seed_autograd_ru.py",
                                  "seed_d2l_autograd.py", "forward_vs_reverse.py"])
def test_examples_print_the_same_thing_every_run(name, tmp_path):
    assert run(name, str(tmp_path)) == run(name, str(tmp_path))


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_examples_pass_the_zero_audit(name, tmp_path):
    """Every gradient entry an example gets that is exactly zero is a true zero."""
    tests = pathlib.Path(__file__).parent
    script = (f"import sys; sys.path.insert(0, {str(tests)!r}); import zero_audit; "
              f"zero_audit.run({str(EXAMPLES / name)!r}, {str(tmp_path)!r})")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env=SMALL_DATA)
    assert result.returncode == 0, f"{name} under the zero audit:\n{result.stderr[-3000:]}"


# --- d2l exercises ----------------------------------------------------------------------


def test_d2l_sin_derivative_matches_cos_and_saves_a_plot(tmp_path):
    output = run("d2l_sin_derivative.py", str(tmp_path))
    for name in ("reverse mode (f.vjp)", "forward mode (f.jvp)", "tape (backward)"):
        line = next(line for line in output.splitlines() if line.startswith(name))
        assert float(line.split("=")[-1]) < 1e-12
    assert "f'(0) = 1.0  f'(pi) = -1.0" in output
    assert "x_b = _return_b * np.cos(x)" in output
    assert is_png(tmp_path / "sin_derivative.png")


def test_d2l_second_derivative_matches_the_analytic_one():
    output = run("d2l_second_derivative.py")
    rows = re.findall(r"x = +([-0-9.]+) +grad\(grad\(f\)\) = ([-+0-9.]+) +by hand = ([-+0-9.]+)",
                      output)
    assert len(rows) == 6
    for x, by_s2s, by_hand in rows:
        x = float(x)
        exact = 6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x)
        assert abs(float(by_s2s) - exact) < 1e-11 and abs(float(by_hand) - exact) < 1e-11
    third = number_after(output, "grad(grad(grad(f))) =")
    x = 1.3
    exact = (6 * np.sin(x) + 18 * x * np.cos(x) - 9 * x ** 2 * np.sin(x)
             - x ** 3 * np.cos(x))
    assert abs(third - exact) < 1e-11
    assert "def jvp_grad_f(x, _return_b, x_d):" in output
    assert number_after(output, "max |H - (diag(p) - p p^T)| =") < 1e-12
    assert "equals H @ v: True" in output
    assert "the Hessian 50 Hessian-vector products" in output


def test_d2l_exercise6_symbolic_form_graph_and_both_modes(tmp_path):
    output = run("d2l_exercise6.py", str(tmp_path))
    dot = (tmp_path / "exercise6_graph.dot").read_text()
    assert dot.startswith("digraph")
    for node in ("AddBackward0", "MulBackward0", "DivBackward0", "LogBackward0", "SinBackward0",
                 "PowBackward0", "AccumulateGrad", '"x\\n ()"'):
        assert node in dot
    if shutil.which("dot") and "picture saved to" in output:
        assert is_png(tmp_path / "exercise6_graph.png")
    else:
        assert "DOT text saved to" in output
    assert "df/dx = log(x**2)*cos(x) + 2*sin(x)/x - 1/x**2" in output
    assert "def vjp_f(x):" in output and "def jvp_f(x, x_d):" in output
    rows = re.findall(r"^ *([0-9.]+) +([-0-9.]+) +([-0-9.]+) +([-0-9.]+)$", output, re.M)
    assert len(rows) == 5
    for x, forward, reverse, symbolic in rows:
        x = float(x)
        exact = np.log(x ** 2) * np.cos(x) + 2 * np.sin(x) / x - 1 / x ** 2
        for value in (forward, reverse, symbolic):
            assert abs(float(value) - exact) < 1e-11
    assert number_after(output, "tape: x.grad at x = 1.5: tensor(") == pytest.approx(
        np.log(2.25) * np.cos(1.5) + 2 * np.sin(1.5) / 1.5 - 1 / 2.25, abs=1e-8)


def test_forward_vs_reverse_shows_passes_agreement_and_tangent_code():
    output = run("forward_vs_reverse.py")
    assert "tall: R^2 -> R^6, Jacobian shape (6, 2)" in output
    assert "wide: R^6 -> R^2, Jacobian shape (2, 6)" in output
    tall, wide = output.split("wide:")[0], output.split("wide:")[1].split("The forward")[0]
    assert "forward mode: 2 passes" in tall and "reverse mode: 6 passes" in tall
    assert "forward mode: 6 passes" in wide and "reverse mode: 2 passes" in wide
    assert "mode='auto' uses forward" in tall and "mode='auto' uses reverse" in wide
    for difference in re.findall(r"max \|forward - reverse\| = ([0-9.e+-]+)", output):
        assert float(difference) < 1e-12
    for left, right in re.findall(r"<v, J u> = ([-0-9.]+), <v J, u> = ([-0-9.]+)", output):
        assert abs(float(left) - float(right)) < 1e-10
    assert "def jvp_tall(x, x_d):" in output and "_t0_d = W_TALL @ x_d" in output
    assert "def vjp_tall(x):" in output


# --- a training loop and an ODE ---------------------------------------------------------


def test_training_loop_loss_decreases_and_curve_is_saved(tmp_path):
    output = run("training_loop.py", str(tmp_path))
    losses = [float(value) for value in re.findall(r"epoch +\d+  loss ([0-9.]+)", output)]
    assert len(losses) == 11
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < 0.1 * losses[0]
    for difference in re.findall(r"max \|gradient difference\| ([0-9.e+-]+)", output):
        assert float(difference) < 1e-12
    assert number_after(output, "training accuracy") >= 95
    assert is_png(tmp_path / "training_loss.png")
    assert "def vjp_loss(W1, b1, W2, b2, X, y):" in output


def test_ode_parameters_gradient_matches_finite_differences():
    output = run("ode_parameters.py")
    assert "RK4, 2000 steps" in output
    assert "at the true parameters the loss is 0.0" in output
    rows = re.findall(r"^ +(alpha|beta|delta|gamma) +([-0-9.]+) +([-0-9.]+)$", output, re.M)
    assert [row[0] for row in rows] == ["alpha", "beta", "delta", "gamma"]
    for _, gradient, finite in rows:
        assert float(gradient) == pytest.approx(float(finite), rel=1e-6)
    assert number_after(output, "max relative difference:") < 1e-6
    assert "for i in reversed(" in output and "_stack.pop()" in output
    assert re.search(r"primal [0-9.]+ ms, value and gradient [0-9.]+ ms", output)


def test_custom_rule_scipy_agrees_everywhere():
    output = run("custom_rule_scipy.py")
    assert "from s2s.runtime import broadcast_like, erf_vjp0" in output
    assert "x_b = x_b + erf_vjp0(" in output
    assert "finite differences agree: True" in output
    assert "tape agrees: True" in output
    assert "forward mode d erf/dx: [1.031261 0.878783 0.267344]" in output


def test_stats_mixture_fit_recovers_the_mixture():
    """Maximum likelihood with scipy.stats log-densities and s2s's generated gradient: the
    gradient agrees with finite differences, BFGS converges to a stationary point, and the
    estimates are near the parameters the data were drawn from."""
    output = run("stats_mixture_fit.py")
    model = section(output, "the model")
    assert "mode: source" in model
    assert number_after(model, "max abs error") < 1e-5
    code = section(output, "the generated gradient")
    assert "st.norm.logpdf(x, loc=_t2, scale=_t4)" in code and "def pullback(" in code
    fit = section(output, "the fit")
    assert "converged: True" in fit
    assert number_after(fit, "gradient norm at the optimum:") < 1e-4
    estimate = fit.split("estimate:")[1]
    assert abs(number_after(estimate, "mu1") + 2.0) < 0.2
    assert abs(number_after(estimate, "mu2") - 1.5) < 0.3
    assert abs(number_after(estimate, "weight") - 0.6) < 0.1
    student = section(output, "the Student-t mixture")
    assert "mode: source" in student and "converged: True" in student
    assert number_after(student, "max abs error") < 1e-5
    assert number_after(student, "negative log-likelihood:") <= number_after(
        fit, "negative log-likelihood:")          # one more parameter: at least as good


def test_readme_shows_the_demo_code_as_generated():
    """The README's two listings of the demo's gradient code are what s2s generates now."""
    import re
    import sys
    from pathlib import Path
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    blocks = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S)
              if block.startswith("# Generated by s2s: reverse mode of f (demo.py:12).")]
    sys.path.insert(0, str(root / "examples"))
    try:
        import demo
    finally:
        sys.path.pop(0)
    x = np.array([[1, 2], [3, 4]], dtype=np.float32)
    assert [block.strip() for block in blocks] == [demo.f.source.strip(),
                                                   demo.f.source_for(x).strip()]


def test_pytree_scipy_minimize_trains_a_pytree_of_parameters():
    output = run("pytree_scipy_minimize.py")
    assert "mode: source" in output
    before, after = number_after(output, "loss before:"), number_after(output, "loss after:")
    assert after < 0.1 * before
    assert "name kept: mlp" in output


def test_dask_gradient_descends_as_numpy_does_and_reports_its_memory():
    """The losses the example prints at 2 x 10^5 rows (10 chunks) are those of gradient
    descent with the closed-form logistic gradient on the same data in memory."""
    da = pytest.importorskip("dask.array")
    output = run("dask_gradient.py", "--rows", "200000", "--chunk", "20000", "--steps", "5")
    assert "200000 rows x 8 features in 10 chunks of 20000 rows" in output
    printed = [float(v) for v in re.findall(r"^step +\d+  loss ([0-9.]+)", output, re.M)]
    sys.path.insert(0, str(EXAMPLES))
    try:
        import dask_gradient
    finally:
        sys.path.pop(0)
    x, y = (np.asarray(a) for a in da.compute(*dask_gradient.make_data(200_000, 20_000)))
    w, expected = np.zeros(x.shape[1]), []
    for _ in range(5):
        z = x @ w
        expected.append(np.mean(np.logaddexp(0.0, z) - y * z))
        w = w - dask_gradient.STEP_SIZE * x.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
    np.testing.assert_allclose(printed, expected, rtol=0, atol=6e-7)     # 6 decimals printed
    assert all(later < earlier for earlier, later in zip(printed, printed[1:]))
    assert number_after(output, "peak resident memory") > 0
    assert re.search(r"for 0\.0\d GB of data", output)
