"""Export generated derivative code as a standalone module that imports NumPy only.

``s2s.export(f, "grad_f.py")`` (or ``python -m s2s export module:f -o grad_f.py``) writes
the code ``f.source`` shows, made self-contained:

* the ``s2s.runtime`` helpers the code calls (``unbroadcast``, ``index_adjoint``, ...) are
  copied in with :func:`inspect.getsource`, only those referenced, transitively;
* the globals the code reads are written out: modules as imports (NumPy and the standard
  library only), numbers, strings and arrays as literals (their values at export time),
  plain Python functions (called on values that carry no gradient) as their source;
* ``s2s.stop_gradient(x)`` becomes a call of the inlined ``stop_gradient``;
* convenience wrappers ``grad_<name>`` and ``value_and_grad_<name>`` take the original
  function's parameters (defaults included), and convert and check arguments the way
  ``@s2s.differentiate`` does.

The text is deterministic: the same function, ``wrt`` and ``mode`` give byte-identical
files (no dates, no absolute paths).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import math
import re
import symtable
import sys
import textwrap
import types
from typing import Any, Callable

import numpy as np

from . import runtime
from .errors import S2SError
from .version import __version__

__all__ = ["ExportError", "export", "export_source"]

_MISSING = object()


class ExportError(S2SError):
    """The derivative code reads something that cannot be written into a standalone module."""


# --- support code copied into every exported module (NumPy only) ---------------------------

def _s2s_is_tree(value):
    """A pytree of parameters (dict, namedtuple, or a list or tuple holding an array or a
    container) rather than numbers read as one array."""
    if isinstance(value, dict) or isinstance(value, tuple) and hasattr(value, "_fields"):
        return True
    return isinstance(value, (list, tuple)) and any(
        isinstance(item, np.ndarray) or _s2s_is_tree(item) for item in value)


def _s2s_leaves(tree):
    """The leaves of a pytree, depth first (dicts in their own key order)."""
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in _s2s_leaves(item)]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _s2s_leaves(item)]
    return [tree]


def _s2s_rebuild(tree, leaves):
    """``tree`` with its leaves replaced, in :func:`_s2s_leaves` order, from ``leaves``."""
    if isinstance(tree, dict):
        return {key: _s2s_rebuild(item, leaves) for key, item in tree.items()}
    if isinstance(tree, (list, tuple)):
        items = [_s2s_rebuild(item, leaves) for item in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    return next(leaves)


def _s2s_is_float(leaf):
    return isinstance(leaf, float) or isinstance(leaf, (np.ndarray, np.generic)) \
        and leaf.dtype.kind == "f"


def _s2s_is_other_array(value):
    """An array of another library NumPy's functions dispatch to (Dask, CuPy)."""
    kind = type(value)
    return not isinstance(value, (np.ndarray, np.generic)) \
        and hasattr(kind, "__array_function__") and hasattr(value, "dtype")


def _s2s_argument(value, name):
    """A differentiated argument as a Python float or a float array (ints are promoted);
    a pytree of parameters as it is (its float leaves are differentiated)."""
    if _s2s_is_tree(value):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"argument {name!r} is a bool; differentiate with respect to floats")
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
        if value.dtype.kind in "iu":
            value = value.astype(np.float64)
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f":
        return value
    if _s2s_is_other_array(value) and np.dtype(value.dtype).kind == "f":
        return value                            # a Dask or CuPy array: NumPy dispatches
    raise TypeError(f"argument {name!r} must be a float or a float array, not "
                    f"{getattr(value, 'dtype', type(value).__name__)} (try .astype(float))")


