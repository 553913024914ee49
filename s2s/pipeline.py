"""The whole flow, top to bottom, in one short function.

``derive(function, wrt)`` runs parse -> normalise -> analyse -> reverse -> optimise ->
emit and keeps every stage's output in a :class:`Derivation`, so each can be inspected
(``s2s.show(f, stage="normal")``) and tested on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .analysis import Analysis, analyze
from .emit import GeneratedModule, build_vjp_module, compile_module, render
from .errors import UnsupportedError
from .normalize import NormalForm, normalize
from .optimize import optimize
from .parse import MISSING, ParsedFunction, parse_function
from .reverse import ReverseCode, generate_reverse, resolve_markers

import numpy as np


@dataclass(frozen=True)
class Derivation:
    parsed: ParsedFunction
    normal: NormalForm
    analysis: Analysis
    reverse: ReverseCode
    optimized: ReverseCode
    module: GeneratedModule

    @property
    def source(self) -> str:
        return self.module.source


def derive(function: Callable[..., Any], wrt: tuple[str, ...], single: bool) -> Derivation:
    """Generate the reverse-mode derivative of ``function`` with respect to ``wrt``."""
    parsed = parse_function(function)
    _check_reserved_names(parsed)
    normal = normalize(parsed)
    analysis = analyze(normal, wrt)
    reverse = generate_reverse(analysis, normal.namer)
    optimized = resolve_markers(optimize(reverse), set(parsed.params))
    pullback_name = normal.namer.unique("pullback")
    name, module_ast = build_vjp_module(parsed, optimized, pullback_name, single)
    module = compile_module(name, render(module_ast), parsed)
    return Derivation(parsed, normal, analysis, reverse, optimized, module)


def _check_reserved_names(parsed: ParsedFunction) -> None:
    bound = parsed.scope.resolve("np")
    if bound is not MISSING and bound is not np:
        raise UnsupportedError(
            f"in {parsed.name}, the name 'np' is bound to {bound!r}, but s2s's generated code "
            "uses 'np' for NumPy", hint="import numpy as np in the function's module")
