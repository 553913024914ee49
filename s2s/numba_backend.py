"""``backend="numba"``: derivative code compiled to machine code, cached on disk.

Input: a :class:`~s2s.api.Differentiable` and the shape-specialized, closure-free code its
Python backend runs (``grad_<name>``, or ``jvp_<name>`` for one scalar input).
Output: a callable with the same arguments and results, running the code
:mod:`s2s.lower_numba` lowers, compiled by ``numba.njit(cache=True)``.

Compilation: the lowered module is written to a real file under the cache directory
(``$S2S_CACHE_DIR``, default ``$XDG_CACHE_HOME/s2s`` or ``~/.cache/s2s``; then
``numba/``), named by a hash of its text, of the values of the globals it reads, and of
the versions of s2s, numba, NumPy and Python: a changed function (or s2s, or numba) is a
new file, never stale machine code.  numba keeps its own cache of the compiled code
beside it (``__pycache__``), so a new process loads it instead of compiling.  Within a
process a module is imported once; code whose text does not change with the argument
sizes (see :mod:`s2s.lower_numba`) is compiled once for all of them.

Falling back: what numba cannot compile — refused by the lowering, or by numba's type
inference — runs on the Python backend, with one :class:`s2s.errors.BackendWarning`
naming the construct and the line (``f.backend`` is then ``"python"``, ``f.backend_reason``
says why); with ``fallback="error"`` it is a :class:`s2s.errors.BackendError`.  numba's own
exceptions never reach the user.  numba is imported here only when a backend is asked for.

Calling: once compiled code ran for some argument shapes, ``grad`` with Python floats and
float64 arrays of those shapes calls it directly (:meth:`NumbaBackend.fast_gradient`: one
pass over the arguments makes the key; every other argument takes the full path).

Ahead of time: ``f.compile_ahead(*args)`` builds the lowered module as an extension module
beside it (:mod:`s2s.numba_aot`); :func:`load` then gives that module's entry, for the
argument types it was built for, and a later process runs it without importing numba.
numba itself is imported only when a module is compiled or loaded from numba's cache.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import re
import sys
import threading
import types
import warnings
from typing import Any, Callable

import numpy as np

from .errors import BackendError, BackendWarning, S2SError, UnsupportedError
from .lower_numba import Lowered, LoweringError, lower, user_line
from .numba_aot import AheadOfTime, argument_types, build, can_build, load_built
from .parse import is_compiled_function
from .version import __version__

BACKENDS = ("python", "numba")
INSTALL_HINT = 'pip install "s2s[numba]"'

_FLOAT64 = np.dtype(np.float64)
_LOADED: dict[str, Callable[..., Any]] = {}     # cache key -> the compiled entry function
_PATHS: dict[str, str] = {}                     # cache key -> the lowered module's file
_LOCK = threading.Lock()
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _is_float64(dtype: np.dtype) -> bool:
    """NumPy's native float64 (an array unpickled, from another process say, has an equal
    dtype that is not the same object)."""
    return dtype is _FLOAT64 or dtype == _FLOAT64


def check_backend(backend: str) -> None:
    """Refuse an unknown backend, and ``"numba"`` without numba installed."""
    if backend not in BACKENDS:
        raise S2SError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not "
                       f"{backend!r}")
    if backend == "numba":
        numba_available()


def numba_available() -> None:
    """numba is installed (not imported: a function whose gradient was compiled ahead of
    time runs without it)."""
    try:
        found = sys.modules.get("numba", False) is not None \
            and importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise BackendError(f'backend="numba" needs numba, which is not installed: '
                           f'{INSTALL_HINT}')


@functools.lru_cache(maxsize=None)
def _numba_version() -> str:
    """numba's version, from its installed metadata (importing numba takes 0.2 s)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("numba")
    except PackageNotFoundError:
        return require_numba().__version__


def require_numba():
    try:
        import numba
    except ImportError:
        raise BackendError(f'backend="numba" needs numba, which is not installed: '
                           f'{INSTALL_HINT}') from None
    return numba


