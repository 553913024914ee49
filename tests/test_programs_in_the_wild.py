"""The in-the-wild corpus (tests/programs_in_the_wild/): every program's gradient from the
generated code (``fallback="error"``, mode ``"source"``) and from the tape, each against
central finite differences in float64, leaf by leaf for containers of parameters.

A program that fails today is a strict xfail naming the construct and the first line of
s2s's error (``XFAIL`` below): remove its entry when the feature lands.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2s
from programs_in_the_wild import all_cases
from reference import numerical_gradient
from s2s.tape import vjp_with_tape

CASES = all_cases()
SEED = 0

# name -> reason, for the generated code (test_source) ...
XFAIL_SOURCE: dict[str, str] = {}
# ... and for the tape (test_tape)
XFAIL_TAPE: dict[str, str] = {
    "dict_mlp_loss":
        "x.dot(tensor) on a NumPy array: MissingRuleError: converting a tensor that requires "
        "grad to a NumPy array ... would drop its gradient",
    "gru_loss":
        "np.concatenate of a list holding tensors: UnsupportedError: the tape "
        "differentiates numpy.concatenate only with respect to tensors passed directly",
    "conv1d_loss":
        "a tensor written into a NumPy array (out[i] = ...): ValueError: setting an array "
        "element with a sequence.",
    "elbo_gaussian":
        "np.array of a list of tensors: MissingRuleError: converting a tensor that requires "
        "grad to a NumPy array would drop its gradient",
    "pendulum_rk4":
        "np.array of a list of tensors: MissingRuleError: converting a tensor that requires "
        "grad to a NumPy array would drop its gradient",
    "list_append_loop":
        "np.array of a list of tensors: MissingRuleError: converting a tensor that requires "
        "grad to a NumPy array would drop its gradient",
    "heat_equation_loss":
        "in-place write into a tensor: TapeError: the s2s tape does not record in-place "
        "operations on tensors that require grad",
    "wave_equation_energy":
        "in-place write into a tensor: TapeError: the s2s tape does not record in-place "
        "operations on tensors that require grad",
    "projectile_range":
        "math-module function of a tensor: MissingRuleError: float() of a tensor that "
        "requires grad would drop its gradient",
}


# --- pytrees, flattened here: the tests do not rely on s2s's own pytree support ---------

def leaf_paths(tree, prefix=()):
    """The paths to the float leaves of nested lists, tuples, namedtuples and dicts."""
    if isinstance(tree, dict):
        return [p for key in sorted(tree) for p in leaf_paths(tree[key], prefix + (key,))]
    if isinstance(tree, (list, tuple)):
        return [p for i, item in enumerate(tree) for p in leaf_paths(item, prefix + (i,))]
    if isinstance(tree, float) or (isinstance(tree, np.ndarray) and tree.dtype.kind == "f"):
        return [prefix]
    return []


def get_leaf(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def set_leaf(tree, path, value):
    """A copy of ``tree`` with the leaf at ``path`` replaced (containers rebuilt)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        return {**tree, head: set_leaf(tree[head], rest, value)}
    items = list(tree)
    items[head] = set_leaf(items[head], rest, value)
    if hasattr(tree, "_fields"):
        return type(tree)(*items)
    return type(tree)(items)


def reference_gradients(case, args):
    """Finite differences for every float leaf of every differentiated argument."""
    gradients = []
    for position in case.wrt:
        for path in leaf_paths(args[position]):
            def at_leaf(leaf, position=position, path=path):
                shifted = list(args)
                shifted[position] = set_leaf(args[position], path, leaf)
                return case.function(*shifted)
            gradients.append(numerical_gradient(at_leaf, [get_leaf(args[position], path)], 0))
    return gradients


def flat_gradients(case, args, gradients):
    """The leaves of s2s's gradients, in the order of :func:`reference_gradients`."""
    if len(case.wrt) == 1:
        gradients = (gradients,)
    assert len(gradients) == len(case.wrt)
    flat = []
    for position, gradient in zip(case.wrt, gradients):
        for path in leaf_paths(args[position]):
            flat.append(get_leaf(gradient, path))
    return flat


def assert_matches(actual, expected, what):
    assert len(actual) == len(expected), what
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert np.shape(a) == np.shape(e), f"{what}: leaf {i} has shape {np.shape(a)}"
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), e, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{what}: leaf {i}")


def marked(xfails):
    return [pytest.param(case, id=case.name,
                         marks=[pytest.mark.xfail(strict=True, reason=xfails[case.name])]
                         if case.name in xfails else [])
            for case in CASES]


def test_the_corpus_is_large_and_named_uniquely():
    names = [case.name for case in CASES]
    assert len(names) >= 60 and len(set(names)) == len(names)
    assert set(XFAIL_SOURCE) <= set(names) and set(XFAIL_TAPE) <= set(names)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", marked(XFAIL_SOURCE))
def test_source(case):
    args = case.make_inputs(np.random.default_rng(SEED))
    expected_value = case.function(*args)
    differentiable = s2s.differentiate(case.function, wrt=case.wrt if len(case.wrt) > 1
                                       else case.wrt[0], fallback="error")
    value, gradients = differentiable.value_and_grad(*args)
    assert differentiable.mode == "source"
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-12)
    assert_matches(flat_gradients(case, args, gradients), reference_gradients(case, args),
                   f"{case.name}: generated code vs finite differences")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", marked(XFAIL_TAPE))
def test_tape(case):
    args = case.make_inputs(np.random.default_rng(SEED))
    value, pullback = vjp_with_tape(case.function, args, {}, case.wrt)
    np.testing.assert_allclose(value, case.function(*args), rtol=1e-12, atol=1e-12)
    gradients = pullback()
    assert_matches(flat_gradients(case, args, gradients if len(case.wrt) > 1 else gradients[0]),
                   reference_gradients(case, args), f"{case.name}: tape vs finite differences")


def test_the_leaf_helpers_rebuild_containers():
    from programs_in_the_wild.neural_nets import Layer

    tree = {"a": [(1.0, np.ones(2)), Layer(np.zeros(1), 2.0)], "n": 3}
    assert leaf_paths(tree) == [("a", 0, 0), ("a", 0, 1), ("a", 1, 0), ("a", 1, 1)]
    changed = set_leaf(tree, ("a", 1, 1), 5.0)
    assert changed["a"][1].bias == 5.0 and isinstance(changed["a"][1], Layer)
    assert tree["a"][1].bias == 2.0 and changed["n"] == 3
