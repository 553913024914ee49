"""Deterministic names for everything s2s generates.

Adjoints are ``x_b`` (bar), tangents ``x_d`` (dot), temporaries ``_t0, _t1, ...``.  Every
name comes from a counter or from a user name, never from ``id()`` or a uuid, so the same
function always yields byte-identical code.  A generated name never shadows a user name.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable


def names_in(node: ast.AST) -> set[str]:
    """Every identifier a tree mentions (loads, stores, parameters)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.arg):
            found.add(child.arg)
        elif isinstance(child, (ast.FunctionDef, ast.Lambda)) and hasattr(child, "name"):
            found.add(child.name)
    return found


class Namer:
    """Hands out fresh names that collide with nothing in ``taken``."""

    def __init__(self, taken: Iterable[str] = ()):
        self.taken = set(taken)
        self.counters: dict[str, int] = {}

    def reserve(self, name: str) -> str:
        self.taken.add(name)
        return name

    def fresh(self, stem: str) -> str:
        """``stem`` followed by the next free number: ``_t0``, ``_t1``..."""
        count = self.counters.get(stem, 0)
        while f"{stem}{count}" in self.taken:
            count += 1
        self.counters[stem] = count + 1
        return self.reserve(f"{stem}{count}")

    def unique(self, name: str) -> str:
        """``name`` itself if free, else ``name_1``, ``name_2``..."""
        if name not in self.taken:
            return self.reserve(name)
        index = 1
        while f"{name}_{index}" in self.taken:
            index += 1
        return self.reserve(f"{name}_{index}")


def adjoint_name(name: str) -> str:
    return f"{name}_b"


def tangent_name(name: str) -> str:
    return f"{name}_d"
