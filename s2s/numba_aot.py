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
the builder would not).  ``python -m s2s.numba_aot <module> <entry> <argument types>`` builds
one; :func:`build` is what it runs.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import warnings
from typing import Any, Callable

import numpy as np

__all__ = ["AheadOfTime", "argument_types", "build", "built_paths", "load_built"]

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


class AheadOfTime:
    """The entry of an extension module built by :func:`build`, for arguments of its one
    signature; the JIT dispatcher (``jit()``, imported on first need) for any others."""

    signatures = ("ahead of time",)           # compiled already: an error is the code's own

    def __init__(self, function: Callable[..., Any], accepts: Callable[[tuple], bool],
                 jit: Callable[[], Callable[..., Any]]):
        self.function, self.accepts, self.jit = function, accepts, jit
        self.dispatcher: Callable[..., Any] | None = None

    def just_in_time(self) -> Callable[..., Any]:
        """numba's JIT dispatcher of the same code (imported once)."""
        if self.dispatcher is None:
            self.dispatcher = self.jit()
        return self.dispatcher

    def __call__(self, *args: Any) -> Any:
        if self.accepts(args):
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
            described = json.load(handle)
        loader = importlib.machinery.ExtensionFileLoader(name, extension)
        spec = importlib.util.spec_from_file_location(name, extension, loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return AheadOfTime(getattr(module, entry), _acceptor(described), jit)
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

    directory = os.path.dirname(module_path)
    with tempfile.TemporaryDirectory(dir=directory) as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaPendingDeprecationWarning)
        original, pycc_compiler.Flags = pycc_compiler.Flags, Flags
        try:
            compiler = CC(name)
            compiler.output_dir = scratch
            compiler.verbose = False
            compiler.export(entry, signature)(dispatcher.py_func)
            compiler.compile()
        finally:
            pycc_compiler.Flags = original
        built = [f for f in os.listdir(scratch) if f.startswith(name) and f != name]
        os.replace(os.path.join(scratch, built[0]), extension)
    temporary = f"{types_file}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(described, handle)
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
