"""Rules for reading pytrees of parameters: ``p.w`` on a namedtuple or a registered
dataclass, and a dict's ``.items()``, ``.values()`` and ``.keys()`` (looped over as lists;
see :mod:`s2s.pytree`).  Subscripts (``p["w"]``, ``p[0][1]``) are ``getitem``'s."""
from ..runtime import (default_adjoint, dict_get, dict_items, dict_keys, dict_values, field,
                       field_tangent, get_adjoint, index_adjoint, items_adjoint, pairs_adjoint,
                       pairs_mapping, values_adjoint, zeros_like)
from .registry import define, define_nondifferentiable


def field_vjp(g, ans, x, name):
    return index_adjoint(g, x, name)


def field_jvp(t, ans, x, name):
    # A named result's tangent (QRResult's) is a plain tuple: read by the field's position.
    return field_tangent(t, x, name)


define(field, vjp=(field_vjp, None), jvp=(field_jvp, None), display="Field", linear=True,
       complex_ok=True)


def items_vjp(g, ans, mapping):
    return items_adjoint(g, mapping)


def items_jvp(t, ans, mapping):
    return dict_items(t)


def values_vjp(g, ans, mapping):
    return values_adjoint(g, mapping)


def values_jvp(t, ans, mapping):
    return dict_values(t)


define(dict_items, methods=("items",), vjp=items_vjp, jvp=items_jvp, display="Items",
       linear=True, complex_ok=True)
define(dict_values, methods=("values",), vjp=values_vjp, jvp=values_jvp, display="Values",
       linear=True, complex_ok=True)
define_nondifferentiable(dict_keys, methods=("keys",))


def get_vjp_mapping(g, ans, mapping, key, default=None):
    return get_adjoint(g, mapping, key)


def get_vjp_default(g, ans, mapping, key, default=None):
    return default_adjoint(g, mapping, key, default)


def get_jvp_mapping(t, ans, mapping, key, default=None):
    return dict_get(t, key) if key in mapping else zeros_like(ans)


def get_jvp_default(t, ans, mapping, key, default=None):
    return zeros_like(ans) if key in mapping else t


define(dict_get, methods=("get",), vjp=(get_vjp_mapping, None, get_vjp_default),
       jvp=(get_jvp_mapping, None, get_jvp_default), display="Get", linear=True,
       complex_ok=True)


def dict_vjp(g, ans, pairs):
    return pairs_adjoint(g, pairs)


def dict_jvp(t, ans, pairs):
    return pairs_mapping(t, pairs)


# dict(pairs): a dict comprehension lowers to a list of (key, value) pairs passed to dict
define(dict, vjp=dict_vjp, jvp=dict_jvp, display="Dict", linear=True, complex_ok=True)

# checked on pytrees by tests/test_pytrees.py, not on the arrays tests/test_rules.py draws
CONTAINER_RULES = frozenset({"field", "dict_items", "dict_values", "dict", "dict_get"})
CONTAINER_METHODS = frozenset({"items", "values", "keys", "get"})