def cache_dir() -> str:
    """Where lowered modules (and numba's compiled code beside them) are kept."""
    base = os.environ.get("S2S_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                               ".cache")
        base = os.path.join(xdg, "s2s")
    return os.path.join(base, "numba")


# --- compiling a lowered module ---------------------------------------------------------------

def _digest_value(name: str, value: Any) -> tuple[str, Any]:
    """What identifies a global's value in the cache key, and the value the compiled code
    reads (a plain Python function is compiled too)."""
    numba = require_numba()
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}", value
    if isinstance(value, (bool, int, float, complex, str)) or value is None:
        return f"{type(value).__name__} {value!r}", value
    if isinstance(value, np.generic):
        return f"{value.dtype} {value!r}", value
    if isinstance(value, np.ndarray):
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return f"array {value.dtype} {value.shape} {digest}", value
    if isinstance(value, np.ufunc):
        return f"ufunc {value.__name__}", value
    python = getattr(value, "py_func", None)
    if python is not None and isinstance(value, numba.core.dispatcher.Dispatcher):
        return f"njit {_code_digest(python)}", value
    if inspect.isfunction(value):
        return f"function {_code_digest(value)}", numba.njit(error_model="numpy")(value)
    if inspect.isbuiltin(value) and getattr(value, "__module__", None) in ("math", "builtins"):
        return f"builtin {value.__module__}.{value.__name__}", value
    raise LoweringError(f"numba cannot compile code that reads the global '{name}', a "
                        f"{type(value).__name__}", hint="it runs on the Python backend")


def _code_digest(function: Callable[..., Any]) -> str:
    try:
        text = inspect.getsource(function)
    except (OSError, TypeError):
        text = repr(function.__code__.co_code) + repr(function.__code__.co_consts)
    globals_ = getattr(function, "__globals__", {})
    reads = sorted(n for n in function.__code__.co_names if n in globals_)
    parts = [text] + [f"{n}={_digest_value(n, globals_[n])[0]}" for n in reads
                      if not isinstance(globals_[n], types.ModuleType)
                      and not callable(globals_[n])]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=None)
