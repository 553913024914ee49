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
import copy
import functools
import inspect
import linecache
import sys
import textwrap
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import MissingRuleError, SourceLocation, UnsupportedError


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

    def __init__(self, function: Callable[..., Any], bound: dict[str, Any] | None = None):
        self.globals = function.__globals__
        self.closure: dict[str, Any] = {}
        code = function.__code__
        for name, cell in zip(code.co_freevars, function.__closure__ or ()):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:        # an empty cell: the name is not bound yet
                pass
        self.closure.update(bound or {})   # parameters bound in advance: self, partial's

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


@dataclass
class ParsedFunction:
    function: Callable[..., Any]
    name: str
    node: ast.FunctionDef
    params: tuple[str, ...]
    source: SourceInfo
    scope: Scope
    siblings: dict = field(default_factory=dict)   # local functions visible to a lifted one




@dataclass(frozen=True)
class Target:
    """The Python function behind a callable, and the parameters bound before the call:
    ``self`` of a bound method (or of an object's ``__call__``), ``cls`` of a classmethod,
    the arguments a ``functools.partial`` fixes.  Bound parameters are constants of the
    generated code, like globals."""

    function: Callable[..., Any]
    bound: dict[str, Any]
    varargs: int | None = None   # a call's positional arguments packed into ``*rest``
    varkeywords: tuple[str, ...] | None = None   # a call's keywords packed into ``**options``

    @property
    def key(self) -> tuple:
        """What makes two targets generate the same code (the objects, by identity)."""
        return ("target", self.function.__qualname__, id(self.function),
                tuple((name, id(value)) for name, value in sorted(self.bound.items())),
                self.varargs, self.varkeywords)


def is_compiled_function(value: Any) -> bool:
    """A numba dispatcher (``@numba.njit``), recognised without importing numba: s2s
    differentiates its Python function (``py_func``)."""
    module = type(value).__module__ or ""
    return module.startswith("numba.") and callable(getattr(value, "py_func", None))


def resolve_target(function: Callable[..., Any]) -> Target:
    """The Python function ``function`` runs, or an s2s error saying why there is none."""
    if isinstance(function, Target):
        return function
    if is_compiled_function(function):
        function = function.py_func
    if isinstance(function, (staticmethod, classmethod)) and not callable(function) \
            or isinstance(function, classmethod):
        raise UnsupportedError(f"{function!r} is a {type(function).__name__} object taken "
                               "from a class's __dict__",
                               hint="pass it as an attribute of its class, e.g. Model.method")
    function = inspect.unwrap(function)
    if isinstance(function, functools.partial):
        inner = resolve_target(function.func)
        free = [name for name in _positional_params(inner.function) if name not in inner.bound]
        if len(function.args) > len(free):
            raise UnsupportedError(f"{function!r} binds {len(function.args)} positional "
                                   f"argument(s), but its function takes {len(free)}")
        bound = dict(inner.bound)
        bound.update(zip(free, function.args))
        parameters = inspect.signature(inner.function).parameters
        for name, value in function.keywords.items():
            if name not in parameters or name in bound:
                raise UnsupportedError(f"{function!r} binds '{name}', which is not a free "
                                       "parameter of its function")
            bound[name] = value
        return Target(inner.function, bound)
    if inspect.ismethod(function):
        inner = resolve_target(function.__func__)
        free = [name for name in _positional_params(inner.function) if name not in inner.bound]
        if not free:
            raise UnsupportedError(f"{function.__qualname__} is a method without a 'self' "
                                   "parameter")
        return Target(inner.function, {**inner.bound, free[0]: function.__self__})
    if inspect.isfunction(function):
        return Target(function, {})
    if inspect.isclass(function):
        raise UnsupportedError(f"{function.__qualname__} is a class, not a function",
                               hint=f"differentiate one of its methods, e.g. "
                                    f"{function.__qualname__}.method or instance.method")
    if not callable(function):
        raise UnsupportedError(f"{function!r} is a {type(function).__name__}, not a function")
    call = getattr(type(function), "__call__", None)
    if inspect.isfunction(call):                 # an object with a Python __call__
        return resolve_target(call.__get__(function, type(function)))
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None) \
        or repr(function)
    module = getattr(function, "__module__", None)
    where = f" (from {module})" if module and module != "builtins" else ""
    raise MissingRuleError(
        f"'{name}'{where} is implemented in C, without Python source s2s could read, and has "
        "no derivative rule",
        hint="register one with s2s.defvjp / s2s.defjvp (see s2s/rules/custom.py), or "
             "differentiate a Python function that calls NumPy operations with rules")