def _s2s_gradient(gradient, like):
    """A gradient with the shape and float dtype of its argument ``like``; for a pytree,
    a tree of the same structure (None for leaves that are not floats).  A real argument's
    gradient is the real part of the cotangent complex intermediates may leave on it."""
    if _s2s_is_tree(like) or isinstance(like, (dict, list, tuple)):
        if not isinstance(gradient, (dict, list, tuple)) and gradient is not None \
                and np.ndim(gradient) == 0 and not np.any(gradient):
            gradient = None                     # a zero for the whole tree: nothing flowed
        if isinstance(like, dict):
            return {key: _s2s_gradient(None if gradient is None else gradient.get(key), item)
                    for key, item in like.items()}
        if gradient is None:
            parts = [None] * len(like)
        elif isinstance(gradient, (list, tuple, np.ndarray)) and len(gradient) == len(like):
            parts = list(gradient)
        else:
            raise ValueError(f"internal error: a gradient {type(gradient).__name__} for a "
                             f"{type(like).__name__} argument")
        items = [_s2s_gradient(part, item) for part, item in zip(parts, like)]
        return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)
    if _s2s_is_other_array(like) or _s2s_is_other_array(gradient):
        if gradient is None or np.shape(gradient) != np.shape(like):
            gradient = np.zeros_like(like) + (0.0 if gradient is None else gradient)
        gradient = np.real(gradient)
        return gradient if gradient.dtype == like.dtype else gradient.astype(like.dtype)
    if not _s2s_is_float(like):
        return None
    if gradient is None:
        gradient = np.zeros(np.shape(like))
    gradient = np.real(gradient)
    if isinstance(like, float):
        return float(gradient)
    if np.ndim(gradient) == 0 and np.ndim(like) != 0:
        gradient = np.broadcast_to(gradient, np.shape(like))
    if np.shape(gradient) != np.shape(like):
        raise ValueError(f"internal error: a gradient of shape {np.shape(gradient)} for an "
                         f"argument of shape {np.shape(like)}")
    if isinstance(like, np.generic):
        return like.dtype.type(gradient)
    return np.array(gradient, dtype=like.dtype)


def _s2s_scalar(value, name):
    """Refuse a non-scalar output: a gradient needs a scalar function."""
    if isinstance(value, (bool, tuple, list)) or np.ndim(value) != 0:
        raise ValueError(f"{name} returns a value of shape {np.shape(value)}, and a gradient "
                         "needs a scalar output; reduce it to a scalar, e.g. with .sum()")
    if np.iscomplexobj(value):
        raise ValueError(f"{name} returns a complex value, and a gradient needs a real "
                         "output; take np.real(...) or np.abs(...) ** 2 of it")
    return value


def _s2s_reverse_gradient(vjp, arguments, positions, single, name):
    """``(value, gradient)`` from one call of the generated ``vjp`` and its pullback."""
    value, pullback = vjp(*arguments)
    _s2s_scalar(value, name)
    gradients = pullback(1.0)
    if single:
        return value, _s2s_gradient(gradients, arguments[positions[0]])
    return value, tuple(_s2s_gradient(g, arguments[p]) for g, p in zip(gradients, positions))


def _s2s_zero_tangent(leaf):
    """The zero tangent of a leaf: zeros for numbers (integers too, which code may compute
    with), None for anything else."""
    if isinstance(leaf, float):
        return 0.0
    if isinstance(leaf, (int, np.integer, np.bool_)) or isinstance(leaf, np.ndarray) \
            and leaf.dtype.kind in "biuf":
        return np.zeros(np.shape(leaf), dtype=leaf.dtype if _s2s_is_float(leaf)
                        else np.float64) if np.ndim(leaf) else 0.0
    return None


