"""Pytrees of parameters (s2s/pytree.py): the tree utilities, then gradients with respect
to nested containers in generated code, against finite differences over the raveled
vector and against the tape."""
import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import s2s
from s2s.errors import InputError
from s2s.tape import vjp_with_tape
from tests.reference import assert_close, numerical_gradient

RNG = np.random.default_rng(7)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 1))
Params = namedtuple("Params", "w b")


@s2s.register_dataclass
@dataclasses.dataclass
class Linear:
    w: np.ndarray
    b: float


# --- the tree utilities ---------------------------------------------------------------------


def test_flatten_round_trips_and_sorts_dict_keys():
    tree = {"b": [1.0, (np.ones(2), None)], "a": Params(np.zeros(3), 2.0), "n": 3}
    leaves, treedef = s2s.tree_flatten(tree)
    assert leaves[0].shape == (3,) and leaves[1] == 2.0 and leaves[2] == 1.0
    assert leaves[-1] == 3 and treedef.num_leaves == 5 == len(leaves)
    rebuilt = s2s.tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt["a"], Params) and rebuilt["a"].b == 2.0
    assert rebuilt["b"][1][1] is None and rebuilt["n"] == 3
    assert s2s.tree_flatten({"x": 1.0, "y": 2.0})[1] == s2s.tree_flatten({"y": 0.0, "x": 0.0})[1]
    assert s2s.tree_map(lambda a, b: a + b, [1.0, (2.0,)], [10.0, (20.0,)]) == [11.0, (22.0,)]
    with pytest.raises(InputError):
        s2s.tree_map(lambda a, b: a, [1.0], (1.0,))
    with pytest.raises(InputError):
        s2s.tree_unflatten(treedef, leaves[:-1])


def test_ravel_restores_shapes_dtypes_and_non_float_leaves():
    tree = {"w": np.arange(6.0).reshape(2, 3).astype(np.float32), "b": 0.5, "n": 4,
            "name": "m", "layers": [np.ones(2)]}
    flat, unravel = s2s.ravel_pytree(tree)
    assert flat.dtype == np.float64 and flat.shape == (9,)
    back = unravel(flat + 1.0)
    assert back["w"].dtype == np.float32 and back["w"].shape == (2, 3)
    assert isinstance(back["b"], float) and back["b"] == 1.5
    assert back["n"] == 4 and back["name"] == "m"
    assert_close(back["layers"][0], np.full(2, 2.0))
    with pytest.raises(InputError):
        unravel(np.zeros(3))


def test_registered_dataclass_is_a_node():
    leaves, treedef = s2s.tree_flatten(Linear(np.ones(2), 3.0))
    assert len(leaves) == 2
    rebuilt = s2s.tree_unflatten(treedef, [np.zeros(2), 1.0])
    assert isinstance(rebuilt, Linear) and rebuilt.b == 1.0


# --- gradients in generated code -------------------------------------------------------------


def mlp(params, x, y):
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return np.mean((h @ W + b - y) ** 2)


def logistic(params, x, y):
    z = x @ params["w"] + params["b"]
    p = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) * params["scale"]


def layered(params, x, y):
    h = x
    for W, b in params["layers"]:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2) * params["scale"] + 0.0 * len(params["layers"])


def named(params, x, y):
    return np.sum((x @ params.w + params.b - y[:, 0]) ** 2)


def registered(params, x, y):
    return np.sum(np.sin(x @ params.w) * params.b)


def with_settings(params, x, y):
    h = x @ params["w"]
    for _ in range(params["n_steps"]):
        h = np.tanh(h) * params["scale"]
    if params["name"] == "model":
        h = h + 1.0
    return np.sum(h ** 2)


def over_items(params, x, y):
    total = 0.0
    for key, value in params.items():
        total = total + np.sum(value ** 2) * (2.0 if key == "w" else 1.0)
    for value in params.values():
        total = total + np.sum(np.sin(value))
    for key in params.keys():
        total = total + np.sum(params[key] * 0.5)
    return total