def _positional_params(function: Callable[..., Any]) -> list[str]:
    code = function.__code__
    return list(code.co_varnames[:code.co_argcount])


def _unreadable(target: Callable[..., Any], reason: str) -> UnsupportedError:
    filename = target.__code__.co_filename
    if filename == "<string>":
        why = "it was defined by exec() of a string or by 'python -c'"
    elif filename == "<stdin>":
        why = "it was typed in the interactive interpreter, which keeps no source"
    elif filename.startswith("<"):
        why = f"it was compiled from {filename}, which keeps no source"
    else:
        why = reason
    return UnsupportedError(
        f"cannot read the source of {target.__qualname__!r}: {why}",
        hint="define the function in a .py file or a notebook cell so that its source can be "
             "read, or differentiate it on the tape (s2s.differentiate falls back to it)")


_TREES: dict[str, tuple[tuple[str, ...], ast.Module]] = {}


def _file_tree(filename: str, lines: tuple[str, ...]) -> ast.Module | None:
    """The whole file's AST (cached while the file's text is unchanged), or None."""
    cached = _TREES.get(filename)
    if cached is not None and cached[0] == lines:
        return cached[1]
    try:
        tree = ast.parse("".join(lines), filename)
    except (SyntaxError, ValueError):        # e.g. IPython magics in a cell
        return None
    _TREES[filename] = (lines, tree)
    return tree


def _block_definition(lines: tuple[str, ...], code: Any) -> ast.FunctionDef | None:
    """The ``def`` whose code object is ``code``, parsed from its own lines only (the block
    ``inspect`` finds from its first line), at the positions the whole file's AST gives
    it: parsing a large file for one function costs tens of milliseconds.  An indented
    ``def`` is parsed under ``if 1:`` (not dedented: a string spanning lines keeps its
    text).  None when the block does not parse to that ``def`` (the whole file is read)."""
    first = code.co_firstlineno
    if not 0 < first <= len(lines):
        return None
    try:
        block = inspect.getblock(list(lines[first - 1:]))
    except Exception:                        # tokenize errors: the whole file decides
        return None
    indented = block[0][:1] in (" ", "\t")
    text = ("if 1:\n" if indented else "") + "".join(block)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    body = tree.body[0].body if indented and tree.body else tree.body
    if len(tree.body) != 1 or len(body) != 1:
        return None
    ast.increment_lineno(tree, first - 1 - (1 if indented else 0))
    found = _find_definition(tree, code)
    return found if found is body[0] else None


def _parameters_of(arguments: ast.arguments) -> tuple[str, ...]:
    return tuple(a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs)


def _code_parameters(code: Any) -> tuple[str, ...]:
    return code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def _find_definition(tree: ast.Module, code: Any) -> ast.FunctionDef | None:
    """The ``def`` whose code object is ``code`` (its first line is the first decorator's)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            if first == code.co_firstlineno:
                return node
    return None


def _spans(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)


def _find_lambda(tree: ast.Module, code: Any) -> tuple[ast.Lambda | None, int]:
    """The lambda whose code object is ``code``, and how many lambdas could be it.

    Python 3.11+: the innermost lambda whose span holds every instruction's position
    (``co_positions``).  Python 3.10: each lambda on that line compiled, and its code object
    compared with ``code``.
    """
    candidates = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)
                  and node.lineno == code.co_firstlineno
                  and _parameters_of(node.args) == _code_parameters(code)]
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), len(candidates)
    if hasattr(code, "co_positions"):
        positions = [((line, col), (end_line, end_col))
                     for line, end_line, col, end_col in code.co_positions()
                     if None not in (line, end_line, col, end_col)
                     and (line, col) < (end_line, end_col)]
        holding = [node for node in candidates
                   if all(_spans(node)[0] <= start and end <= _spans(node)[1]
                          for start, end in positions)]
        holding.sort(key=lambda node: _spans(node)[0], reverse=True)   # innermost first
        if holding:
            return holding[0], 1
        return None, len(candidates)
    matching = _compiled_matches(candidates, code)
    return (matching[0] if len(matching) == 1 else None), len(matching) or len(candidates)


def _compiled_matches(candidates: list[ast.Lambda], code: Any) -> list[ast.Lambda]:
    """The candidates whose compiled code is ``code``'s: the same bytecode, else (compiled
    by another compiler front end, e.g. pytest's assertion rewriting) the same names,
    constants and local variables.  Lambdas of equal code are the same function."""
    compiled = [(node, _compile_lambda(node, code)) for node in candidates]
    for strict in (True, False):
        matching = [node for node, candidate in compiled
                    if _same_code(candidate, code, strict)]
        if matching:
            return matching[:1] if strict else matching
    return []


def _compile_lambda(node: ast.Lambda, code: Any) -> Any:
    """``node`` compiled where ``code``'s free variables are closure cells, as they were."""
    cells = [ast.Assign([ast.Name(name, ast.Store())], ast.Constant(None))
             for name in code.co_freevars]
    outer = ast.FunctionDef("_s2s_outer", ast.arguments([], [], None, [], [], None, []),
                            cells + [ast.Return(node)], [], None)
    module = ast.fix_missing_locations(ast.Module([outer], []))
    try:
        compiled = compile(module, code.co_filename, "exec")
    except (SyntaxError, ValueError):
        return None
    outer_code = next(c for c in compiled.co_consts if inspect.iscode(c))
    return next((c for c in outer_code.co_consts if inspect.iscode(c)
                 and c.co_name == "<lambda>"), None)


