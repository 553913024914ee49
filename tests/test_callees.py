"""Functions calling each other, as generated code (issue 14).

Methods calling methods through ``self`` (bound, static, class methods, ``type(self)``),
objects with ``__call__`` and ``functools.partial`` objects called from inside, callees of
different modules reading the same global name, parameter defaults that are not literals,
``*rest``, ``**options`` and keyword-only parameters, starred arguments in calls.  Each case
must run as generated code (``mode == "source"``, no fallback) and match finite
differences and the tape.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import callees_a
import callees_b
import s2s
from reference import assert_close, numerical_gradient
from s2s.tape import vjp_with_tape

X = np.array([0.3, -0.7, 1.1])
W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [0.0, 0.2, 0.6]])
Y = np.array([1.0, 2.0, -1.5])
SCALE = 2.5
OPTIONS = {"axis": 0}
EXPONENTS = (2.0, 3.0)


# --- methods and objects ------------------------------------------------------------------

class Layer:
    def __init__(self, weight):
        self.weight = weight

    def __call__(self, x):
        return np.tanh(self.weight * x)


class Model:
    factor = 2.0

    def __init__(self, scale):
        self.scale = scale
        self.layer = Layer(0.5)

    def penalty(self, x):
        return self.scale * np.sum(x ** 2)

    def helper(self, x, k=1.0):
        return k * np.sum(np.sin(x))

    @staticmethod
    def cubed(x):
        return np.sum(x ** 3)

    @classmethod
    def doubled(cls, x):
        return cls.factor * np.sum(x)

    @classmethod
    def through_cls(cls, x):
        return cls.cubed(x) + cls.doubled(x)

    def regularized(self, x):
        return self.penalty(x) + self.helper(x, k=self.scale)

    def with_type(self, x):
        return type(self).cubed(x) * self.scale

    def statics(self, x):
        return self.cubed(x) + self.doubled(x) + Model.through_cls(x)

    def layered(self, x):
        return np.sum(self.layer(x) ** 2) + self.penalty(self.layer(x))


MODEL = Model(1.5)


def weighted(x, a, b=2.0):
    return np.sum(a * x ** b)


WEIGHTED = functools.partial(weighted, a=3.0)


def calls_partial(x):
    return WEIGHTED(x) + WEIGHTED(x, b=3.0)


def calls_object(x):
    return np.sum(MODEL.layer(x)) + MODEL.regularized(x)


# --- globals of two modules ---------------------------------------------------------------

def two_modules(x):
    return callees_a.model(x) + callees_b.model(x) + callees_a.logprob(x)


# --- defaults that are not literals -------------------------------------------------------

def layer(x, W, nonlinearity=np.tanh):
    return nonlinearity(W @ x)


def fit(x, y=Y, scale=SCALE):
    return scale * np.sum((x - y) ** 2)


def calls_defaults(x):
    return np.sum(layer(x, W)) + np.sum(layer(x, W, np.sin)) + fit(x) + fit(x, scale=1.0)


def top_default(x, y=Y):
    return np.sum(x * y)


def local_defaults(x):
    def inner(z, *, power=2.0, scale=SCALE):
        return scale * np.sum(z ** power)
    return inner(x) + inner(x, power=3.0)


# --- *rest, **options, keyword-only, starred arguments ------------------------------------

def total(x, *rest):
    result = x
    for value in rest:
        result = result * value
    return np.sum(result)


def scaled(x, **options):
    return np.sum(x * options["scale"]) + options["shift"]


def keyword_only_callee(x, *, power, scale=1.0):
    return scale * np.sum(x ** power)


def calls_variadic(x):
    y = np.sin(x)
    return total(x, y, 2.0) + total(x) + scaled(x, scale=2.0, shift=1.0) \
        + keyword_only_callee(x, power=3.0)


def calls_starred(x):
    y = x * 2.0
    pair = (x, y)
    return total(*pair) + total(x, *EXPONENTS) + np.sum(np.sum(x * y, **OPTIONS))


def keyword_only_top(x, *, y):
    return np.sum(x ** 2 * y)


CASES = {
    "method calling methods through self": (MODEL.regularized, (X,), 0),
    "type(self).staticmethod": (MODEL.with_type, (X,), 0),
    "staticmethod and classmethod through self and cls": (MODEL.statics, (X,), 0),
    "object with __call__ through self": (MODEL.layered, (X,), 0),
    "functools.partial called inside": (calls_partial, (X,), 0),
    "bound method and callable object called inside": (calls_object, (X,), 0),
    "callees of two modules read their own 'logprob'": (two_modules, (X,), 0),
    "callee defaults: a function, a global array, a global float": (calls_defaults, (X,), 0),
    "differentiated function with an array default": (top_default, (X,), 0),
    "local function with keyword-only and global defaults": (local_defaults, (X,), 0),
    "callees with *rest, **options and keyword-only parameters": (calls_variadic, (X,), 0),
    "starred arguments and **options in calls": (calls_starred, (X,), 0),
    "keyword-only parameter of the differentiated function, wrt by name":
        (functools.partial(keyword_only_top, y=Y + 1.0), (X,), 0),
}


def _primal(function):
    return lambda *args: function(*args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_callees_are_generated_code_and_match_finite_differences_and_the_tape(name):
    function, args, wrt = CASES[name]
    f = s2s.differentiate(function, wrt=wrt, fallback="error")
    gradient = f.grad(*args)
    assert f.mode == "source"
    assert_close(gradient, numerical_gradient(_primal(function), list(args), wrt))
    _, pullback = vjp_with_tape(_primal(function), tuple(args), {}, (wrt,))
    assert_close(gradient, pullback(1.0)[0])


def test_wrt_by_name_reaches_a_keyword_only_parameter():
    dy = s2s.grad(keyword_only_top, wrt="y")(X, y=Y)
    assert_close(dy, numerical_gradient(lambda y: keyword_only_top(X, y=y), [Y], 0))
    assert s2s.differentiate(keyword_only_top, wrt="y").mode == "source"


def test_each_callee_keeps_its_own_globals_in_readable_names():
    source = s2s.differentiate(two_modules, fallback="error").source
    assert "callees_b_SCALE * _t1" in source and "_t0 = -SCALE" in source
    assert source == s2s.differentiate(two_modules, fallback="error").source   # deterministic


def test_a_method_called_twice_is_generated_once():
    source = s2s.differentiate(MODEL.layered, fallback="error").source
    assert source.count("def vjp_penalty") == 1
    assert source.count("def vjp___call__") == 1          # Layer.__call__
    assert "Layer_self.weight" in source                  # not the model's self


def test_a_callee_specialized_to_its_constants_is_generated_per_constant():
    source = s2s.differentiate(calls_defaults, fallback="error").source
    assert source.count("def vjp_layer") == 2          # np.tanh and np.sin
    assert "_return = nonlinearity(_t0)" in source                  # np.tanh, a constant
    assert "_return = test_callees_nonlinearity(_t0)" in source     # np.sin, renamed


# --- refusals ---------------------------------------------------------------------------

def calls_a_parameter(x, nonlinearity=np.tanh):
    return np.sum(nonlinearity(x))


def unknown_count(x, values):
    return total(x, *values)


def local_options(x, options):
    return scaled(x, **options)


@pytest.mark.parametrize(("function", "message"), [
    (calls_a_parameter, "'nonlinearity' is a variable of calls_a_parameter"),
    (unknown_count, r"'\*values': s2s cannot tell how many arguments"),
    (local_options, r"'\*\*options' is not a constant dict"),
])
def test_what_cannot_be_known_ahead_of_time_is_refused_with_the_line(function, message):
    with pytest.raises(s2s.UnsupportedError, match=message) as info:
        extra = {unknown_count: [X], local_options: [{"scale": 1.0, "shift": 0.0}]}
        s2s.differentiate(function, fallback="error").grad(X, *extra.get(function, []))
    assert "test_callees.py:" in str(info.value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_callees_in_forward_mode_match_reverse_mode(name):
    function, args, wrt = CASES[name]
    tangent = np.array([0.4, -1.2, 0.7])
    with warnings.catch_warnings():
        warnings.simplefilter("error", s2s.FallbackWarning)       # generated code, no tape
        _, derivative = s2s.jvp(function, args, (tangent,))
        gradient = s2s.grad(function, wrt=wrt)(*args)
    assert_close(derivative, np.dot(gradient, tangent))


# --- *args on the differentiated function: one derivative per number of arguments --------


def sum_of_squares(*xs):
    return sum(np.sum(x ** 2) for x in xs)


def scaled_sines(a, *xs, k=2.0):
    return a * k * sum(np.sum(np.sin(x)) for x in xs)


def test_star_args_positions_count_the_arguments_as_passed():
    x0, x1 = np.array([1.0, 2.0]), np.array([3.0])
    derivative = s2s.differentiate(sum_of_squares, wrt=(0, 1), fallback="error")
    value, (g0, g1) = derivative.value_and_grad(x0, x1)
    assert derivative.mode == "source" and value == pytest.approx(14.0)
    for gradient, position in ((g0, 0), (g1, 1)):
        assert_close(gradient, numerical_gradient(sum_of_squares, [x0, x1], position))
    # three arguments: another derivative, wrt=2 is the third argument
    args = [0.5, np.array([0.1]), np.array([0.2, 0.3])]
    gradient = s2s.grad(scaled_sines, wrt=2)(*args, k=3.0)
    expected = numerical_gradient(lambda a, u, v: scaled_sines(a, u, v, k=3.0), args, 2)
    assert_close(gradient, expected)
    assert "xs_0" in derivative.source_for(x0, x1)


def gathered_options(x, *layers, **options):
    scale = options.get("scale", 1.0)
    total = np.sum(np.sin(x) * options["w"]) * scale
    for layer in layers:
        total = total + np.sum(layer * x)
    return total


def calls_with_gathered_options(x, w):
    return gathered_options(x, w=w, tag="first") + gathered_options(2.0 * x, x, w=w ** 2)


def test_star_star_kwargs_reach_the_generated_code_and_wrt_by_name():
    x, layer = np.array([0.3, -0.7]), np.array([1.5, 0.5])
    derivative = s2s.differentiate(gathered_options, wrt=(0, "w", "scale"), fallback="error")
    gradients = derivative.grad(x, layer, w=2.0, scale=3.0)
    assert derivative.mode == "source"
    def at(x, w, scale):
        return gathered_options(x, layer, w=w, scale=scale)
    for gradient, position in zip(gradients, range(3)):
        assert_close(gradient, numerical_gradient(at, [x, 2.0, 3.0], position))
    # without scale: another derivative, where .get gives the default
    gradient = s2s.differentiate(gathered_options, wrt="w", fallback="error").grad(x, w=2.0)
    assert_close(gradient, numerical_gradient(lambda w: gathered_options(x, w=w), [2.0], 0))
    assert "options_w" in derivative.source_for(x, layer, w=2.0, scale=3.0)


def test_star_star_kwargs_of_a_callee_receive_the_callers_values():
    x = np.array([0.3, -0.7])
    derivative = s2s.differentiate(calls_with_gathered_options, wrt=(0, 1), fallback="error")
    gradients = derivative.grad(x, 1.5)
    for gradient, position in zip(gradients, range(2)):
        assert_close(gradient, numerical_gradient(calls_with_gathered_options, [x, 1.5],
                                                  position))
    _, tangent = s2s.jvp(calls_with_gathered_options, (x, 1.5), (np.ones(2), 1.0))
    assert_close(tangent, np.sum(gradients[0]) + gradients[1])


def keyword_only_affine(x, *, scale=2.0, shift=0.5):
    return np.sum((scale * x + shift) ** 2)


def options_of_constants(x):
    options = {"scale": 0.5, "shift": -1.0}
    return keyword_only_affine(x, **options)


def options_holding_the_input(x):
    options = {"scale": x[0] * 2.0, "shift": -1.0}
    return keyword_only_affine(x, **options)


def test_local_dict_of_constants_passed_as_keywords():
    x = np.array([0.3, 0.7])
    derivative = s2s.differentiate(options_of_constants, fallback="error")
    assert_close(derivative.grad(x), numerical_gradient(options_of_constants, [x], 0))
    with pytest.raises(s2s.MissingRuleError, match="holds a differentiated value"):
        s2s.differentiate(options_holding_the_input, fallback="error").grad(x)
