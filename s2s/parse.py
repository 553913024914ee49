"""Stage 1 (parse).

Input: a Python function object.
Output: a :class:`ParsedFunction` holding the function's ``ast.FunctionDef`` (docstring
removed, decorators dropped, line numbers those of the user's file), its parameter names,
and a :class:`Scope` that resolves every free name the body reads (module globals,
closure cells, builtins) to the object it denotes at generation time.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import SourceLocation, UnsupportedError


@dataclass(frozen=True)
class SourceInfo:
    """The user's file and the text of the function, for error messages and comments."""

    filename: str
    lines: tuple[str, ...]   # the whole file's lines (or the function's, if the file is gone)
    first_line: int          # 1-based line of the ``def`` in that file

    def line(self, lineno: int) -> str:
        index = lineno - 1 if len(self.lines) >= lineno else lineno - self.first_line
        if 0 <= index < len(self.lines):
            return self.lines[index].rstrip("\n")
        return ""

    def location(self, node: ast.AST) -> SourceLocation:
        lineno = getattr(node, "lineno", self.first_line)
        col = getattr(node, "col_offset", 0)
        text = self.line(lineno)
        stripped = text.lstrip()
        return SourceLocation(self.filename, lineno, max(col - (len(text) - len(stripped)), 0),
                              stripped)

    def unsupported(self, node: ast.AST, message: str, hint: str = "",
                    error: type[UnsupportedError] = UnsupportedError) -> UnsupportedError:
        return error(message, self.location(node), hint)


class Scope:
    """Resolves a free name of the user's function as Python would at call time."""

    def __init__(self, function: Callable[..., Any]):
        self.globals = function.__globals__
        self.closure: dict[str, Any] = {}
        code = function.__code__
        for name, cell in zip(code.co_freevars, function.__closure__ or ()):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:        # an empty cell: the name is not bound yet
                pass

    _MISSING = object()

    def resolve(self, name: str) -> Any:
        for namespace in (self.closure, self.globals, vars(builtins)):
            value = namespace.get(name, self._MISSING)
            if value is not self._MISSING:
                return value
        return self._MISSING

    def is_bound(self, name: str) -> bool:
        return self.resolve(name) is not self._MISSING

    def resolve_path(self, node: ast.expr) -> Any:
        """The object a dotted name such as ``np.linalg.norm`` denotes, or ``MISSING``."""
        if isinstance(node, ast.Name):
            return self.resolve(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve_path(node.value)
            if base is self._MISSING:
                return base
            return getattr(base, node.attr, self._MISSING)
        return self._MISSING


MISSING = Scope._MISSING


def _lambda_as_def(tree: ast.AST, target: Callable[..., Any], filename: str,
                   first_line: int) -> ast.FunctionDef:
    """The one lambda on the lines ``inspect`` returned, as ``def <lambda>(...): return body``."""
    code = target.__code__
    parameters = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    candidates = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)
                  and tuple(a.arg for a in node.args.posonlyargs + node.args.args
                            + node.args.kwonlyargs) == parameters]
    if len(candidates) != 1:
        raise UnsupportedError(
            f"cannot tell which lambda on {filename}:{first_line} is being differentiated "
            f"({len(candidates)} candidates)", hint="define the function with def")
    node = candidates[0]
    definition = ast.FunctionDef("<lambda>", node.args, [ast.copy_location(ast.Return(node.body),
                                                                            node.body)], [], None)
    return ast.copy_location(definition, node)


@dataclass
class ParsedFunction:
    function: Callable[..., Any]
    name: str
    node: ast.FunctionDef
    params: tuple[str, ...]
    source: SourceInfo
    scope: Scope
    siblings: dict = field(default_factory=dict)   # local functions visible to a lifted one


def parse_function(function: Callable[..., Any]) -> ParsedFunction:
    """Parse ``function``'s source into a located ``ast.FunctionDef``."""
    target = inspect.unwrap(function)
    try:
        lines, first_line = inspect.getsourcelines(target)
        filename = inspect.getsourcefile(target) or "<unknown>"
    except (OSError, TypeError) as exc:
        raise UnsupportedError(
            f"cannot read the source of {getattr(function, '__qualname__', function)!r} ({exc})",
            hint="define the function in a file (or a notebook cell) so that inspect can read "
                 "its source",
        ) from None
    text = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(text)
    except SyntaxError:                      # a lambda inside a larger, multi-line expression
        tree = ast.parse("(\n" + text + "\n)")
        first_line -= 1
    indent = len(lines[0]) - len(lines[0].lstrip())
    ast.increment_lineno(tree, first_line - 1)
    for node in ast.walk(tree):
        if hasattr(node, "col_offset"):
            node.col_offset += indent
            if getattr(node, "end_col_offset", None) is not None:
                node.end_col_offset += indent
    definition = tree.body[0]
    if target.__name__ == "<lambda>":
        definition = _lambda_as_def(tree, target, filename, first_line)
    if not isinstance(definition, ast.FunctionDef):
        raise UnsupportedError(
            f"s2s differentiates functions defined with 'def', not {type(definition).__name__}",
            hint="wrap the expression in a def")
    try:
        import linecache
        file_lines = tuple(linecache.getlines(filename)) or tuple(lines)
    except Exception:  # pragma: no cover - linecache never raises in practice
        file_lines = tuple(lines)
    source = SourceInfo(filename, file_lines, first_line)
    definition.decorator_list = []
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        definition.body = body[1:] or [ast.Pass()]
    arguments = definition.args
    for special in (arguments.vararg, arguments.kwarg):
        if special is not None:
            raise source.unsupported(special, f"'*{special.arg}' parameters are not supported",
                                     hint="list the parameters explicitly")
    params = tuple(a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs)
    return ParsedFunction(target, definition.name, definition, params, source, Scope(target))
