"""Only s2s errors escape: odd-but-valid programs work, bad inputs fail clearly.

Every case is run and its outcome classified: a value (checked against finite
differences), an ``s2s.S2SError`` with a message (and ``file:line`` when it is about the
user's source), or the user's own exception raised by the user's own code (the
traceback's last frame is the user's function).  Never a SyntaxError, TypeError,
AttributeError, ValueError or IndexError raised inside s2s.
"""
from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
import textwrap
import traceback
import warnings

import numpy as np
import pytest

import s2s
from reference import assert_close, numerical_gradient

HERE = os.path.abspath(__file__)


# --- odd but valid programs -----------------------------------------------------------------

TABLE = {"square": lambda x: np.sum(x ** 2), "cube": lambda x: np.sum(x ** 3)}
PAIR = [lambda x: np.sum(x * x), lambda x: np.sum(np.sin(x))]
SPREAD = s2s.grad(
    lambda x: np.sum(np.tanh(x) ** 2),
)
NESTED = lambda x: (lambda y: np.sum(y ** 3))(x * 2.0)  # noqa: E731


def spread_primal(x):
    return np.sum(np.tanh(x) ** 2)


class Model:
    scale = 3.0

    def __init__(self, w):
        self.w = w

    def energy(self, x):
        return self.w * np.sum(x ** 2)

    def regularized(self, x):
        return self.w * np.sum(x ** 2) + self.penalty(x)

    def penalty(self, x):
        return np.sum(np.sin(x)) * self.w

    @staticmethod
    def static(x):
        return np.sum(np.exp(x))

    @classmethod
    def scaled(cls, x):
        return cls.scale * np.sum(x ** 3)

    def __call__(self, x, y):
        return np.sum(self.w * x * y ** 2)


def weighted(x, w, b):
    return np.sum(w * x ** 2 + b * x)


def keyword_only(x, *, w=2.0):
    return np.sum(w * np.cos(x))


def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper


@logged
def decorated(x):
    return np.sum(np.log1p(x ** 2))


MODEL = Model(1.5)
X = np.array([0.3, -0.7, 1.1])

