"""Stage 8 (compile ahead of time), optional: a lowered numba module as an extension module.

Input: a lowered module already written to the cache directory (:mod:`s2s.numba_backend`:
``<stem>.py``, its name a hash of its text and of everything it was made from), its entry
function, and the types of one call's arguments (each a float array of some rank and
layout, or a number).  Output: ``<stem>_aot<suffix>`` beside it, an extension module that
numba's ahead-of-time compiler (``numba.pycc``) built from the same code with the same
flags (NumPy's error model, bounds checked), and ``<stem>_aot.json``, the argument types it
takes; a later process imports it without importing numba, whose own start-up (a quarter
of a second or more) is most of a first call from numba's JIT cache.

:func:`load_built` gives the extension's entry wrapped so that it runs only for arguments
of exactly those types (the dtype, rank, layout and flags numba would type them by); other
arguments go to the JIT dispatcher, imported when first needed.  Only modules that read no
globals are built (a global is a constant of the compiled code; the cache key holds it, but
the builder would not).

Where the compiled code calls BLAS or LAPACK (``@``, ``np.dot``, ``np.linalg``), numba's
runtime finds the kernels in SciPy's Cython modules, importing ``scipy.linalg`` whole on
the first call (about 0.15 s, most of such a first call).  The build records which of the
two modules the code calls (``"kernels"`` in the argument-type file); the first call loads
just those extension modules, about 10 ms, and puts them back out of ``sys.modules``
afterwards (``scipy.linalg`` imported later finds the same modules, as it would have).

``python -m s2s.numba_aot <module> <entry> <argument types>`` builds one; :func:`build` is
what it runs.
"""
from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import warnings
from typing import Any, Callable, Iterator

import numpy as np

__all__ = ["AheadOfTime", "argument_types", "build", "built_paths", "kernel_modules",
           "kernels_loaded", "load_built"]

_SCALARS = {"float64": float, "float32": np.float32, "int64": int, "bool": bool}


def built_paths(module_path: str) -> tuple[str, str, str]:
    """(the extension's module name, its file, the file of its argument types)."""
    directory, file = os.path.split(module_path)
    name = file[:-len(".py")] + "_aot"
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return name, os.path.join(directory, name + suffix), os.path.join(directory, name + ".json")


def argument_types(numba_types) -> list[dict] | None:
    """numba's types of a call's arguments as plain data, or None when one is of a kind the
    ahead-of-time module is not built for."""
    from numba.core import types
    described = []
    for kind in numba_types:
        if isinstance(kind, types.Array):
            dtype = str(kind.dtype)
            if dtype not in ("float64", "float32") or kind.layout not in ("C", "A") \
                    or not kind.mutable or not kind.aligned:
                return None
            described.append({"array": dtype, "ndim": kind.ndim, "layout": kind.layout})
        elif str(kind) in _SCALARS:
            described.append({"scalar": str(kind)})
        else:
            return None
    return described


def _numba_types(described: list[dict]):
    from numba.core import types
    return tuple(types.Array(getattr(types, d["array"]), d["ndim"], d["layout"])
                 if "array" in d else getattr(types, d["scalar"]) for d in described)


def _acceptor(described: list[dict]) -> Callable[[tuple], bool]:
    """Whether a call's arguments have exactly the types ``described`` (what numba's typeof
    would give them), written out for their number."""
    tests = [f"len(args) == {len(described)}"]
    for index, d in enumerate(described):
        value = f"args[{index}]"
        if "array" in d:
            char = np.dtype(d["array"]).char
            test = (f"{value}.__class__ is ndarray and {value}.dtype.char == {char!r} and "
                    f"{value}.ndim == {d['ndim']} and {value}.flags.writeable and "
                    f"{value}.flags.aligned")
            if d["layout"] == "C":
                test += f" and {value}.flags.c_contiguous"
        else:
            test = f"{value}.__class__ is {_SCALARS[d['scalar']].__name__}"
        tests.append(f"({test})")
    source = "def accepts(args):\n    return " + " and ".join(tests) + "\n"
    namespace = {"ndarray": np.ndarray, "float32": np.float32}
    exec(compile(source, "<s2s ahead-of-time argument test>", "exec"), namespace)
    return namespace["accepts"]


# numba's runtime functions that call BLAS (numba/_lapack.c); its other ``numba_xx*`` and
# ``numba_ez_*`` functions call LAPACK
_BLAS_CALLS = ("numba_xxdot", "numba_xxgemv", "numba_xxgemm", "numba_xxnrm2")
_KERNEL_CALL = re.compile(r"^declare [^@]*@(numba_(?:xx|ez_)\w+)\(", re.MULTILINE)


def kernel_modules(llvm_text: str) -> list[str]:
    """SciPy's Cython modules (``scipy.linalg.cython_blas``, ``..._lapack``) whose kernels
    the compiled code calls, from the LLVM text of its module."""
    calls = set(_KERNEL_CALL.findall(llvm_text))
    modules = []
    if calls & set(_BLAS_CALLS):
        modules.append("scipy.linalg.cython_blas")
    if calls - set(_BLAS_CALLS):
        modules.append("scipy.linalg.cython_lapack")
    return modules


