"""Stage 6 (emit).

Input: optimised :class:`~s2s.reverse.ReverseCode` and the parsed function.
Output: a :class:`GeneratedModule`: the derivative's Python source (deterministic:
explicit imports, counter-based names, ``# grad of line N`` comments), and the compiled
function, registered in :mod:`linecache` so tracebacks, ``inspect`` and pdb show the
generated lines.

The generated code has the shape::

    def vjp_f(x):
        # forward sweep
        ...
        def pullback(result_b):
            # reverse sweep
            ...
            return x_b
        return result, pullback
"""
from __future__ import annotations

import ast
import copy
import linecache
import re
import types
from dataclasses import dataclass
from typing import Any, Callable

from . import runtime
from .parse import ParsedFunction
from .reverse import COMMENT_PREFIX, ReverseCode, comment

_COMMENT_LINE = re.compile(r"^(\s*)('|\"\"\"|\")" + re.escape(COMMENT_PREFIX) + r".*\2$")


@dataclass(frozen=True)
class GeneratedModule:
    name: str                       # "vjp_f"
    source: str
    filename: str                   # the linecache key
    function: Callable[..., Any]


class _SignedConstants(ast.NodeTransformer):
    """A negative number as ``-(number)``: ``ast.unparse`` writes the constant -1 raised to
    ``n`` as ``-1 ** n``, which Python reads as ``-(1 ** n)``; a unary minus gets its
    parentheses (``(-1) ** n``).  Folding ``(-1) ** n`` in a rule made the constant."""

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return node


def render(module: ast.Module) -> str:
    """``ast.unparse`` plus comments: marker string statements become ``# ...`` lines."""
    if any(isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
           and not isinstance(node.value, bool) and node.value < 0 for node in ast.walk(module)):
        module = _SignedConstants().visit(copy.deepcopy(module))
    text = ast.unparse(ast.fix_missing_locations(module))
    lines = []
    for line in text.splitlines():
        match = _COMMENT_LINE.match(line)
        if match:
            literal = ast.literal_eval(line.strip())
            line = f"{match.group(1)}# {literal[len(COMMENT_PREFIX):]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _imports(helpers: set[str]) -> list[ast.stmt]:
    """``import numpy as np``, the modules rules read (``from scipy import special``, published
    in :mod:`s2s.runtime` under that name), then the runtime helpers."""
    statements: list[ast.stmt] = [ast.Import([ast.alias("numpy", "np")])]
    modules = sorted(name for name in helpers
                     if isinstance(getattr(runtime, name, None), types.ModuleType))
    for name in modules:
        package, _, last = getattr(runtime, name).__name__.rpartition(".")
        statements.append(ast.ImportFrom(package, [ast.alias(last, None if last == name
                                                             else name)], 0))
    functions = sorted(set(helpers) - set(modules))
    if functions:
        statements.append(ast.ImportFrom("s2s.runtime",
                                         [ast.alias(name) for name in functions], 0))
    return statements


def build_vjp_function(parsed: ParsedFunction, code: ReverseCode, pullback_name: str,
                       single: bool, name: str) -> ast.FunctionDef:
    """``def vjp_f(params): <forward sweep>; def pullback(...): <reverse>; return y, pullback``."""
    parameters = ast.arguments([], [ast.arg(p) for p in parsed.params], None, [], [], None, [])
    if single:
        returned: ast.expr = code.gradients[0]
    else:
        returned = ast.Tuple(list(code.gradients), ast.Load())
    captured = [ast.arg(name) for name in code.captured]
    defaults = [ast.Name(name, ast.Load()) for name in code.captured]
    pullback = ast.FunctionDef(
        pullback_name,
        ast.arguments([], [ast.arg(code.seed)] + captured, None, [], [], None, defaults),
        [comment("reverse sweep"), *code.reverse, *code.epilogue, ast.Return(returned)],
        [], None)
    body = [comment("forward sweep"), *code.forward, pullback,
            ast.Return(ast.Tuple([ast.Name(code.result, ast.Load()),
                                  ast.Name(pullback_name, ast.Load())], ast.Load()))]
    return ast.FunctionDef(name, parameters, body, [], None)