def _s2s_forward_gradient(jvp, arguments, positions, single, name):
    """``(value, gradient)`` from the generated ``jvp``, one pass per input element (per
    element of each float leaf, for a pytree argument)."""
    likes = [arguments[p] for p in positions]
    leaves = [_s2s_leaves(x) for x in likes]
    zeros = [_s2s_rebuild(x, iter([_s2s_zero_tangent(leaf) for leaf in x_leaves]))
             for x, x_leaves in zip(likes, leaves)]
    value = None
    gradients = []
    for k, (x, x_leaves) in enumerate(zip(likes, leaves)):
        leaf_gradients = []
        for j, leaf in enumerate(x_leaves):
            if not _s2s_is_float(leaf):
                leaf_gradients.append(None)
                continue
            gradient = np.zeros(np.shape(leaf), dtype=np.float64)
            for index in np.ndindex(*np.shape(leaf)):
                unit = 1.0 if isinstance(leaf, float) else np.zeros(np.shape(leaf), leaf.dtype)
                if not isinstance(leaf, float):
                    unit[index] = 1.0
                tangent_leaves = [_s2s_zero_tangent(other) for other in x_leaves]
                tangent_leaves[j] = unit
                tangents = list(zeros)
                tangents[k] = _s2s_rebuild(x, iter(tangent_leaves))
                value, tangent = jvp(*arguments, *tangents)
                _s2s_scalar(value, name)
                gradient[index] = tangent
            leaf_gradients.append(gradient if np.ndim(leaf) else gradient[()])
        if value is None:                     # an argument with no elements
            value = _s2s_scalar(jvp(*arguments, *zeros)[0], name)
        gradients.append(_s2s_gradient(_s2s_rebuild(x, iter(leaf_gradients)), x)
                         if _s2s_is_tree(x) else _s2s_gradient(leaf_gradients[0], x))
    return value, gradients[0] if single else tuple(gradients)


_TREES = (_s2s_is_tree, _s2s_leaves, _s2s_rebuild, _s2s_is_float)
_SUPPORT = {"reverse": _TREES + (_s2s_is_other_array, _s2s_argument, _s2s_gradient,
                                 _s2s_scalar, _s2s_reverse_gradient),
            "forward": _TREES + (_s2s_is_other_array, _s2s_argument, _s2s_gradient, _s2s_scalar,
                                 _s2s_zero_tangent, _s2s_forward_gradient)}


# --- values as source text ---------------------------------------------------------------