def literals(params, x, y):
    pair = (params["w"] * 2.0, params["b"])
    table = {"a": pair[0], "b": pair[1] ** 2}
    a, b = pair
    return np.sum(x @ table["a"]) * table["b"] + np.sum(a) * b


def layers(n_in, n_hidden):
    return [(RNG.normal(size=(n_in, n_hidden)), RNG.normal(size=n_hidden)),
            (RNG.normal(size=(n_hidden, 1)), RNG.normal(size=1))]


CASES = {
    "mlp [(W1, b1), (W2, b2)]": (mlp, layers(3, 4), Y),
    "dict {w, b, scale}": (logistic, {"w": RNG.normal(size=3), "b": 0.2, "scale": 1.5},
                           (Y[:, 0] > 0).astype(float)),
    "dict {layers, scale}": (layered, {"layers": [(RNG.normal(size=(3, 3)), RNG.normal(size=3)),
                                                   (RNG.normal(size=(3, 2)), RNG.normal(size=2))],
                                       "scale": 1.5}, Y),
    "namedtuple": (named, Params(RNG.normal(size=3), 0.3), Y),
    "registered dataclass": (registered, Linear(RNG.normal(size=3), 0.7), Y),
    "non-float leaves": (with_settings, {"w": RNG.normal(size=(3, 2)), "n_steps": 3,
                                         "scale": 0.9, "name": "model"}, Y),
    ".items() .values() .keys()": (over_items, {"w": RNG.normal(size=3), "b": 0.4}, Y),
    "tuple and dict literals": (literals, {"w": RNG.normal(size=3), "b": 0.6}, Y),
}


