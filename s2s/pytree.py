"""Pytrees: nested containers of parameters (JAX's word; HIPS autograd does the same).

A pytree is a leaf (an array, a number, a string, anything not registered as a node) or a
node holding pytrees: a list, a tuple, a dict, a namedtuple, ``None`` (a node with no
children), or a class registered with :func:`register_pytree_node` (a dataclass with
:func:`register_dataclass`; dataclasses are not nodes until registered, since many hold
settings rather than parameters).

Choices, as in JAX:

* dict children are flattened in sorted key order, so two dicts with the same keys have
  equal treedefs whatever order they were built in (:func:`tree_unflatten` builds dicts in
  sorted order; the gradients s2s returns keep the argument's own key order);
* only floating-point leaves (Python floats, NumPy float scalars and arrays) are
  differentiated: other leaves (ints, bools, strings, integer arrays) pass through, and the
  gradient tree holds ``None`` there; :func:`ravel_pytree` leaves them out of the vector.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Hashable, NamedTuple

import numpy as np

from .errors import InputError

_NODES: dict[type, tuple[Callable, Callable]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}       # a registered dataclass's children, by name


class PyTreeDef(NamedTuple):
    """The structure of a pytree: its node type, the node's metadata, and its children's
    structures (a leaf: ``kind`` None).  Equal structures compare and hash equal."""

    kind: Any                    # None for a leaf, else the node's type
    aux: Hashable                # dict keys, a namedtuple's fields, a registered node's data
    children: tuple

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind is None else sum(child.num_leaves for child in self.children)

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        inner = ", ".join(map(repr, self.children))
        if self.kind is list:
            return f"[{inner}]"
        if self.kind is tuple:
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        if self.kind is dict:
            return "{" + ", ".join(f"{key!r}: {child!r}"
                                   for key, child in zip(self.aux, self.children)) + "}"
        if self.kind is type(None):
            return "None"
        return f"{self.kind.__name__}({inner})"


_LEAF = PyTreeDef(None, None, ())


def register_pytree_node(kind: type, flatten: Callable[[Any], tuple[Any, Hashable]],
                         unflatten: Callable[[Hashable, Any], Any]) -> type:
    """Make ``kind`` a pytree node: ``flatten(obj) -> (children, aux)`` and
    ``unflatten(aux, children) -> obj`` (``aux``: hashable data that is not a child)."""
    if not isinstance(kind, type):
        raise InputError(f"register_pytree_node: {kind!r} is not a class")
    if kind in (list, tuple, dict, type(None)):
        raise InputError(f"register_pytree_node: {kind.__name__} is already a pytree node")
    _NODES[kind] = (flatten, unflatten)
    _FIELDS.pop(kind, None)
    return kind


def register_dataclass(kind: type | None = None, *, data_fields: tuple[str, ...] | None = None,
                       meta_fields: tuple[str, ...] = ()):
    """Register a dataclass as a pytree node (also a decorator: ``@s2s.register_dataclass``).

    Its fields are children, except ``meta_fields`` (settings, kept in the treedef);
    ``data_fields`` defaults to every other field, in declaration order.
    """
    if kind is None:
        return lambda inner: register_dataclass(inner, data_fields=data_fields,
                                                meta_fields=meta_fields)
    if not dataclasses.is_dataclass(kind) or not isinstance(kind, type):
        raise InputError(f"register_dataclass: {kind!r} is not a dataclass")
    names = [field.name for field in dataclasses.fields(kind)]
    data = tuple(name for name in names if name not in meta_fields) \
        if data_fields is None else tuple(data_fields)
    meta = tuple(meta_fields)

    def flatten(obj):
        return [getattr(obj, name) for name in data], \
            tuple(getattr(obj, name) for name in meta)

    def unflatten(aux, children):
        return kind(**dict(zip(data, children)), **dict(zip(meta, aux)))

    register_pytree_node(kind, flatten, unflatten)
    _FIELDS[kind] = data
    return kind


def data_fields(value: Any) -> tuple[str, ...] | None:
    """The names of a registered dataclass's children (None for any other value)."""
    return _FIELDS.get(type(value))


def is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def is_node(value: Any) -> bool:
    """Is ``value`` a pytree node (not a leaf)?"""
    return value is None or isinstance(value, (list, tuple, dict)) or type(value) in _NODES


def sorted_keys(mapping: dict) -> list:
    """A dict's keys in pytree order: sorted (by ``repr`` when they are not comparable)."""
    try:
        return sorted(mapping)
    except TypeError:
        return sorted(mapping, key=repr)


def children(value: Any) -> tuple[list, PyTreeDef | None, Hashable]:
    """A node's children, in pytree order, with its kind and aux data."""
    kind = type(value)
    if value is None:
        return [], kind, None
    if kind is list or kind is tuple:
        return list(value), kind, None
    if isinstance(value, dict):
        keys = sorted_keys(value)
        return [value[key] for key in keys], dict, tuple(keys)
    if is_namedtuple(value):
        return list(value), kind, None
    if kind in _NODES:
        items, aux = _NODES[kind][0](value)
        return list(items), kind, aux
    if isinstance(value, (list, tuple)):       # a subclass: as its base
        return list(value), tuple if isinstance(value, tuple) else list, None
    raise InputError(f"{kind.__name__} is not a pytree node")