VALID = {
    "lambda in a dict": (TABLE["square"], lambda x: np.sum(x ** 2), (X,), 0),
    "second lambda in a dict": (TABLE["cube"], lambda x: np.sum(x ** 3), (X,), 0),
    "first of two lambdas on a line": (PAIR[0], lambda x: np.sum(x * x), (X,), 0),
    "second of two lambdas on a line": (PAIR[1], lambda x: np.sum(np.sin(x)), (X,), 0),
    "bound method (self.w a constant)": (MODEL.energy, lambda x: 1.5 * np.sum(x ** 2), (X,), 0),
    "staticmethod": (Model.static, lambda x: np.sum(np.exp(x)), (X,), 0),
    "classmethod": (Model.scaled, lambda x: 3.0 * np.sum(x ** 3), (X,), 0),
    "object with __call__, wrt y": (MODEL, lambda x, y: np.sum(1.5 * x * y ** 2), (X, X), 1),
    "partial binding a positional argument":
        (functools.partial(weighted, X), lambda w, b: weighted(X, w, b), (0.5, 2.0), 0),
    "partial binding a keyword argument":
        (functools.partial(weighted, b=2.0), lambda x, w: weighted(x, w, 2.0), (X, 0.5), 0),
    "keyword-only parameter": (keyword_only, keyword_only, (X,), 0),
    "decorated with functools.wraps": (decorated, decorated, (X,), 0),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_odd_but_valid_programs_differentiate_correctly(name):
    function, reference, args, wrt = VALID[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", s2s.FallbackWarning)       # generated code, no tape
        gradient = s2s.grad(function, wrt=wrt)(*args)
    assert_close(gradient, numerical_gradient(reference, list(args), wrt))


def test_a_lambda_in_a_call_spanning_lines():
    assert_close(SPREAD(X), numerical_gradient(spread_primal, [X], 0))


def test_bound_method_wrt_counts_the_parameters_after_self():
    def reference(x, y):
        return np.sum(1.5 * x * y ** 2)
    dx, dy = s2s.grad(MODEL, wrt=(0, 1))(X, X + 1.0)
    assert_close(dx, numerical_gradient(reference, [X, X + 1.0], 0))
    assert_close(dy, numerical_gradient(reference, [X, X + 1.0], 1))
    assert s2s.differentiate(MODEL.energy).mode == "source"


def test_method_of_another_object_reads_its_own_attributes():
    other = Model(-2.0)
    assert_close(s2s.grad(other.energy)(X),
                 numerical_gradient(lambda x: -2.0 * np.sum(x ** 2), [X], 0))


def test_a_nested_lambda_runs_on_the_tape_with_the_reason():
    f = s2s.differentiate(NESTED)
    with pytest.warns(s2s.FallbackWarning, match="Lambda"):
        gradient = f.grad(X)
    assert_close(gradient, numerical_gradient(lambda x: np.sum((2 * x) ** 3), [X], 0))


def test_a_method_calling_another_method_through_self_is_generated_code():
    f = s2s.differentiate(MODEL.regularized)
    assert f.mode == "source"
    assert_close(f.grad(X), numerical_gradient(
        lambda x: 1.5 * np.sum(x ** 2) + np.sum(np.sin(x)) * 1.5, [X], 0))


# --- failures: what each must be ------------------------------------------------------------

def ragged(x):
    return np.sum(x ** 2)


def vector(x):
    return x * 2.0


def user_divides(x):
    return x / 0.0


def user_raises(x):
    if x > 0:
        raise ZeroDivisionError("the user's own")
    return x


def user_tries(x):
    try:
        return x * 2.0
    except ValueError:
        return x


def user_broadcasts(x, w):
    return np.sum(w * x)


def varargs(*xs):
    return xs[0] * xs[1]


def keywords(x, **options):
    return x * 2.0


def generator(x):
    yield x


def sqrt_float(x):
    return x ** 0.5


EXEC_NAMESPACE: dict = {}
exec("def from_exec(x):\n    return x * 3.0\n", EXEC_NAMESPACE)  # noqa: S102


def located_error(error):
    """An UnsupportedError about user source carries file:line."""
    return error.location is not None and error.location.line > 0


S2S = "s2s"              # an S2SError with a message
LOCATED = "located"      # an S2SError about the user's source, with file:line
F = ragged

FAILURES = {
    # a list holding arrays is a pytree of parameters: F's own x ** 2 fails on it
    "list of arrays": ("ragged", lambda: s2s.grad(F)([np.ones(2), np.ones(3)])),
    "ragged nested list": (S2S, lambda: s2s.grad(F)([[1.0], [1.0, 2.0]])),
    "None inside a list": (S2S, lambda: s2s.grad(F)([1.0, None])),
    "object array": (S2S, lambda: s2s.grad(F)(np.array([1.0, "a"], dtype=object))),
    "None": (S2S, lambda: s2s.grad(F)(None)),
    "string": (S2S, lambda: s2s.grad(F)("abc")),
    "list of strings": (S2S, lambda: s2s.grad(F)(["a", "b"])),
    "integer array": (S2S, lambda: s2s.grad(F)(np.arange(3))),
    "NumPy integer scalar": (S2S, lambda: s2s.grad(F)(np.int64(3))),
    "bool": (S2S, lambda: s2s.grad(F)(True)),
    # complex inputs are differentiated; the squares here make a complex output: grad refuses
    "complex output of a complex input": (S2S, lambda: s2s.grad(F)(1j)),
    "complex output of a complex array": (S2S, lambda: s2s.grad(F)(np.ones(2) * 1j)),
    "generator argument": (S2S, lambda: s2s.grad(F)(v for v in range(3))),
    "too many arguments": (S2S, lambda: s2s.grad(F)(1.0, 2.0)),
    "too few arguments": (S2S, lambda: s2s.grad(F)()),
    "unknown keyword": (S2S, lambda: s2s.grad(F)(x=1.0, y=2.0)),
    "unknown wrt name": (S2S, lambda: s2s.grad(F, wrt="z")),
    "wrt out of range": (S2S, lambda: s2s.grad(F, wrt=3)),
    "wrt a bool": (S2S, lambda: s2s.grad(F, wrt=True)),
    "wrt empty": (S2S, lambda: s2s.grad(F, wrt=())),
    "non-scalar output": (S2S, lambda: s2s.grad(vector)(np.ones(3))),
    "value_and_grad of a non-scalar": (S2S, lambda: s2s.value_and_grad(vector)(np.ones(3))),
    "has_aux without a pair": (S2S, lambda: s2s.value_and_grad(vector, has_aux=True)(1.0)),
    "vjp cotangent of the wrong shape": (S2S, lambda: s2s.vjp(vector, np.ones(3))[1](np.ones(2))),
    "vjp cotangent None": (S2S, lambda: s2s.vjp(vector, np.ones(3))[1](None)),
    "vjp cotangent a string": (S2S, lambda: s2s.vjp(vector, np.ones(3))[1]("ab")),
    "vjp cotangent ragged": (S2S, lambda: s2s.vjp(vector, np.ones(2))[1]([[1.0], [1.0, 2.0]])),
    "vjp of a tuple with one cotangent": (S2S, lambda: s2s.vjp(lambda x: (x, x), 1.0)[1](1.0)),
    "jvp tangent of the wrong shape": (S2S, lambda: s2s.jvp(vector, (np.ones(3),), (np.ones(2),))),
    "jvp tangent a string": (S2S, lambda: s2s.jvp(vector, (1.0,), ("a",))),
    "jvp tangent ragged": (S2S, lambda: s2s.jvp(vector, (np.ones(2),), ([[1.0], [1.0, 2.0]],))),
    "jvp too many tangents": (S2S, lambda: s2s.jvp(weighted, (X, 1.0, 1.0), (X,) * 4)),
    "jvp every tangent None": (S2S, lambda: s2s.jvp(vector, (1.0,), (None,))),
    "hvp direction of the wrong shape": (S2S, lambda: s2s.hvp(F, np.ones(2), np.ones(3))),
    "hessian of a list of arrays": ("ragged", lambda: s2s.hessian(F)([np.ones(2), np.ones(3)])),
    "hessian wrt two": (S2S, lambda: s2s.hessian(weighted, wrt=(0, 1))),
    "grad of grad of an array function": (S2S, lambda: s2s.grad(s2s.grad(F))(np.ones(2))),
    "jacobian of None": (S2S, lambda: s2s.jacobian(vector)(None)),
    "jacobian with an unknown mode": (S2S, lambda: s2s.jacobian(vector, mode="sideways")),
    "check at a string": (S2S, lambda: s2s.check(F, "a")),
    "check at a ragged list": (S2S, lambda: s2s.check(F, [[1.0], [1.0, 2.0]])),
    "differentiate with an unknown fallback": (S2S, lambda: s2s.differentiate(F, fallback="x")),
    "differentiate().grad of an object array":
        (S2S, lambda: s2s.differentiate(F).grad(np.array([None, 1.0]))),
    "show with an unknown mode": (S2S, lambda: s2s.show(F, mode="sideways")),
    "*args: code before any call": (S2S, lambda: s2s.differentiate(
        varargs, fallback="error").source),
    "*args: fewer arguments than the function reads": (
        "varargs", lambda: s2s.grad(varargs)(1.0)),
    "**kwargs with a keyword that is no identifier": (
        S2S, lambda: s2s.grad(keywords)(1.0, **{"not-a-name": 2.0})),
    "**kwargs: too many positional arguments": (S2S, lambda: s2s.grad(keywords)(1.0, 2.0)),
    "a generator function": (S2S, lambda: s2s.grad(generator)(1.0)),
    "a C function without a rule": (S2S, lambda: s2s.grad(math.lgamma)(0.5)),
    "a ufunc without a rule": (S2S, lambda: s2s.grad(np.nextafter)(0.5, 1.0)),
    "a class": (S2S, lambda: s2s.grad(Model)(1.0)),
    "not callable": (S2S, lambda: s2s.grad(3)),
    "a classmethod object": (S2S, lambda: s2s.grad(Model.__dict__["scaled"])(X)),
    "a nested lambda, no fallback": (LOCATED, lambda: s2s.differentiate(
        NESTED, fallback="error").grad(X)),
    "a partial binding too many arguments":
        (S2S, lambda: s2s.grad(functools.partial(ragged, 1.0, 2.0))(1.0)),
    "source from exec, no fallback": (S2S, lambda: s2s.differentiate(
        EXEC_NAMESPACE["from_exec"], fallback="error").grad(1.0)),
    "a derivative undefined where the function runs": (S2S, lambda: s2s.grad(sqrt_float)(0.0)),
    "an unsupported construct, no fallback": (LOCATED, lambda: s2s.differentiate(
        user_tries, fallback="error").grad(1.0)),
    # the user's own exceptions, from the user's own code
    "the user's division by zero": ("user_divides", lambda: s2s.grad(user_divides)(1.0)),
    "the user's raise": ("user_raises", lambda: s2s.grad(user_raises)(1.0)),
    "the user's broadcasting error":
        ("user_broadcasts", lambda: s2s.grad(user_broadcasts)(np.ones(2), np.ones(3))),
    "the user's broadcasting error in vjp":
        ("user_broadcasts", lambda: s2s.vjp(user_broadcasts, np.ones(2), np.ones(3))),
    "the user's broadcasting error in jvp": ("user_broadcasts", lambda: s2s.jvp(
        user_broadcasts, (np.ones(2), np.ones(3)), (np.ones(2), None))),
    "the user's broadcasting error in hessian":
        ("user_broadcasts", lambda: s2s.hessian(user_broadcasts)(np.ones(2), np.ones(3))),
    "the user's broadcasting error in jacobian":
        ("user_broadcasts", lambda: s2s.jacobian(user_broadcasts)(np.ones(2), np.ones(3))),
}


def _backward_twice():
    t = s2s.tensor([1.0, 2.0], requires_grad=True)
    y = (t * t).sum()
    y.backward()
    y.backward()


def _tape(operation):
    def run():
        t = s2s.tensor([1.0, 2.0], requires_grad=True)
        return operation(t)
    return run


TAPE_LEAKS = {     # s2s.TapeError (a RuntimeError, as PyTorch's) or s2s errors for NumPy's
    "tape: backward of a non-scalar without gradient": _tape(lambda t: (t * 2).backward()),
    "tape: backward with a gradient of the wrong shape":
        _tape(lambda t: (t * 2).backward(np.ones(3))),
    "tape: requires_grad on a string": lambda: s2s.tensor("abc", requires_grad=True),
    "tape: a ragged list": lambda: s2s.tensor([[1.0], [1.0, 2.0]]),
    "tape: requires_grad on integers": lambda: s2s.tensor([1, 2], requires_grad=True),
    "tape: a tensor plus a string": _tape(lambda t: t + "a"),
    "tape: operands that do not broadcast": _tape(lambda t: t + np.ones(3)),
    "tape: an index out of range": _tape(lambda t: t[5]),
    "tape: backward of a tensor without grad": lambda: (s2s.tensor([1.0]) * 2).sum().backward(),
    "tape: backward of a scalar twice": lambda: _backward_twice(),
}


def classify(thunk):
    """'ok', ('s2s', error), ('located', error) or (user function name, error)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", s2s.FallbackWarning)
            thunk()
    except s2s.S2SError as error:
        assert str(error).strip(), "an s2s error without a message"
        if isinstance(error, s2s.UnsupportedError) and located_error(error):
            return LOCATED, error
        return S2S, error
    except Exception as error:             # must be the user's own, from the user's code
        last = traceback.extract_tb(error.__traceback__)[-1]
        assert last.filename == HERE, f"{type(error).__name__} leaked from {last.filename}: " \
                                      f"{error}"
        return last.name, error
    return "ok", None


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_failures_are_s2s_errors_or_the_users_own(name):
    expected, thunk = FAILURES[name]
    outcome, error = classify(thunk)
    if expected == S2S:
        assert outcome in (S2S, LOCATED), (outcome, error)
    else:
        assert outcome == expected, (outcome, error)
    if outcome == LOCATED:
        location = error.location
        assert f"{location.filename}:{location.line}" in str(error)


@pytest.mark.parametrize("name", sorted(TAPE_LEAKS))
def test_tape_failures_are_s2s_errors(name):
    outcome, error = classify(TAPE_LEAKS[name])
    assert outcome in (S2S, LOCATED), (outcome, error)


def test_the_users_own_exception_propagates_unchanged():
    with pytest.raises(ZeroDivisionError, match="the user's own") as caught:
        s2s.grad(user_raises)(1.0)
    assert caught.value.__cause__ is None
    assert traceback.extract_tb(caught.value.__traceback__)[-1].name == "user_raises"


def test_a_derivative_undefined_at_the_point_says_so_and_keeps_the_cause():
    with pytest.raises(s2s.errors.EvaluationError, match="ZeroDivisionError") as caught:
        s2s.grad(sqrt_float)(0.0)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_lambdas_with_the_same_parameters_on_one_line_are_told_apart():
    pair = [lambda x: x * 2.0, lambda x: x * x * 3.0]
    assert s2s.grad(pair[0])(1.5) == 2.0
    assert s2s.grad(pair[1])(1.5) == 9.0


def test_exec_source_falls_back_to_the_tape_with_the_reason():
    f = s2s.differentiate(EXEC_NAMESPACE["from_exec"])
    with pytest.warns(s2s.FallbackWarning, match="exec"):
        assert f.grad(1.0) == 3.0
    assert f.mode == "tape" and "exec" in f.fallback_reason


def test_python_c_source_is_a_clear_error():
    code = textwrap.dedent("""\
        import s2s
        f = lambda x: x * x
        try:
            s2s.differentiate(f, fallback="error").grad(2.0)
        except s2s.UnsupportedError as error:
            print("refused:", error)
        print("tape:", s2s.grad(f)(2.0))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(s2s.__file__)), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    if sys.version_info < (3, 13):   # 3.13 keeps the source of ``python -c`` readable
        assert "refused: cannot read the source" in done.stdout and "python -c" in done.stdout
    else:
        assert "refused" not in done.stdout
    assert "tape: 4.0" in done.stdout


# --- the command line ------------------------------------------------------------------------

CLI_MODULE = textwrap.dedent('''\
    import functools

    import numpy as np


    def f(x, w):
        return np.sum(w * x ** 2)


    def varargs(*xs):
        return xs[0] * xs[1]


    def keywords(x, **options):
        return x * 2.0


    class Model:
        def __init__(self):
            self.w = 2.0

        def energy(self, x):
            return self.w * np.sum(x ** 2)


    model = Model()
    partial_f = functools.partial(f, w=3.0)
    builtin = len
''')

CLI_FAILURES = [
    ("check", "mod.py:f", "--at", "x=[[1.0],[1.0,2.0]]", "--at", "w=1.0"),
    ("check", "mod.py:f", "--at", "x=None", "--at", "w=1.0"),
    ("check", "mod.py:f", "--at", "x='abc'", "--at", "w=1.0"),
    ("check", "mod.py:f", "--at", "x=1.0", "--at", "w=1.0", "--wrt", "z"),
    ("check", "mod.py:f", "--at", "x=1.0", "--at", "w=1.0", "--wrt", "5"),
    ("check", "mod.py:keywords", "--at", "x=1.0"),
    ("show", "mod.py:varargs"),
    ("export", "mod.py:varargs"),
    ("show", "mod.py:builtin"),
    ("show", "mod.py:Model"),
    ("export", "mod.py:model.energy"),
    ("show", "mod.py:nothing"),
]


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "mod.py").write_text(CLI_MODULE)
    return folder