def finite_differences(function, params, *rest):
    flat, unravel = s2s.ravel_pytree(params)
    return numerical_gradient(lambda vector: function(unravel(vector), *rest), [flat], 0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_has_the_structure_and_matches_references(name):
    function, params, y = CASES[name]
    f = s2s.differentiate(function, fallback="error")
    gradient = f.grad(params, X, y)
    assert f.mode == "source"
    assert s2s.tree_flatten(s2s.tree_map(lambda leaf: 0, gradient))[1] == \
        s2s.tree_flatten(s2s.tree_map(lambda leaf: 0 if s2s.pytree.is_float_leaf(leaf)
                                      else None, params))[1]
    assert_close(s2s.ravel_pytree(gradient)[0], finite_differences(function, params, X, y))
    _, pullback = vjp_with_tape(function, (params, X, y), {}, (0,))
    assert_close(s2s.ravel_pytree(gradient)[0], s2s.ravel_pytree(pullback(1.0)[0])[0])


def test_non_float_leaves_get_none_and_dicts_keep_their_order():
    _, params, y = CASES["non-float leaves"]
    gradient = s2s.grad(with_settings)(params, X, y)
    assert list(gradient) == list(params)
    assert gradient["n_steps"] is None and gradient["name"] is None
    assert isinstance(gradient["scale"], float)


def test_an_int_argument_selected_directly_is_still_an_error():
    with pytest.raises(InputError):
        s2s.grad(lambda n: n * 2.0)(np.arange(3))


def test_generated_code_is_readable_and_deterministic():
    first = s2s.differentiate(mlp, fallback="error").source
    second = s2s.Differentiable(mlp, fallback="error").source
    assert first == second
    assert "params_b = index_adjoint(" in first and "index_accumulate(params_b" in first


def test_vjp_with_a_container_output_and_cotangent():
    def outputs(params, x):
        return {"hidden": np.tanh(x @ params["w"]), "total": np.sum(params["w"]) * params["b"]}

    params = {"w": RNG.normal(size=(3, 2)), "b": 0.5}
    f = s2s.differentiate(outputs, fallback="error")
    value, pullback = f.vjp(params, X)
    assert f.mode == "source" and set(value) == {"hidden", "total"}
    cotangent = {"hidden": RNG.normal(size=(5, 2)), "total": 2.0}
    gradient = pullback(cotangent)

    def projected(p):
        out = outputs(p, X)
        return np.sum(out["hidden"] * cotangent["hidden"]) + out["total"] * 2.0

    assert_close(s2s.ravel_pytree(gradient)[0], finite_differences(projected, params))


def test_jvp_with_a_tangent_tree():
    function, params, y = CASES["dict {w, b, scale}"]
    tangent = {"w": RNG.normal(size=3), "b": 0.3, "scale": -1.0}
    value, product = s2s.jvp(function, (params, X, y), (tangent, None, None))
    gradient = s2s.grad(function)(params, X, y)
    assert_close(value, function(params, X, y))
    assert_close(product, s2s.ravel_pytree(gradient)[0] @ s2s.ravel_pytree(tangent)[0])


def small(params, x):
    return np.sum(np.sin(params["w"] * x)) * params["b"] ** 2


def test_hessian_and_hvp_of_a_function_of_a_small_dict():
    params, x = {"w": np.array([0.3, -0.2]), "b": 0.7}, np.array([1.0, 2.0])
    flat, unravel = s2s.ravel_pytree(params)

    def flat_gradient(vector):
        return s2s.ravel_pytree(s2s.grad(small)(unravel(vector), x))[0]

    expected = np.stack([numerical_gradient(lambda v: flat_gradient(v)[i], [flat], 0)
                         for i in range(flat.size)])          # rows: d gradient_i / d v
    hessian = s2s.hessian(small)(params, x)
    assert set(hessian) == {"w", "b"} and hessian["w"]["b"].shape == (2,)
    blocks = np.block([[hessian["b"]["b"].reshape(1, 1), hessian["b"]["w"].reshape(1, 2)],
                       [hessian["w"]["b"].reshape(2, 1), hessian["w"]["w"]]])
    assert_close(blocks, expected, rtol=1e-5, atol=1e-6)      # sorted keys: b, then w
    direction = {"w": np.array([1.0, -1.0]), "b": 0.5}
    product = s2s.hvp(small, params, direction, x)
    assert_close(s2s.ravel_pytree(product)[0], expected @ s2s.ravel_pytree(direction)[0],
                 rtol=1e-5, atol=1e-6)


def test_value_and_grad_with_aux():
    def with_aux(params, x):
        loss = np.sum((x @ params["w"]) ** 2) + params["b"]
        return loss, {"norm": np.sum(params["w"] ** 2), "label": "run"}

    params = {"w": RNG.normal(size=3), "b": 0.1}
    (loss, aux), gradient = s2s.value_and_grad(with_aux, has_aux=True)(params, X)
    assert aux["label"] == "run"
    assert_close(aux["norm"], np.sum(params["w"] ** 2))
    assert_close(s2s.ravel_pytree(gradient)[0],
                 finite_differences(lambda p: with_aux(p, X)[0], params))


def test_jacobian_with_respect_to_a_pytree():
    def vector(params, x):
        return np.tanh(x @ params["w"]) * params["b"]

    params = {"w": RNG.normal(size=3), "b": 0.4}
    jacobian = s2s.jacobian(vector)(params, X)
    assert jacobian["w"].shape == (5, 3) and jacobian["b"].shape == (5,)
    for row in range(5):
        expected = finite_differences(lambda p: vector(p, X)[row], params)
        assert_close(np.concatenate([[jacobian["b"][row]], jacobian["w"][row]]), expected)


def nested_loop_targets(params, x):
    total = 0.0
    for i, (W, b) in enumerate(params):
        x = np.tanh(x @ W + b) * (i + 1)
    for (a, c), d in zip(params, [1.0, 2.0]):
        total = total + np.sum(a * c[0]) * d
    return np.sum(x) + total


def test_nested_tuple_loop_targets_in_generated_code():
    rng = np.random.default_rng(3)
    params = [(rng.normal(size=(3, 3)), rng.normal(size=3)) for _ in range(2)]
    x = rng.normal(size=3)
    derivative = s2s.differentiate(nested_loop_targets, fallback="error")
    gradient = derivative.grad(params, x)
    assert derivative.mode == "source"
    flat, unravel = s2s.ravel_pytree(params)
    expected = numerical_gradient(lambda v: nested_loop_targets(unravel(v), x), [flat], 0)
    np.testing.assert_allclose(s2s.ravel_pytree(gradient)[0], expected, rtol=1e-6, atol=1e-8)