def _same_code(candidate: Any, code: Any, strict: bool = True) -> bool:
    if candidate is None:
        return False

    def constants(c: Any) -> tuple:
        return tuple(k.co_names if inspect.iscode(k) else k for k in c.co_consts)

    return ((candidate.co_code == code.co_code or not strict)
            and constants(candidate) == constants(code)
            and candidate.co_names == code.co_names
            and candidate.co_varnames == code.co_varnames
            and candidate.co_firstlineno == code.co_firstlineno)


def _lambda_as_def(node: ast.Lambda) -> ast.FunctionDef:
    """``lambda params: body`` as ``def <lambda>(params): return body``."""
    definition = ast.FunctionDef("<lambda>", node.args, [ast.copy_location(ast.Return(node.body),
                                                                            node.body)], [], None)
    return ast.copy_location(definition, node)


def _fragment_definition(target: Callable[..., Any],
                         remembered: tuple[str, tuple[str, ...]] | None = None
                         ) -> tuple[ast.FunctionDef, tuple[str, ...]]:
    """A ``def`` parsed from the lines ``inspect`` returns (or from the ``remembered`` file
    text), when the whole file does not parse (located in the file all the same)."""
    try:
        if remembered is not None:
            first_line = target.__code__.co_firstlineno
            lines = inspect.getblock(list(remembered[1][first_line - 1:]))
        else:
            lines, first_line = inspect.getsourcelines(target)
    except (OSError, TypeError, IndexError) as exc:
        raise _unreadable(target, str(exc)) from None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError as exc:
        raise _unreadable(target, f"its source does not parse ({exc.msg})") from None
    ast.increment_lineno(tree, first_line - 1)
    indent = len(lines[0]) - len(lines[0].lstrip())
    for node in ast.walk(tree):
        if hasattr(node, "col_offset"):
            node.col_offset += indent
            if getattr(node, "end_col_offset", None) is not None:
                node.end_col_offset += indent
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef):
        raise _unreadable(target, "its source is not a def")
    return definition, tuple(lines)


# --- source text carried through pickling ----------------------------------------------
# cloudpickle (Dask's workers, multiprocessing) pickles a function of ``__main__``, of a
# notebook or a closure by value and names its code ``<dynamic-code>``: the process that
# loads it cannot read its source.  A pickled ``Differentiable`` carries the text of such
# functions (``carried_sources``) and registers it there (``remember_sources``), keyed by
# the code object, so that process generates the same derivative code.

_REMEMBERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # code -> (file, lines)


def _source_file(function: Callable[..., Any]) -> tuple[str, tuple[str, ...]]:
    """The file ``function`` was defined in and its lines (none if it cannot be read): the
    text carried through pickling, if any, else the file's, read through ``linecache``."""
    code = function.__code__
    remembered = _REMEMBERED.get(code)
    if remembered is not None:
        return remembered
    try:
        filename = inspect.getsourcefile(function) or code.co_filename
    except TypeError:
        filename = code.co_filename
    return filename, tuple(linecache.getlines(filename, function.__globals__))