@contextlib.contextmanager
def kernels_loaded(modules: list[str]) -> Iterator[None]:
    """``modules`` (of :func:`kernel_modules`) in ``sys.modules`` for the duration, each
    loaded alone from its file rather than through ``scipy.linalg``; afterwards those this
    loaded are taken out again unless ``scipy.linalg`` was imported meanwhile (then they
    become its attributes, as its own import would have made them).  numba's runtime keeps
    each kernel it found, so one call with them loaded is enough for the kernels it
    reached; any other it finds later through the usual import."""
    added: dict[str, Any] = {}
    for name in modules:
        if name in sys.modules:
            continue
        module = None
        try:
            scipy = importlib.util.find_spec("scipy")
            if scipy is None or not scipy.submodule_search_locations:
                break
            linalg = os.path.join(list(scipy.submodule_search_locations)[0], "linalg")
            finder = importlib.machinery.FileFinder(linalg, (
                importlib.machinery.ExtensionFileLoader,
                importlib.machinery.EXTENSION_SUFFIXES))
            spec = finder.find_spec(name)
            if spec is None:
                break
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            added[name] = module
        except Exception:          # pragma: no cover - any other SciPy: the usual import
            if module is not None and sys.modules.get(name) is module:
                del sys.modules[name]
            break
    try:
        yield
    finally:
        package = sys.modules.get("scipy.linalg")
        for name, module in added.items():
            if package is not None:
                setattr(package, name.rsplit(".", 1)[1], module)
            elif sys.modules.get(name) is module:
                del sys.modules[name]


class AheadOfTime:
    """The entry of an extension module built by :func:`build`, for arguments of its one
    signature; the JIT dispatcher (``jit()``, imported on first need) for any others.
    ``kernels``: the SciPy modules its first call loads (:func:`kernels_loaded`)."""

    signatures = ("ahead of time",)           # compiled already: an error is the code's own

    def __init__(self, function: Callable[..., Any], accepts: Callable[[tuple], bool],
                 jit: Callable[[], Callable[..., Any]], kernels: list[str] = ()):
        self.function, self.accepts, self.jit = function, accepts, jit
        self.kernels = list(kernels)
        self.dispatcher: Callable[..., Any] | None = None

    def just_in_time(self) -> Callable[..., Any]:
        """numba's JIT dispatcher of the same code (imported once)."""
        if self.dispatcher is None:
            self.dispatcher = self.jit()
        return self.dispatcher

    def __call__(self, *args: Any) -> Any:
        if self.accepts(args):
            if self.kernels:
                kernels, self.kernels = self.kernels, []
                with kernels_loaded(kernels):
                    return self.function(*args)
            return self.function(*args)
        return self.just_in_time()(*args)


def load_built(module_path: str, entry: str, jit: Callable[[], Callable[..., Any]]
               ) -> AheadOfTime | None:
    """The extension built for ``module_path``, if there is one that imports, else None."""
    name, extension, types_file = built_paths(module_path)
    if not (os.path.exists(types_file) and os.path.exists(extension)):
        return None
    try:
        with open(types_file, encoding="utf-8") as handle:
            built = json.load(handle)
        loader = importlib.machinery.ExtensionFileLoader(name, extension)
        spec = importlib.util.spec_from_file_location(name, extension, loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return AheadOfTime(getattr(module, entry), _acceptor(built["arguments"]), jit,
                           built["kernels"])
    except (ImportError, OSError, ValueError, AttributeError, KeyError, TypeError):
        return None                         # not loadable here: the JIT path


def build(module_path: str, entry: str, described: list[dict]) -> str:
    """Build the extension for ``module_path``'s ``entry`` taking ``described`` arguments
    (see the module docstring); its file.  Needs numba and a C compiler."""
    import numba
    from numba.pycc import CC
    import numba.pycc.compiler as pycc_compiler

    name, extension, types_file = built_paths(module_path)
    spec = importlib.util.spec_from_file_location(
        "s2s_numba." + os.path.basename(module_path)[:-len(".py")], module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    dispatcher = getattr(module, entry)
    arguments = _numba_types(described)
    dispatcher.compile(arguments)
    signature = dispatcher.overloads[arguments].signature

    class Flags(pycc_compiler.Flags):          # the JIT's flags: NumPy's errors, bounds
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.error_model = "numpy"
            self.boundscheck = True

    linked: list[str] = []                     # the LLVM text of the exported code
    cull_exports = pycc_compiler.ModuleCompiler._cull_exports

    def culled(compiler):
        library = cull_exports(compiler)
        linked.append(library.get_llvm_str())
        return library

    directory = os.path.dirname(module_path)
    with tempfile.TemporaryDirectory(dir=directory) as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaPendingDeprecationWarning)
        original, pycc_compiler.Flags = pycc_compiler.Flags, Flags
        pycc_compiler.ModuleCompiler._cull_exports = culled
        try:
            compiler = CC(name)
            compiler.output_dir = scratch
            compiler.verbose = False
            compiler.export(entry, signature)(dispatcher.py_func)
            compiler.compile()
        finally:
            pycc_compiler.Flags = original
            pycc_compiler.ModuleCompiler._cull_exports = cull_exports
        built = [f for f in os.listdir(scratch) if f.startswith(name) and f != name]
        os.replace(os.path.join(scratch, built[0]), extension)
    temporary = f"{types_file}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"arguments": described, "kernels": kernel_modules("".join(linked))}, handle)
    os.replace(temporary, types_file)          # written last: the pair is complete
    return extension


def can_build() -> bool:
    """numba's ahead-of-time compiler, the setuptools it runs on and a C compiler are all
    here."""
    if importlib.util.find_spec("setuptools") is None \
            or importlib.util.find_spec("numba.pycc") is None:
        return False
    return any(shutil.which(cc) for cc in (os.environ.get("CC", "cc"), "cc", "gcc", "clang"))


def main(argv: list[str]) -> int:
    module_path, entry, described = argv[0], argv[1], json.loads(argv[2])
    print(build(module_path, entry, described))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