def _runtime_digest() -> str:
    """A digest of :mod:`s2s.numba_runtime`'s text: its helpers are compiled into the code,
    so a change to them (within one s2s version, as between commits) is new code too."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numba_runtime.py")
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:16]


def cache_key(lowered: Lowered, namespace: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    parts = [lowered.source, f"s2s {__version__} runtime {_runtime_digest()}",
             f"numba {_numba_version()}",
             f"numpy {np.__version__}", f"python {sys.version_info[:3]}"]
    values = {}
    for name in lowered.reads:
        if name not in namespace:
            raise LoweringError(f"internal error: the lowered code reads '{name}', which the "
                                "generated module does not define")
        described, values[name] = _digest_value(name, namespace[name])
        parts.append(f"{name}: {described}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest(), values


def load(lowered: Lowered, namespace: dict[str, Any]) -> Callable[..., Any]:
    """The compiled entry of ``lowered``: the extension module built ahead of time for it
    (:mod:`s2s.numba_aot`), if there is one, for the arguments it was built for; else a
    numba dispatcher (compiled at its first call, or loaded from numba's disk cache)."""
    key, values = cache_key(lowered, namespace)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        directory = cache_dir()
        os.makedirs(directory, exist_ok=True)
        stem = f"{lowered.entry}_{key[:24]}"
        path = os.path.join(directory, stem + ".py")
        if not os.path.exists(path) or _read(path) != lowered.source:
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(lowered.source)
            os.replace(temporary, path)

        def jit() -> Callable[..., Any]:
            module_name = f"s2s_numba.{stem}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            module.__dict__.update(values)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            return getattr(module, lowered.entry)

        function = load_built(path, lowered.entry, jit) if not lowered.reads else None
        _LOADED[key] = function = function or jit()
        _PATHS[key] = path
        return function


def module_path(lowered: Lowered, namespace: dict[str, Any]) -> str:
    """The file the lowered module was written to (by :func:`load`)."""
    load(lowered, namespace)
    return _PATHS[cache_key(lowered, namespace)[0]]


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def explain(error: BaseException, lowered: Lowered) -> str:
    """numba's error as one sentence: what it could not type, and where that comes from."""
    text = _ANSI.sub("", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    what = next((line for line in lines if not line.startswith("Failed in ")
                 and not line.startswith("- Resolution failure")), type(error).__name__)
    line_numbers = [int(m.group(2)) for m in re.finditer(r'File "([^"]*)", line (\d+)', text)
                    if os.path.basename(m.group(1)).startswith(lowered.entry + "_")]
    where = user_line(lowered.source, line_numbers[-1]) if line_numbers else "the generated code"
    return f"numba cannot compile {where}: {what[:300]}"


# --- one function's backend ---------------------------------------------------------------------

class NumbaBackend:
    """The numba state of one :class:`~s2s.api.Differentiable`: its compiled code, and
    whether (and why) it fell back to the Python backend."""

    def __init__(self, name: str, fallback: str):
        self.name = name
        self.fallback = fallback
        self.reason: str | None = None
        self.sources: dict[Any, str] = {}       # (shapes, dtype) -> lowered text
        self.functions: dict[Any, Any] = {}     # jvp and hvp code per (kind, shapes)
        self.parent: NumbaBackend | None = None
        # argument shapes -> (compiled entry, whether it is forward mode), for calls whose
        # arguments are all Python floats and float64 arrays, once the entry ran: what
        # grad calls without going through CompiledGradient (see fast_gradient)
        self.fast: dict[tuple, tuple[Any, bool]] = {}
        self.latest: Callable[..., Any] | None = None   # the checked call of the last key

    def child(self, name: str) -> "NumbaBackend":
        """The state of a derived level (the gradient hvp differentiates): its fallback is
        this function's."""
        state = NumbaBackend(name, self.fallback)
        state.parent = self
        return state

    def fast_gradient(self, differentiable, args: tuple) -> Any:
        """``differentiable.grad(*args)`` from compiled code already run for these
        argument shapes, with the checks of the full path folded into one pass over the
        arguments (each a Python float or a float64 array, else None: the full path
        decides); None also when the compiled code raises (the full path runs it again and
        says what failed)."""
        if self.reason is not None:
            return None
        latest = self.latest
        if latest is not None:
            gradient = latest(args, differentiable._gradients)
            if gradient is not None:
                return gradient
        key = tuple([() if value.__class__ is float else value.shape
                     if value.__class__ is np.ndarray and _is_float64(value.dtype) else None
                     for value in args])
        entry = self.fast.get(key)           # a key with None (another value) is not there
        if entry is None:
            return None
        self.latest = checked_call(key, *entry, differentiable.wrt_positions,
                                   differentiable.single)
        return self.latest(args, differentiable._gradients)

    def fall_back(self, reason: str) -> None:
        if self.reason is not None:
            return
        self.fast.clear()
        self.latest = None
        if self.parent is not None:
            self.reason = reason
            self.parent.fall_back(f"{self.name}: {reason}")
            return
        if self.fallback == "error":
            raise BackendError(f"numba cannot compile the derivative of {self.name}: {reason}")
        self.reason = reason
        warnings.warn(BackendWarning(
            f"s2s cannot compile the derivative of {self.name} with numba; it runs on the "
            f"Python backend instead. Reason:\n{reason}"), stacklevel=4)

    def gradient(self, python: Callable[..., Any], derivation, kind: str,
                 shapes: tuple) -> Callable[..., Any]:
        """A callable like ``python`` (the Python backend's ``grad``/forward function for
        these argument shapes) running numba-compiled code."""
        return CompiledGradient(self, python, derivation, kind, shapes)

    def function(self, derivation, kind: str, shapes: tuple) -> "CompiledGradient":
        return CompiledGradient(self, derivation.module.function, derivation, kind, shapes)


def checked_call(key: tuple, compiled: Callable[..., Any], forward: bool,
                 wrt: tuple[int, ...] = (), single: bool = True) -> Callable[..., Any]:
    """``call(args, finish)``: the compiled entry for arguments of exactly ``key`` (a Python
    float for ``()``, a float64 array of that shape otherwise), its tests written out for
    this arity so that a repeated call costs little more than numba's own dispatch; None
    for other arguments, or when the compiled code raises (the full path then runs it
    again and says what failed).  ``finish(args, raw)`` makes the user's gradient; it is
    skipped where each raw gradient (for the arguments at positions ``wrt``; a tuple of
    them unless ``single``) already has its argument's type, shape and dtype."""
    names = [f"a{i}" for i in range(len(key))]
    tests = [f"{name}.__class__ is float" if shape == () else
             f"{name}.__class__ is ndarray and ({name}.dtype is float64 or {name}.dtype == "
             f"float64) and {name}.shape == "
             f"{tuple(shape)!r}" for name, shape in zip(names, key)]
    unpacked = ", ".join(names) + ("," if len(names) == 1 else "")
    lines = [
        "def call(args, finish):",
        f"    if len(args) != {len(key)}:",
        "        return None",
        f"    {unpacked} = args",
        f"    if not ({' and '.join(tests) or 'True'}):",
        "        return None",
        "    try:",
        f"        result = compiled({', '.join(names + ['1.0'])})",
        "    except Exception:",
        "        return None",
    ]
    if forward:                              # one scalar input, a float: its derivative
        lines += ["    result = result[1]",
                  "    if result.__class__ is float:",
                  "        return result"]
    elif wrt and all(position < len(key) for position in wrt):
        def finished(value: str, shape: tuple) -> str:
            if shape == ():
                return f"{value}.__class__ is float"
            return (f"{value}.__class__ is ndarray and {value}.dtype.char == 'd' and "
                    f"{value}.shape == {tuple(shape)!r} and {value}.flags.writeable")
        if single:
            test = finished("result", key[wrt[0]])
        else:
            parts = [f"g{i}" for i in range(len(wrt))]
            lines += [f"    if result.__class__ is tuple and len(result) == {len(wrt)}:",
                      f"        {', '.join(parts)}{',' if len(parts) == 1 else ''} = result",
                      f"        if {' and '.join(map(finished, parts, (key[p] for p in wrt)))}:",
                      "            return result"]
            test = None
        if test is not None:
            lines += [f"    if {test}:", "        return result"]
    lines.append("    return finish(args, result)")
    namespace = {"compiled": compiled, "ndarray": np.ndarray, "float64": _FLOAT64}
    exec(compile("\n".join(lines), "<s2s fast numba call>", "exec"), namespace)
    return namespace["call"]


def working_dtype(values) -> str:
    """``"float32"`` when every float array or NumPy float among ``values`` is float32
    (Python floats adapt, as in NumPy 2), else ``"float64"``."""
    seen = False
    for value in values:
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind == "f":
            if dtype != np.float32:
                return "float64"
            seen = True
    return "float32" if seen else "float64"


class CompiledGradient:
    """The compiled form of one generated function, for one set of argument shapes, per
    working dtype.  ``kind``: ``"gradient"`` (``grad_f(params, seed)``), ``"forward"``
    (``jvp_f(params, 1.0)`` giving the derivative for one scalar input) or ``"jvp"``
    (``jvp_f(params, tangents)`` giving ``(value, tangent)``)."""

    def __init__(self, backend: NumbaBackend, python: Callable[..., Any], derivation,
                 kind: str, shapes: tuple):
        self.backend = backend
        self.python = python
        self.derivation = derivation
        self.kind = kind
        self.shapes = shapes
        self.compiled: dict[str, tuple[Lowered, Callable[..., Any], list]] = {}

    def lowered(self, dtype: str) -> Lowered:
        derivation = self.derivation
        parsed = derivation.parsed
        params = list(parsed.params)
        shapes = dict(zip(params, (None if s is None else tuple(s) for s in self.shapes)))
        described = f" of {parsed.name} ({_short(parsed.source.filename)}:" \
                    f"{parsed.source.first_line})"
        mode = "gradient" if self.kind == "gradient" else "forward"
        return lower(derivation.source, derivation.module.name, mode,
                     derivation.analysis.shapes, dtype, shapes, described)

    def _entry(self, dtype: str):
        entry = self.compiled.get(dtype)
        if entry is None:
            lowered = self.lowered(dtype)
            namespace = self.derivation.module.function.__globals__
            entry = (lowered, load(lowered, namespace), [False])
            self.compiled[dtype] = entry
            self.backend.sources[(self.shapes, dtype)] = lowered.source
        return entry

    def source(self, values) -> str:
        return self._entry(working_dtype(values))[0].source

    def arguments(self, values, dtype: str, seeded: bool | None = None) -> list:
        """What the compiled code is called with: ``values`` (Python floats as float32 in
        float32 code, as in NumPy 2), and the seed 1 (``seeded``; by default unless the
        code is a ``jvp``)."""
        arguments = list(values)
        if dtype == "float32":
            arguments = [np.float32(v) if v.__class__ is float else v for v in arguments]
        if seeded if seeded is not None else self.kind != "jvp":
            arguments.append(np.float32(1.0) if dtype == "float32" else 1.0)
        return arguments

    def _compiled_call(self, values, seeded: bool) -> tuple[bool, Any]:
        """``(True, result)`` of the compiled code, or ``(False, None)`` once it fell back.
        ``seeded``: append the seed (the output's cotangent, or the input's tangent) 1."""
        if self.backend.reason is not None:
            return False, None
        dtype = working_dtype(values)
        try:
            lowered, compiled, started = self._entry(dtype)
        except UnsupportedError as error:
            self.backend.fall_back(_message(error))
            return False, None
        arguments = self.arguments(values, dtype, seeded)
        try:
            result = compiled(*arguments)
        except Exception as error:
            if not _is_compile_error(error, compiled, started[0]):
                raise                      # the code ran and raised: the user's error
            self.backend.fall_back(explain(error, lowered))
            return False, None
        started[0] = True
        if dtype == "float64" and seeded and self.kind != "jvp" and all(
                v.__class__ is float or v.__class__ is np.ndarray and _is_float64(v.dtype)
                for v in values):
            self.backend.fast[self.shapes] = (compiled, self.kind == "forward")
        return True, result

    def __call__(self, *values: Any) -> Any:
        compiled, result = self._compiled_call(values, self.kind != "jvp")
        if not compiled:
            return self.python(*values)
        return result[1] if self.kind == "forward" else result

    def value_and_derivative(self, values, primal: Callable[..., Any]) -> tuple[Any, Any]:
        """``(value, raw gradient)``: one compiled forward sweep for one scalar input; the
        primal (Python) and the compiled gradient otherwise (``grad_<name>`` does not
        compute the value)."""
        if self.kind == "forward":
            compiled, result = self._compiled_call(values, True)
            if compiled:
                return result
            return primal(*values), self.python(*values)
        return primal(*values), self(*values)


def _message(error: UnsupportedError) -> str:
    return error.message if getattr(error, "message", None) else str(error)


def _is_compile_error(error: Exception, compiled, started: bool) -> bool:
    numba = require_numba()
    if isinstance(error, numba.core.errors.NumbaError):
        return True
    return not started and not getattr(compiled, "signatures", None)


def _short(filename: str) -> str:
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


# --- what s2s.api calls (duck-typed on its Differentiable: no import of s2s.api) -----------

def numba_gradient(differentiable, function, derivation, kind: str, shapes: tuple):
    """``function`` (what ``grad`` runs for these shapes), compiled when the differentiable
    asked for ``backend="numba"``."""
    state = differentiable._numba
    if state is None or function is None:
        return function
    return CompiledGradient(state, function, derivation, kind, shapes)


def numba_refuse_arguments(differentiable, values, shapes) -> None:
    """Arguments of no shape (lists, dicts, objects) are not compiled: the one warning."""
    for name, value, shape in zip(differentiable.params, values, shapes):
        if shape is None:
            differentiable._numba.fall_back(
                f"the argument '{name}' is a {type(value).__name__}; numba compiles "
                "derivatives of functions of numbers and NumPy arrays")
            return


def _no_compiled_gradient(differentiable) -> None:
    if differentiable.mode == "tape":
        differentiable._numba.fall_back(
            f"s2s generates no derivative code for {differentiable.__qualname__} (it is "
            f"differentiated on the tape): {differentiable.fallback_reason}")
        return
    differentiable._numba.fall_back(
        f"the argument shapes do not prove that {differentiable.__qualname__} returns a "
        "scalar (or it may compute complex values), so there is no closure-free gradient "
        "to compile; numba compiles grad_<name> and jvp_<name>, not a pullback")


def numba_value_and_grad(differentiable, args: tuple, kwargs: dict):
    """``(value, gradient)`` from compiled code, or None (the Python backend runs)."""
    values = differentiable._arguments(args, kwargs)
    gradient = differentiable._gradient_function(values)
    if differentiable._numba.reason is not None:
        return None
    if not isinstance(gradient, CompiledGradient):
        _no_compiled_gradient(differentiable)
        return None
    value, raw = gradient.value_and_derivative(values, differentiable.primal)
    differentiable._check_scalar(value)
    return value, differentiable._gradients(values, raw)


def numba_jvp(differentiable, wrt: tuple, values: list, tangents: list):
    """``(value, tangent)`` from compiled forward-mode code, or None."""
    from .shapes import argument_shape, is_complex_key
    state = differentiable._numba
    shapes = tuple(map(argument_shape, values))
    if None in shapes:
        numba_refuse_arguments(differentiable, values, shapes)
        return None
    if any(map(is_complex_key, shapes)):
        state.fall_back("complex arguments: the numba backend compiles derivatives of "
                        "real values")
        return None
    key = ("jvp", wrt, shapes)
    compiled = state.functions.get(key)
    if compiled is None:
        try:
            derivation = differentiable.forward_derivation(wrt, False, shapes=shapes)
        except UnsupportedError as error:
            state.fall_back(_message(error))
            return None
        compiled = state.functions[key] = CompiledGradient(
            state, derivation.module.function, derivation, "jvp", shapes)
    return compiled(*values, *tangents)


def numba_hvp(differentiable, values: list, direction: Any):
    """The Hessian-vector product from compiled forward-over-reverse code, or None."""
    from .shapes import argument_shape
    state = differentiable._numba
    shapes = tuple(map(argument_shape, values))
    key = ("hvp", shapes)
    level = state.functions.get(key)
    if level is None:
        gradient = differentiable.gradient_function(*values)
        name = differentiable.params[differentiable.wrt_positions[0]]
        level = type(differentiable)(gradient, wrt=name, backend="numba",
                                     fallback=differentiable.fallback)
        level._numba = state.child(f"the Hessian-vector product of {differentiable.__qualname__}")
        state.functions[key] = level
    tangents: list[Any] = [None] * (len(values) + 1)
    tangents[differentiable.wrt_positions[0]] = direction
    _, product = level.jvp(list(values) + [1.0], tangents)
    return product


def numba_compile_ahead(differentiable, values) -> str:
    """Build the extension module ``grad`` loads for these arguments in later processes
    (:mod:`s2s.numba_aot`); its file.  An s2s error says why there is none."""
    gradient = differentiable._gradient_function(values)
    reason = differentiable._numba.reason if differentiable._numba else None
    if not isinstance(gradient, CompiledGradient) or reason is not None:
        raise BackendError(f"s2s compiles no numba code for {differentiable.__qualname__} "
                           f"with these arguments, so none ahead of time: "
                           f"{reason or 'the argument shapes do not prove the output a scalar'}")
    dtype = working_dtype(values)
    lowered, compiled, _ = gradient._entry(dtype)
    if lowered.reads:
        raise BackendError(f"the compiled gradient of {differentiable.__qualname__} reads the "
                           f"globals {', '.join(lowered.reads)}; s2s builds ahead of time only "
                           "code that reads none (the module would hold their values)")
    if not can_build():
        raise BackendError("building ahead of time needs numba.pycc, setuptools "
                           "(pip install setuptools) and a C compiler (cc, gcc or clang) on "
                           "the PATH")
    arguments = gradient.arguments(values, dtype)
    gradient(*values)                            # compiled (or loaded) and run once
    dispatcher = compiled.just_in_time() if isinstance(compiled, AheadOfTime) else compiled
    described = argument_types(tuple(dispatcher.typeof_pyval(a) for a in arguments))
    if described is None:
        raise BackendError("s2s builds ahead of time for float arrays and numbers only")
    namespace = gradient.derivation.module.function.__globals__
    return build(module_path(lowered, namespace), lowered.entry, described)


def numba_source(differentiable, values) -> str:
    """The lowered module ``grad`` compiles for these arguments (or why there is none)."""
    gradient = differentiable._gradient_function(values)
    reason = differentiable._numba.reason if differentiable._numba else None
    if isinstance(gradient, CompiledGradient) and reason is None:
        try:
            return gradient.source(values)
        except UnsupportedError as error:
            reason = _message(error)
    if reason is None:
        reason = ("the argument shapes do not prove the output a scalar: there is no "
                  "closure-free gradient to compile")
    text = "\n".join(f"#   {line}" for line in reason.splitlines())
    return (f"# s2s compiles no numba code for {differentiable.__qualname__}: it runs on "
            f"the Python backend.\n# Reason:\n{text}\n")


__all__ = ["BACKENDS", "CompiledGradient", "NumbaBackend", "cache_dir", "check_backend",
           "is_compiled_function", "load", "module_path", "numba_available",
           "numba_compile_ahead", "numba_gradient", "numba_hvp", "numba_jvp",
           "numba_refuse_arguments", "numba_source", "numba_value_and_grad", "require_numba",
           "working_dtype"]