def build_grad_function(parsed: ParsedFunction, code: ReverseCode, single: bool,
                        name: str) -> ast.FunctionDef:
    """``def grad_f(params, seed=1.0)``: both sweeps in one closure-free function.

    The form that can itself be differentiated (forward-over-reverse for Hessians).
    """
    parameters = ast.arguments([], [ast.arg(p) for p in parsed.params] + [ast.arg(code.seed)],
                               None, [], [], None, [ast.Constant(1.0)])
    returned = code.gradients[0] if single else ast.Tuple(list(code.gradients), ast.Load())
    forward = [comment("forward sweep"), *code.forward] if code.forward else []
    body = [*forward, comment("reverse sweep"), *code.reverse, *code.epilogue,
            ast.Return(returned)]
    return ast.FunctionDef(name, parameters, body, [], None)


def build_jvp_function(parsed: ParsedFunction, code, name: str) -> ast.FunctionDef:
    """``def jvp_f(params, tangents): <primal and tangent statements>; return y, y_d``."""
    parameters = ast.arguments([], [ast.arg(p) for p in parsed.params]
                               + [ast.arg(t) for t in code.tangent_params], None, [], [], None, [])
    body = [*code.body, ast.Return(ast.Tuple([ast.Name(code.result, ast.Load()), code.tangent],
                                             ast.Load()))]
    return ast.FunctionDef(name, parameters, body, [], None)


def build_module(parsed: ParsedFunction, functions: list[ast.stmt],
                 helpers: set[str], mode: str = "reverse",
                 shapes: tuple | None = None) -> ast.Module:
    """The generated module: header, imports, then the functions (callees first).

    ``shapes``: the argument shapes the code is specialized to, named in the header."""
    filename = parsed.source.filename
    if filename.startswith("<s2s: ") and " from " in filename:   # code s2s generated before
        location = "generated from " + filename[:-1].split(" from ", 1)[1]
    else:
        location = f"{filename}:{parsed.source.first_line}"
    header = [comment(f"Generated by s2s: {mode} mode of {parsed.name} ({_short(location)}).")]
    if shapes is not None:
        described = ", ".join(f"{name}: {'?' if shape is None else shape}"
                              for name, shape in zip(parsed.params, shapes))
        header.append(comment(f"Specialized to the argument shapes {described}."))
    return ast.Module([*header, *_imports(helpers), *functions], [])


def python_name(name: str) -> str:
    """``<lambda>`` -> ``lambda``: a name that can stand in generated code."""
    return "".join(c if c.isalnum() or c == "_" else "" for c in name) or "function"


def _short(location: str) -> str:
    """The file name without its directory, so generated text does not depend on the host."""
    return location.replace("\\", "/").rsplit("/", 1)[-1]


def compile_module(name: str, source: str, parsed: ParsedFunction,
                   names: dict[str, Any], shapes: tuple | None = None) -> GeneratedModule:
    """Compile the generated source; ``names`` are the globals and closure values it reads.

    Each variant gets its own file name (tracebacks and ``inspect`` read its lines), so a
    specialization names its shapes: ``<s2s: vjp_f [(3,), ()] from model.py:12>``."""
    variant = "" if shapes is None else " [" + ", ".join(
        "?" if shape is None else str(shape) for shape in shapes) + "]"
    filename = (f"<s2s: {name}{variant} from {_short(parsed.source.filename)}:"
                f"{parsed.source.first_line}>")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__builtins__": __builtins__}
    namespace.update(names)
    namespace["__name__"] = f"s2s.generated.{python_name(parsed.name)}"
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return GeneratedModule(name, source, filename, namespace[name])


RUNTIME = runtime