def _float_text(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    return f"float({repr(value)!r})"              # float('inf'), float('-inf'), float('nan')


def _literal(value: Any) -> str | None:
    """Source text that evaluates to ``value`` (with ``np`` bound), or None."""
    if isinstance(value, np.generic):
        if value.dtype.kind in "biufc":
            return f"np.{value.dtype.name}({_literal(value.item())})"
        return None
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return repr(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, complex):
        return f"complex({_float_text(value.real)}, {_float_text(value.imag)})"
    if isinstance(value, (tuple, list)):
        items = [_literal(item) for item in value]
        if any(item is None for item in items):
            return None
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        pairs = [(_literal(k), _literal(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if isinstance(value, np.dtype) and value.kind in "biufc":
        return f"np.dtype({value.name!r})"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc" and value.dtype.isnative:
        data = _literal(value.tolist())
        if data is None:
            return None
        text = f"np.array({data}, dtype=np.{value.dtype.name})"
        if value.size == 0 and value.ndim > 1:
            text += f".reshape({value.shape!r})"
        return text
    return None


# --- which global names a piece of code reads --------------------------------------------

def _free_names(text: str) -> list[str]:
    """The global names ``text`` (a module's source) reads and does not define itself."""
    top = symtable.symtable(text, "<s2s export>", "exec")
    defined = {s.get_name() for s in top.get_symbols()
               if s.is_assigned() or s.is_imported() or s.is_namespace()}
    names = {s.get_name() for s in top.get_symbols() if s.is_referenced()}

    def walk(table: symtable.SymbolTable) -> None:
        for child in table.get_children():
            for symbol in child.get_symbols():
                if symbol.is_global() and (symbol.is_referenced() or symbol.is_namespace()):
                    names.add(symbol.get_name())
                elif child.get_type() == "class" and symbol.is_referenced() \
                        and not symbol.is_assigned() and not symbol.is_free():
                    names.add(symbol.get_name())
            walk(child)
    walk(top)
    return sorted(names - defined)


def _replace_spans(text: str, spans: list[tuple[int, int, int, str]]) -> str:
    """Replace (line, start byte, end byte, new text) spans, positions as ``ast`` gives them."""
    lines = text.splitlines(keepends=True)
    for line, start, end, new in sorted(spans, reverse=True):
        raw = lines[line - 1].encode("utf-8")
        lines[line - 1] = (raw[:start] + new.encode("utf-8") + raw[end:]).decode("utf-8")
    return "".join(lines)


def _is_s2s_module(value: Any) -> bool:
    return isinstance(value, types.ModuleType) and (value.__name__ == "s2s"
                                                    or value.__name__.startswith("s2s."))


def _is_stdlib(module_name: str) -> bool:
    top = module_name.split(".")[0]
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return top in names
    return top in sys.builtin_module_names or top in {"math", "cmath", "functools",
                                                      "itertools", "operator", "random"}


def _resolver(namespace: dict[str, Any]) -> Callable[[str], Any]:
    def resolve(name: str) -> Any:
        if name in namespace:
            return namespace[name]
        return getattr(builtins, name, _MISSING)
    return resolve


class _Builder:
    """Collects what an exported module needs, checking that no name means two things."""

    def __init__(self, reserved: dict[str, str]):
        self.reserved = reserved                     # generated names -> what they are
        self.values: dict[str, Any] = {}             # bound name -> object
        self.imports: dict[str, str] = {}            # bound name -> import statement
        self.constants: dict[str, str] = {}          # bound name -> assignment
        self.helpers: dict[str, tuple[int, str]] = {}   # runtime helpers: name -> (line, text)
        self.functions: dict[str, str] = {}          # user functions: name -> source
        self.aliases: dict[str, str] = {}            # other names of runtime helpers
        self.captured: list[str] = []                # names whose values were copied

    def bind(self, name: str, value: Any, what: str) -> bool:
        """Claim ``name`` for ``value``; False when it is already there (nothing to add)."""
        if name in self.reserved:
            raise ExportError(f"the name '{name}' is used both for {what} and for "
                              f"{self.reserved[name]} in the exported module; rename it")
        if name in self.values:
            known = self.values[name]
            text = _literal(known)
            if known is value or text is not None and text == _literal(value):
                return False
            raise ExportError(f"the name '{name}' stands for two different things in the code "
                              f"being exported ({known!r} and {value!r}); rename one of them")
        self.values[name] = value
        return True

    # --- a piece of code: rewrite s2s.attr, then resolve what it reads --------------------

    def code(self, text: str, resolve: Callable[[str], Any], where: str) -> str:
        """``text`` with ``s2s.x`` references rewritten; every global it reads provided."""
        tree = ast.parse(text)
        spans = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            base = _path_value(node.value, resolve)
            if not _is_s2s_module(base):
                continue
            value = getattr(base, node.attr, _MISSING)
            if _is_s2s_module(value):
                continue                           # s2s.runtime.x: handled at the outer node
            if node.lineno != node.end_lineno:
                raise ExportError(f"{where}: a reference to s2s spans lines; cannot rewrite it")
            helper = self.runtime_object(value, f"s2s.{node.attr} (in {where})")
            spans.append((node.lineno, node.col_offset, node.end_col_offset, helper))
        text = _replace_spans(text, spans)
        inlined = {span[3] for span in spans}
        for name in _free_names(text):
            if name not in inlined:
                self.provide(name, resolve(name), where)
        return text

    def provide(self, name: str, value: Any, where: str) -> None:
        """Make the global ``name`` (bound to ``value``) exist in the exported module."""
        if value is _MISSING:
            raise ExportError(f"{where} reads the name '{name}', which is not defined")
        if getattr(builtins, name, _MISSING) is value:
            return
        if value is np:
            if name != "np" and self.bind(name, value, "NumPy"):
                self.imports[name] = f"import numpy as {name}"
            return
        from .api import Differentiable
        if isinstance(value, Differentiable):
            value = value.function
        if isinstance(value, types.ModuleType):
            self.module(name, value, where)
        elif getattr(value, "__module__", None) == runtime.__name__ \
                and getattr(runtime, getattr(value, "__name__", ""), None) is value:
            helper = self.runtime_object(value, f"'{name}' (in {where})")
            if helper != name and self.bind(name, value, f"an alias of {helper}"):
                self.aliases[name] = f"{name} = {helper}"
        elif _literal(value) is not None:
            if self.bind(name, value, "a constant"):
                self.constants[name] = f"{name} = {_literal(value)}"
                self.captured.append(name)
        elif self.library_callable(name, value):
            pass
        elif isinstance(value, types.FunctionType):
            self.function(name, value, where)
        else:
            raise ExportError(
                f"{where} reads the global '{name}', a {type(value).__name__}, which cannot be "
                "written into a standalone module (numbers, strings, NumPy arrays, NumPy and "
                "standard-library modules and functions, and plain Python functions can)")

    def module(self, name: str, module: types.ModuleType, where: str) -> None:
        full = module.__name__
        if _is_s2s_module(module):
            raise ExportError(f"{where} uses the module '{name}' ({full}) other than to call "
                              "s2s.stop_gradient; an exported module cannot import s2s")
        if not (full == "numpy" or full.startswith("numpy.") or _is_stdlib(full)):
            raise ExportError(f"{where} uses the module '{name}' ({full}); an exported module "
                              "imports only NumPy and the standard library")
        if not self.bind(name, module, f"the module {full}"):
            return
        if name == full:
            self.imports[name] = f"import {full}"
        elif "." in full and full.rsplit(".", 1)[1] == name:
            package, last = full.rsplit(".", 1)
            self.imports[name] = f"from {package} import {last}"
        else:
            self.imports[name] = f"import {full} as {name}"

    def library_callable(self, name: str, value: Any) -> bool:
        """A NumPy or standard-library function bound to a global: imported from its module."""
        if isinstance(value, types.FunctionType) and not _is_library(value.__module__):
            return False
        function_name = getattr(value, "__name__", None)
        if not isinstance(function_name, str):
            return False
        candidates = [getattr(value, "__module__", None) or "", "numpy", "numpy.linalg",
                      "math", "cmath", "operator", "functools", "itertools"]
        for module_name in candidates:
            if not _is_library(module_name):
                continue
            module = sys.modules.get(module_name)
            if module is None or getattr(module, function_name, None) is not value:
                continue
            public = "numpy" if module_name.startswith("numpy.") and \
                getattr(np, function_name, None) is value else module_name
            if self.bind(name, value, f"{public}.{function_name}"):
                alias = "" if name == function_name else f" as {name}"
                self.imports[name] = f"from {public} import {function_name}{alias}"
            return True
        return False

    def runtime_object(self, value: Any, what: str) -> str:
        """Copy an ``s2s.runtime`` function or class (and what it uses); returns its name."""
        name = getattr(value, "__name__", None)
        if not (inspect.isfunction(value) or inspect.isclass(value)) \
                or getattr(value, "__module__", None) != runtime.__name__ \
                or getattr(runtime, name, None) is not value:
            raise ExportError(f"{what} is not a runtime helper, so it cannot be inlined")
        if not self.bind(name, value, "an s2s runtime helper"):
            return name
        lines, first = inspect.getsourcelines(value)
        text = "".join(lines)
        self.helpers[name] = (first, text)
        self.code(text, _resolver(vars(runtime)), f"s2s.runtime.{name}")
        return name

    def function(self, name: str, function: types.FunctionType, where: str) -> None:
        """Copy a plain Python function's source (decorators dropped) under ``name``."""
        if not self.bind(name, function, f"the function {function.__qualname__}"):
            return
        if function.__name__ == "<lambda>":
            raise ExportError(f"{where} calls the lambda '{name}'; define it with def to export")
        try:
            source = textwrap.dedent(inspect.getsource(function))
        except (OSError, TypeError) as exc:
            raise ExportError(f"cannot read the source of {function.__qualname__}, which "
                              f"{where} calls ({exc})") from None
        tree = ast.parse(source)
        definition = tree.body[0]
        if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise ExportError(f"cannot find the def of {function.__qualname__}")
        lines = source.splitlines(keepends=True)
        text = "".join(lines[definition.lineno - 1:])          # without the decorators
        if definition.name != name:
            text += f"\n\n{name} = {definition.name}\n"
            self.bind(definition.name, function, f"the function {function.__qualname__}")
        from .parse import Scope
        scope = Scope(function)
        self.functions[name] = self.code(text, scope.resolve, f"{function.__qualname__}")


def _is_library(module_name: str | None) -> bool:
    if not module_name:
        return False
    return module_name == "numpy" or module_name.startswith("numpy.") or _is_stdlib(module_name)


def _path_value(node: ast.expr, resolve: Callable[[str], Any]) -> Any:
    if isinstance(node, ast.Name):
        return resolve(node.id)
    if isinstance(node, ast.Attribute):
        base = _path_value(node.value, resolve)
        if isinstance(base, types.ModuleType):
            return getattr(base, node.attr, _MISSING)
    return _MISSING


# --- the exported module ---------------------------------------------------------------

def _strip_preamble(source: str) -> str:
    """The generated functions without the header comment and the import lines."""
    lines = source.splitlines(keepends=True)
    start = 0
    while start < len(lines):
        stripped = lines[start].strip()
        if stripped and not stripped.startswith(("#", "import ", "from ")):
            break
        start += 1
    return "".join(lines[start:])


def _signature_text(function: Callable[..., Any]) -> tuple[str, str]:
    """The parameter list (defaults kept, annotations dropped) and a call passing them on."""
    parameters: list[str] = []
    call: list[str] = []
    items = list(inspect.signature(function).parameters.values())
    last_positional_only = max((i for i, p in enumerate(items)
                                if p.kind is inspect.Parameter.POSITIONAL_ONLY), default=-1)
    for i, parameter in enumerate(items):
        text = parameter.name
        if parameter.default is not inspect.Parameter.empty:
            default = _literal(parameter.default)
            if default is None:
                raise ExportError(f"the default value of parameter '{parameter.name}' "
                                  f"({parameter.default!r}) cannot be written as source")
            text += f"={default}"
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            if "*" not in parameters:
                parameters.append("*")
            call.append(f"{parameter.name}={parameter.name}")
        else:
            call.append(parameter.name)
        parameters.append(text)
        if i == last_positional_only:
            parameters.append("/")
    return ", ".join(parameters), ", ".join(call)


def export_source(function: Callable[..., Any], wrt: Any = None, mode: str = "reverse",
                  dispatch: bool = False) -> str:
    """The text of the standalone module (see :func:`export`)."""
    from .api import _derivation, _name
    from .emit import python_name

    if mode not in ("reverse", "forward"):
        raise S2SError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    differentiable = strict_differentiable(function, wrt)
    base = differentiable.function
    if dispatch and mode == "reverse":
        derivation = _derivation(base, differentiable.wrt_names, differentiable.single,
                                 "reverse", None, False, True)
    elif dispatch:
        derivation = differentiable.forward_derivation(None, False, True)
    else:
        derivation = differentiable.derivation if mode == "reverse" \
            else differentiable.forward_derivation()
    generated = derivation.module
    parsed = derivation.parsed
    name = python_name(parsed.name)
    grad_name, value_and_grad_name = f"grad_{name}", f"value_and_grad_{name}"

    body = _strip_preamble(generated.source)
    try:
        top_names = {node.name for node in ast.parse(body).body
                     if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    except SyntaxError as exc:                         # pragma: no cover - generated code parses
        raise ExportError(f"the generated code does not parse: {exc}") from None
    support = _SUPPORT[mode]
    reserved = {n: "generated code" for n in top_names}
    reserved.update({grad_name: "the gradient wrapper",
                     value_and_grad_name: "the value-and-gradient wrapper"})
    reserved.update({f.__name__: "export support code" for f in support})
    builder = _Builder(reserved)
    builder.values["np"] = np
    body = builder.code(body, _resolver(generated.function.__globals__), "the generated code")

    parameters, call = _signature_text(base)
    arguments = ", ".join(differentiable.params)
    wrt_names = differentiable.wrt_names
    positions = differentiable.wrt_positions
    single = differentiable.single if mode == "reverse" else len(wrt_names) == 1
    about = wrt_names[0] if single else "(" + ", ".join(wrt_names) + ")"
    how = (f"One call of {generated.name} and its pullback." if mode == "reverse"
           else f"One forward pass of {generated.name} per element of {', '.join(wrt_names)}.")
    conversions = "".join(f"    {n} = _s2s_argument({n}, {n!r})\n" for n in wrt_names)
    helper = "_s2s_reverse_gradient" if mode == "reverse" else "_s2s_forward_gradient"
    packed = arguments + ("," if len(differentiable.params) == 1 else "")
    wrappers = (
        f"def {value_and_grad_name}({parameters}):\n"
        f'    """Return ``({parsed.name}({arguments}), gradient)``, the gradient with respect '
        f'to {about}.\n\n'
        f"    {how} Gradients have the shape and float dtype of their\n"
        f'    arguments; {parsed.name} must return a scalar.\n    """\n'
        f"{conversions}"
        f"    return {helper}({generated.name}, ({packed}), {positions!r}, {single!r}, "
        f"{parsed.name!r})\n\n\n"
        f"def {grad_name}({parameters}):\n"
        f'    """The gradient of {parsed.name}({arguments}) with respect to {about}."""\n'
        f"    return {value_and_grad_name}({call})[1]\n")

    location = f"{parsed.source.filename.replace(chr(92), '/').rsplit('/', 1)[-1]}:" \
               f"{parsed.source.first_line}"
    module_name = getattr(base, "__module__", None) or "?"
    if mode == "reverse":
        adjoints = [f"{n}_b" for n in wrt_names]
        returned = adjoints[0] if single else "(" + ", ".join(adjoints) + ")"
        signature_line = (f"#   {generated.name}({arguments}) -> (value, pullback), "
                          f"pullback(cotangent) -> {returned}")
    else:
        tangents = ", ".join(f"{n}_d" for n in wrt_names)
        signature_line = (f"#   {generated.name}({arguments}, {tangents}) -> "
                          "(value, tangent of the value)")
    header = [
        f"# Generated by s2s {__version__} from {module_name}.{_name(base)} ({location}):",
        f"# {mode} mode, with respect to {', '.join(wrt_names)}.",
        "# A standalone module: it imports NumPy (and nothing of s2s). It defines",
        signature_line,
        f"#   {grad_name}({parameters}) -> gradient",
        f"#   {value_and_grad_name}({parameters}) -> (value, gradient)",
    ]
    if builder.captured:
        header.append("# Copied at export time: the values of "
                      + ", ".join(sorted(builder.captured)) + ".")
    header.append("# Regenerate it rather than editing it.")

    imports = ["import numpy as np"] + sorted(set(builder.imports.values()))
    parts = ["\n".join(header), "from __future__ import annotations",
             "\n".join(imports)]
    if builder.constants:
        parts.append("\n".join(builder.constants[n] for n in sorted(builder.constants)))
    helpers = [text.rstrip("\n") for _, text in sorted(builder.helpers.values())]
    if builder.aliases:
        helpers.append("\n".join(builder.aliases[n] for n in sorted(builder.aliases)))
    support_text = [inspect.getsource(f).rstrip("\n") for f in support]
    sections = [
        ("# --- runtime helpers the generated code calls (copied from s2s/runtime.py) ---",
         helpers),
        ("# --- functions of the differentiated code, called on values without gradients ---",
         [builder.functions[n].rstrip("\n") for n in sorted(builder.functions)]),
        ("# --- the generated derivative code ---", [body.rstrip("\n")]),
        ("# --- convenience wrappers ---", support_text + [wrappers.rstrip("\n")]),
    ]
    text = "\n\n".join(parts) + "\n"
    for title, chunks in sections:
        if chunks:
            text += "\n\n" + title + "\n" + "\n\n\n".join(chunks) + "\n"
    names = sorted(top_names) + [grad_name, value_and_grad_name]
    text += "\n\n__all__ = [" + ", ".join(repr(n) for n in names) + "]\n"
    try:
        compile(text, f"<s2s export of {name}>", "exec")
    except SyntaxError as exc:                         # pragma: no cover - a bug in export
        raise ExportError(f"internal error: the exported module does not compile: {exc}") \
            from None
    return text


def strict_differentiable(function: Any, wrt: Any = None):
    """``function`` differentiated with respect to ``wrt`` (a decorated function's own
    ``wrt`` when None, else the first parameter), refusing the tape fallback."""
    from .api import Differentiable
    if isinstance(function, Differentiable):
        base = function.function
        if wrt is None:
            wrt = function.wrt_names if not function.single else function.wrt_names[0]
    else:
        base = function
    return Differentiable(base, wrt=0 if wrt is None else wrt, fallback="error")


def export_numba_source(function: Callable[..., Any], args: tuple, wrt: Any = None) -> str:
    """The numba module ``grad`` compiles for arguments like ``args`` (their ranks and
    dtype), standalone: its functions carry ``@numba.njit(cache=True)``, the numba helpers
    it calls are copied in, and ``gradient(*args)`` calls it with the seed 1."""
    from .numba_backend import CompiledGradient, working_dtype
    differentiable = strict_differentiable(function, wrt)
    differentiable = type(differentiable)(differentiable.function, wrt=differentiable._wrt,
                                          fallback="error", backend="numba")
    values = differentiable._arguments(tuple(args), {})
    compiled = differentiable._gradient_function(values)
    if not isinstance(compiled, CompiledGradient):
        raise ExportError(f"numba export of {differentiable.__qualname__}: the shapes of "
                          "these arguments do not prove the output a scalar, so there is no "
                          "closure-free gradient to compile")
    lowered = compiled.lowered(working_dtype(values))
    if lowered.reads:
        raise ExportError(f"numba export of {differentiable.__qualname__}: the code reads the "
                          f"globals {', '.join(lowered.reads)}; the numba export writes "
                          "modules that read none (pass them as arguments)")
    text = lowered.source
    match = re.search(r"^from s2s\.numba_runtime import (.*)$", text, re.M)
    if match:
        from . import numba_runtime
        helpers = [name.strip() for name in match.group(1).split(",")]
        copied = ["from numba import types", "from numba.extending import overload",
                  "from numba.np.numpy_support import as_dtype", ""]
        for name in helpers:
            for part in (getattr(numba_runtime, name), getattr(numba_runtime, f"_{name}")):
                copied.append(inspect.getsource(part).rstrip() + "\n\n")
        text = text.replace(match.group(0), "\n".join(copied).rstrip() + "\n")
    seeded = "" if lowered.entry.startswith("grad_") else "[1]"
    one = "np.float32(1.0)" if lowered.dtype == "float32" else "1.0"
    text += (f"\n\ndef gradient(*args):\n    \"\"\"The gradient at ``args`` (the "
             f"parameters of {differentiable.__qualname__}).\"\"\"\n"
             f"    return {lowered.entry}(*args, {one}){seeded}\n")
    return text


def export(function: Callable[..., Any], path: Any = None, wrt: Any = None,
           mode: str = "reverse", dispatch: bool = False, backend: str = "python",
           args: tuple | None = None) -> str:
    """Write the derivative of ``function`` as a standalone module; return its text.

    ``mode="reverse"`` exports ``vjp_<name>`` (as in ``f.source``), ``"forward"`` exports
    ``jvp_<name>`` (as in ``f.forward_source``); both come with ``grad_<name>`` and
    ``value_and_grad_<name>`` taking the original parameters.  ``wrt`` is as in
    ``@s2s.differentiate`` (default: the decorated function's, or 0).  With ``path``, the
    text is also written there.  Raises :class:`s2s.UnsupportedError` for code s2s cannot
    transform and :class:`ExportError` for globals that cannot be written out.
    ``dispatch=True``: code for Dask and CuPy arrays as well (NumPy calls those libraries
    do not implement, such as ``np.copy``, go through helpers that keep the array's type).

    ``backend="numba"`` writes the numba-compiled gradient instead (functions decorated
    ``@numba.njit(cache=True)``, a ``gradient(*args)`` entry); numba code is compiled for
    argument ranks and a dtype, so ``args`` gives example arguments.
    """
    if backend == "numba":
        if args is None:
            raise ExportError("export(..., backend='numba') needs args=(...): example "
                              "arguments, whose ranks and dtype the code is compiled for")
        text = export_numba_source(function, tuple(args), wrt)
    elif backend != "python":
        raise ExportError(f"backend must be 'python' or 'numba', not {backend!r}")
    else:
        text = export_source(function, wrt=wrt, mode=mode, dispatch=dispatch)
    if path is not None:
        with open(path, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
    return text