def _readable_lines(function: Callable[..., Any]) -> tuple[str, tuple[str, ...]] | None:
    filename, lines = _source_file(function)
    return (filename, lines) if lines else None


def _found_by_reference(function: Callable[..., Any]) -> bool:
    """Pickled by reference (module and qualified name), as pickle and cloudpickle do, so
    the loading process imports it with its source file."""
    name = getattr(function, "__module__", None)
    module = sys.modules.get(name) if name and name != "__main__" else None
    if module is None or "<locals>" in function.__qualname__:
        return False
    found: Any = module
    for part in function.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is function


def _reached_functions(value: Any) -> list[Callable[..., Any]]:
    """The Python functions behind ``value`` (a function, partial, method, Differentiable)."""
    value = getattr(value, "__s2s_function__", value)
    if isinstance(value, functools.partial):
        return _reached_functions(value.func)
    if inspect.ismethod(value):
        return _reached_functions(value.__func__)
    return [value] if inspect.isfunction(value) else []


def _names_read(code: Any) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if inspect.iscode(constant):             # a local function or lambda
            names |= _names_read(constant)
    return names


def carried_sources(function: Callable[..., Any], limit: int = 200) -> dict[str, Any]:
    """The source text of ``function`` and of the functions it calls (through its globals
    and closure, transitively) that pickle by value, for :func:`remember_sources`."""
    try:
        pending = _reached_functions(resolve_target(function).function)
    except UnsupportedError:                     # nothing s2s could read: nothing to carry
        return {}
    seen: set[int] = set()
    entries: list[tuple[Callable[..., Any], str]] = []
    files: dict[str, tuple[str, ...]] = {}
    while pending and len(seen) < limit:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if not _found_by_reference(current):
            readable = _readable_lines(current)
            if readable is not None:
                entries.append((current, readable[0]))
                files[readable[0]] = readable[1]
        elif current is not function:
            continue                             # its module's own callees read their source
        cells = [cell.cell_contents for cell in current.__closure__ or ()
                 if _cell_is_set(cell)]
        reads = [current.__globals__[name] for name in sorted(_names_read(current.__code__))
                 if name in current.__globals__]
        for value in cells + reads:
            pending.extend(_reached_functions(value))
    return {"functions": tuple(entries), "files": files}