def rebuild(kind: type, aux: Hashable, items: list) -> Any:
    """The node of ``kind`` (with ``aux``) holding ``items``."""
    if kind is type(None):
        return None
    if kind is list:
        return list(items)
    if kind is tuple:
        return tuple(items)
    if kind is dict:
        return dict(zip(aux, items))
    if kind in _NODES:
        return _NODES[kind][1](aux, items)
    return kind(*items)                          # a namedtuple


def tree_flatten(tree: Any) -> tuple[list, PyTreeDef]:
    """``(leaves, treedef)``: the leaves in order (dict keys sorted) and the structure."""
    leaves: list = []

    def visit(value: Any) -> PyTreeDef:
        if not is_node(value):
            leaves.append(value)
            return _LEAF
        items, kind, aux = children(value)
        return PyTreeDef(kind, aux, tuple(visit(item) for item in items))

    return leaves, visit(tree)


def tree_unflatten(treedef: PyTreeDef, leaves: Any) -> Any:
    """The pytree of structure ``treedef`` holding ``leaves`` (in :func:`tree_flatten`'s order)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise InputError(f"tree_unflatten: {len(leaves)} leaves for a structure with "
                         f"{treedef.num_leaves}: {treedef!r}")
    iterator = iter(leaves)

    def build(definition: PyTreeDef) -> Any:
        if definition.kind is None:
            return next(iterator)
        return rebuild(definition.kind, definition.aux,
                       [build(child) for child in definition.children])

    return build(treedef)


def tree_leaves(tree: Any) -> list:
    return tree_flatten(tree)[0]


def tree_structure(tree: Any) -> PyTreeDef:
    return tree_flatten(tree)[1]


def tree_map(function: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """``function`` applied to each leaf of ``tree`` (and the matching leaves of ``rest``,
    which must have the same structure), in a tree of the same structure."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise InputError(f"tree_map: structures differ: {treedef!r} and {other_def!r}")
        others.append(other_leaves)
    return tree_unflatten(treedef, [function(*items) for items in zip(leaves, *others)])


def is_float_leaf(value: Any) -> bool:
    """A leaf that is differentiated: a Python float, a NumPy float scalar or array."""
    if isinstance(value, float):
        return True
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f"


def is_pytree_argument(value: Any) -> bool:
    """Is this argument a pytree of parameters, rather than (nested lists of) numbers to be
    read as one array?  Dicts, namedtuples and registered nodes are; a list or tuple is when
    it holds one of those or an array anywhere inside."""
    if isinstance(value, dict) or is_namedtuple(value) or type(value) in _NODES:
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, np.ndarray) or is_pytree_argument(item) for item in value)
    return False


def ravel_pytree(tree: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``(flat, unravel)``: the float leaves of ``tree`` raveled into one float64 vector,
    and the function rebuilding a tree of the same structure from such a vector (each float
    leaf with its shape and dtype; Python floats as floats; other leaves as they were).

    ``ravel_pytree(gradient)[0]`` lines up with ``ravel_pytree(params)[0]`` for a gradient
    s2s computed (its ``None`` entries hold no leaves), so it suits
    ``scipy.optimize.minimize(..., jac=True)``.
    """
    leaves, treedef = tree_flatten(tree)
    slots = [(index, np.shape(leaf), leaf) for index, leaf in enumerate(leaves)
             if is_float_leaf(leaf)]
    sizes = [int(np.prod(shape)) for _, shape, _ in slots]
    flat = np.concatenate([np.ravel(np.asarray(leaf, dtype=np.float64))
                           for _, _, leaf in slots]) if slots else np.zeros(0)
    total = int(flat.size)

    def unravel(vector: Any) -> Any:
        vector = np.asarray(vector)
        if vector.shape != (total,):
            raise InputError(f"unravel: a vector of shape {vector.shape}, not ({total},)")
        rebuilt = list(leaves)
        start = 0
        for (index, shape, leaf), size in zip(slots, sizes):
            piece = vector[start:start + size].reshape(shape)
            start += size
            if isinstance(leaf, float):
                rebuilt[index] = float(piece)
            elif isinstance(leaf, np.generic):
                rebuilt[index] = leaf.dtype.type(piece)
            else:
                rebuilt[index] = piece.astype(leaf.dtype, copy=True)
        return tree_unflatten(treedef, rebuilt)

    return flat, unravel


__all__ = ["PyTreeDef", "is_float_leaf", "is_node", "ravel_pytree", "register_dataclass",
           "register_pytree_node", "tree_flatten", "tree_leaves", "tree_map",
           "tree_structure", "tree_unflatten"]