def run_cli(folder, *arguments):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(s2s.__file__)), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "s2s", *arguments], capture_output=True,
                          text=True, cwd=folder, env=env, timeout=120)


@pytest.mark.parametrize("arguments", CLI_FAILURES, ids=" ".join)
def test_cli_failures_are_one_line_s2s_errors(cli_folder, arguments):
    done = run_cli(cli_folder, *arguments)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"s2s {arguments[0]}: error: "), lines
    for internal in ("SyntaxError", "TypeError", "AttributeError", "ValueError", "IndexError",
                     "Traceback"):
        assert internal not in done.stderr


@pytest.mark.parametrize("target", ["mod.py:model.energy", "mod.py:partial_f"])
def test_cli_checks_methods_and_partials(cli_folder, target):
    done = run_cli(cli_folder, "check", target, "--at", "x=[1.0, 2.0]")
    assert done.returncode == 0, done.stderr
    assert "source" in done.stdout and "skipped: " not in done.stdout.split("source")[1][:40]


def test_compile_and_compare_finds_each_lambda_as_on_python_3_10():
    """The 3.10 path (no co_positions): each candidate lambda compiled and compared."""
    import ast

    from s2s import parse
    tree = parse._file_tree(HERE, tuple(open(HERE).readlines()))
    for function in PAIR + [TABLE["square"], TABLE["cube"]]:
        code = function.__code__
        candidates = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)
                      and node.lineno == code.co_firstlineno]
        matching = parse._compiled_matches(candidates, code)
        assert len(candidates) == 2 and len(matching) == 1
        assert matching[0] is parse._find_lambda(tree, code)[0]