def _cell_is_set(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def remember_sources(carried: dict[str, Any]) -> None:
    """Register the source text :func:`carried_sources` gathered in another process."""
    files = carried.get("files", {})
    for function, filename in carried.get("functions", ()):
        if inspect.isfunction(function) and filename in files:
            _REMEMBERED[function.__code__] = (filename, tuple(files[filename]))


def parse_function(function: Callable[..., Any]) -> ParsedFunction:
    """Parse ``function``'s source into a located ``ast.FunctionDef``.

    The definition is found in the AST of the whole file, from the code object: a ``def``
    by its first line, a lambda by the positions of its instructions, so a lambda inside a
    dict, a call spanning lines or beside other lambdas is the right one.
    """
    resolved = resolve_target(function)
    target, bound = resolved.function, resolved.bound
    code = target.__code__
    remembered = _REMEMBERED.get(code)          # carried through pickling
    filename, file_lines = _source_file(target)
    if target.__name__ == "<lambda>":
        tree = _file_tree(filename, file_lines) if file_lines else None
        if tree is None:
            raise _unreadable(target, "its file cannot be read or parsed")
        node, count = _find_lambda(tree, code)
        if node is None:
            raise UnsupportedError(
                f"cannot tell which lambda on {filename}:{code.co_firstlineno} is being "
                f"differentiated ({count} candidates)", hint="define the function with def")
        definition = _lambda_as_def(node)
    else:
        found = _block_definition(file_lines, code) if file_lines else None
        if found is None:
            tree = _file_tree(filename, file_lines) if file_lines else None
            found = _find_definition(tree, code) if tree is not None else None
        if found is None:
            found, lines = _fragment_definition(target, remembered)
            file_lines = file_lines or lines
        if isinstance(found, ast.AsyncFunctionDef):
            raise _unreadable(target, "it is an async function")
        definition = found
    definition = copy.deepcopy(definition)
    first_line = definition.decorator_list[0].lineno if definition.decorator_list \
        else definition.lineno                   # as inspect.getsourcelines counts
    source = SourceInfo(filename, file_lines, first_line)
    definition.decorator_list = []
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        definition.body = body[1:] or [ast.Pass()]
    arguments = definition.args
    if resolved.varargs is not None and arguments.vararg is not None:
        _expand_varargs(definition, resolved.varargs)
    if resolved.varkeywords is not None and arguments.kwarg is not None:
        _expand_varkeywords(definition, resolved.varkeywords)
    for special in (arguments.vararg, arguments.kwarg):
        if special is not None and special.arg not in bound:
            stars = "*" if special is arguments.vararg else "**"
            raise source.unsupported(special, f"'{stars}{special.arg}' parameters are not "
                                     "supported in generated code",
                                     hint="list the parameters explicitly")
    if bound:
        _drop_bound(arguments, bound)
    params = _parameters_of(arguments)
    return ParsedFunction(target, definition.name, definition, params, source,
                          Scope(target, bound))


def _expand_varargs(definition: ast.FunctionDef, count: int) -> None:
    """``def f(x, *rest)`` called with two extra arguments -> ``def f(x, rest_0, rest_1)``
    whose body starts with ``rest = (rest_0, rest_1)``."""
    arguments = definition.args
    vararg = arguments.vararg
    taken = {node.id for node in ast.walk(definition) if isinstance(node, ast.Name)} \
        | {a.arg for a in ast.walk(arguments) if isinstance(a, ast.arg)}
    names = []
    for index in range(count):
        name = f"{vararg.arg}_{index}"
        while name in taken:
            name += "_"
        names.append(name)
    if count:
        arguments.defaults = []       # every positional parameter was passed before them
    arguments.args = arguments.args + [ast.copy_location(ast.arg(name), vararg)
                                       for name in names]
    arguments.vararg = None
    pack = ast.Assign([ast.Name(vararg.arg, ast.Store())],
                      ast.Tuple([ast.Name(name, ast.Load()) for name in names], ast.Load()))
    first = definition.body[0]
    definition.body.insert(0, ast.fix_missing_locations(ast.copy_location(pack, first)))


def _expand_varkeywords(definition: ast.FunctionDef, keys: tuple[str, ...]) -> None:
    """``def f(x, **options)`` called with ``w=`` and ``scale=`` -> ``def f(x, *,
    options_scale, options_w)`` whose body starts with ``options = {'scale': options_scale,
    'w': options_w}``."""
    arguments = definition.args
    kwarg = arguments.kwarg
    taken = {node.id for node in ast.walk(definition) if isinstance(node, ast.Name)} \
        | {a.arg for a in ast.walk(arguments) if isinstance(a, ast.arg)}
    names = []
    for key in keys:
        name = f"{kwarg.arg}_{key}"
        while name in taken:
            name += "_"
        names.append(name)
    arguments.kwonlyargs = arguments.kwonlyargs + [ast.copy_location(ast.arg(name), kwarg)
                                                   for name in names]
    arguments.kw_defaults = arguments.kw_defaults + [None] * len(names)
    arguments.kwarg = None
    pack = ast.Assign([ast.Name(kwarg.arg, ast.Store())],
                      ast.Dict([ast.Constant(key) for key in keys],
                               [ast.Name(name, ast.Load()) for name in names]))
    first = definition.body[0]
    definition.body.insert(0, ast.fix_missing_locations(ast.copy_location(pack, first)))


def _drop_bound(arguments: ast.arguments, bound: dict[str, Any]) -> None:
    """Remove the bound parameters (and their defaults) from a ``def``'s arguments
    (``*rest`` and ``**options`` too, when bound to constants)."""
    if arguments.vararg is not None and arguments.vararg.arg in bound:
        arguments.vararg = None
    if arguments.kwarg is not None and arguments.kwarg.arg in bound:
        arguments.kwarg = None
    positional = arguments.posonlyargs + arguments.args
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    kept = [(a, d) for a, d in zip(positional, defaults) if a.arg not in bound]
    only = {id(a) for a in arguments.posonlyargs}
    arguments.posonlyargs = [a for a, _ in kept if id(a) in only]
    arguments.args = [a for a, _ in kept if id(a) not in only]
    kept_defaults = [d for _, d in kept]
    while kept_defaults and kept_defaults[0] is None:
        kept_defaults.pop(0)
    if None in kept_defaults:                 # a required parameter after a defaulted one
        kept_defaults = []
    arguments.defaults = kept_defaults
    keyword = [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)
               if a.arg not in bound]
    arguments.kwonlyargs = [a for a, _ in keyword]
    arguments.kw_defaults = [d for _, d in keyword]
