"""Rules for reading pytrees of parameters: ``p.w`` on a namedtuple or a registered
dataclass, and a dict's ``.items()``, ``.values()`` and ``.keys()`` (looped over as lists;
see :mod:`s2s.pytree`).  Subscripts (``p["w"]``, ``p[0][1]``) are ``getitem``'s."""
from ..runtime import (dict_items, dict_keys, dict_values, field, index_adjoint,
                       items_adjoint, values_adjoint)
from .registry import define, define_nondifferentiable


def field_vjp(g, ans, x, name):
    return index_adjoint(g, x, name)


def field_jvp(t, ans, x, name):
    return field(t, name)


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

# checked on pytrees by tests/test_pytrees.py, not on the arrays tests/test_rules.py draws
CONTAINER_RULES = frozenset({"field", "dict_items", "dict_values"})
CONTAINER_METHODS = frozenset({"items", "values", "keys"})
