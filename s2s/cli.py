"""The command line: ``python -m s2s show | export | check module:function``.

``module`` is a dotted module importable from the current directory, or the path of a
``.py`` file; ``function`` a name in it (dotted for attributes: ``Model.loss``).

* ``show``   prints the generated derivative code (coloured on a terminal);
* ``export`` writes it as a standalone module that imports only NumPy (:mod:`s2s.export`);
* ``check``  runs :func:`s2s.check` at the point given by ``--at name=value`` (repeated,
  or several bindings in one: ``--at "x=[0.5, -1.0],w=0.7"``) and prints the report;
  exit status 1 when the methods disagree.

Errors about the target (module or function not found, a construct s2s cannot transform)
print one line on stderr and exit with status 2.

The highlighting (shared with notebooks) lives in :mod:`s2s.display`.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import io
import os
import sys
import tokenize
from typing import Any, Callable, Sequence

from .display import highlight_ansi, highlight_html, markdown_code

__all__ = ["highlight_ansi", "highlight_html", "load_target", "main", "markdown_code"]


class CommandError(Exception):
    """A problem with what the command line asked for: reported in one line, status 2."""


def _use_colour(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):          # https://no-color.org: set and not empty
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# --- finding the function ----------------------------------------------------------------

def _looks_like_path(text: str) -> bool:
    return text.endswith(".py") or "/" in text or os.sep in text or os.path.isfile(text)


def _load_module(text: str):
    if _looks_like_path(text):
        path = os.path.abspath(text)
        if not os.path.isfile(path):
            raise CommandError(f"no such file: {text}")
        name = os.path.splitext(os.path.basename(path))[0]
        if not name.isidentifier():
            name = "_s2s_target"
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)             # as `python file.py` would
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise CommandError(f"cannot import {text} as a Python module")
        module = importlib.util.module_from_spec(spec)
        previous = sys.modules.get(name)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
            raise CommandError(f"importing {text} failed: {_one_line(exc)}") from exc
        return module
    if not all(part.isidentifier() for part in text.split(".")):
        raise CommandError(f"'{text}' is neither a dotted module name nor a .py file")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(text)
    except ModuleNotFoundError as exc:
        if exc.name and (text == exc.name or text.startswith(exc.name + ".")):
            raise CommandError(f"no module named '{text}' (looked in the current directory "
                               "and on sys.path; give a .py path instead?)") from exc
        raise CommandError(f"importing {text} failed: {_one_line(exc)}") from exc
    except Exception as exc:
        raise CommandError(f"importing {text} failed: {_one_line(exc)}") from exc


def load_target(spec: str) -> Callable[..., Any]:
    """The function named by ``module:function`` (``module`` dotted, or a .py path)."""
    module_text, colon, function_text = spec.rpartition(":")
    if not colon or not module_text or not function_text:
        raise CommandError(f"'{spec}' is not module:function (e.g. model.py:loss or "
                           "package.model:loss)")
    module = _load_module(module_text)
    target: Any = module
    for part in function_text.split("."):
        if not hasattr(target, part):
            known = sorted(name for name, value in vars(module).items()
                           if callable(value) and not name.startswith("_")
                           and getattr(value, "__module__", None) == module.__name__)
            where = module_text if target is module else f"{module_text}:{function_text}"
            hint = f"; it defines: {', '.join(known)}" if known else ""
            raise CommandError(f"{where} has no function '{part}'{hint}")
        target = getattr(target, part)
    if not callable(target):
        raise CommandError(f"{spec} is a {type(target).__name__}, not a function")
    return target


# --- arguments ---------------------------------------------------------------------------

def _wrt(values: Sequence[str] | None) -> Any:
    """``--wrt x --wrt w`` or ``--wrt x,w`` (names or positions); None when not given."""
    if not values:
        return None
    items: list[Any] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            items.append(int(item) if item.lstrip("-").isdigit() else item)
    if not items:
        raise CommandError("--wrt is empty")
    return items[0] if len(items) == 1 else tuple(items)


def _differentiable(target: Any, wrt: Any):
    from .export import strict_differentiable
    return strict_differentiable(target, wrt)


def _value(text: str, name: str) -> Any:
    """A value given on the command line: a Python literal, or an expression using np."""
    import numpy as np
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        try:
            value = eval(text, {"__builtins__": {}, "np": np, "numpy": np})  # noqa: S307
        except Exception as exc:
            raise CommandError(f"--at {name}={text}: not a number, a list or a NumPy "
                               f"expression ({_one_line(exc)})") from None
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except ValueError:
            raise CommandError(f"--at {name}={text}: not a rectangular array (its rows have "
                               "different lengths)") from None
    return value


def _bindings(setting: str) -> list[str]:
    """``"x=[0.5, -1.0],w=0.7"`` split into ``["x=[0.5, -1.0]", "w=0.7"]``: at each comma
    outside brackets that is followed by ``name=`` (up to where it stops tokenizing: the
    rest is one value, whose error then names it)."""
    if "\n" in setting:
        return [setting]
    tokens = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(setting).readline):
            if token.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                tokens.append(token)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    cuts, depth = [], 0
    for i, token in enumerate(tokens):
        if token.type != tokenize.OP:
            continue
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
        elif (token.string == "," and depth == 0 and i + 2 < len(tokens)
              and tokens[i + 1].type == tokenize.NAME and tokens[i + 2].string == "="):
            cuts.append(token.start[1])
    starts = [0] + [cut + 1 for cut in cuts]
    ends = cuts + [len(setting)]
    return [setting[start:end].strip() for start, end in zip(starts, ends)]


def _point(differentiable: Any, settings: Sequence[str]) -> list:
    """The arguments of the function from ``--at name=value`` settings (defaults for the
    rest), one per parameter it is differentiated with (a partial's bound ones excluded)."""
    import numpy as np
    base, wrt_names = differentiable.function, differentiable.wrt_names
    values: dict[str, Any] = {}
    parameters = differentiable.signature.parameters
    for setting in (binding for given in settings for binding in _bindings(given)):
        name, equals, text = setting.partition("=")
        name = name.strip()
        if not equals or not name:
            raise CommandError(f"--at {setting!r}: write name=value, e.g. --at x=1.5")
        if name not in parameters:
            raise CommandError(f"--at {name}=...: {_title(base)} has no parameter '{name}'; "
                               f"its parameters are {', '.join(parameters)}")
        value = _value(text.strip(), name)
        if name in wrt_names and isinstance(value, np.ndarray) and value.dtype.kind in "iub":
            value = value.astype(np.float64)
        values[name] = value
    arguments = []
    missing = []
    for name, parameter in parameters.items():
        if name in values:
            arguments.append(values[name])
        elif parameter.default is not inspect.Parameter.empty:
            arguments.append(parameter.default)
        else:
            missing.append(name)
    if missing:
        raise CommandError("give a value for " + ", ".join(missing) + " with --at "
                           + " --at ".join(f"{name}=..." for name in missing))
    return arguments


def _title(function: Any) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


def _one_line(error: BaseException) -> str:
    """An exception as one line (an UnsupportedError as file:line:col: message (hint))."""
    from .errors import UnsupportedError
    if isinstance(error, UnsupportedError):
        where = ""
        if error.location is not None:
            loc = error.location
            where = f"{loc.filename}:{loc.line}:{loc.col + 1}: "
        hint = f" (hint: {error.hint})" if error.hint else ""
        return " ".join(f"{where}{error.message}{hint}".split())
    text = " ".join(str(error).split())
    if isinstance(error, CommandError) or type(error).__module__.startswith("s2s"):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the commands ------------------------------------------------------------------------

def _show(args: argparse.Namespace) -> int:
    differentiable = _differentiable(load_target(args.target), _wrt(args.wrt))
    text = differentiable.source if args.mode == "reverse" else differentiable.forward_source
    if _use_colour(args.color, sys.stdout):
        text = highlight_ansi(text)
    sys.stdout.write(text)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export
    target = load_target(args.target)
    to_stdout = args.output in (None, "-")
    text = export(target, None if to_stdout else args.output, wrt=_wrt(args.wrt),
                  mode=args.mode)
    if to_stdout:
        sys.stdout.write(text)
    else:
        names = ast.literal_eval(text.rsplit("__all__ = ", 1)[1])
        print(f"wrote {args.output}: {', '.join(names)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .verify import GradientMismatch, check
    differentiable = _differentiable(load_target(args.target), _wrt(args.wrt))
    arguments = _point(differentiable, args.at or [])
    wrt = differentiable.wrt_names[0] if differentiable.single else differentiable.wrt_names
    try:
        report = check(differentiable.function, *arguments, wrt=wrt, order=args.order,
                       seed=args.seed)
    except GradientMismatch as mismatch:
        print(mismatch.report)
        print(f"s2s check: the derivatives of {args.target} disagree", file=sys.stderr)
        return 1
    print(report)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m s2s",
        description="Show, export or check the derivative code s2s generates for a function.",
        epilog="TARGET is module:function, with module a dotted module importable from the "
               "current directory or the path of a .py file, e.g. model.py:loss.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def target_options(command: argparse.ArgumentParser, modes: bool = True) -> None:
        command.add_argument("target", metavar="TARGET",
                             help="module:function, e.g. model.py:loss or package.model:loss")
        command.add_argument("--wrt", action="append", metavar="NAME",
                             help="the parameter(s) to differentiate with respect to: names "
                                  "or positions, repeated or comma-separated (default: the "
                                  "decorator's, else the first parameter)")
        if modes:
            command.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                                 help="reverse mode (vjp_<name>, default) or forward mode "
                                      "(jvp_<name>)")
        command.add_argument("--traceback", action="store_true",
                             help="on an error, show the Python traceback")

    show = commands.add_parser("show", help="print the generated derivative code",
                               description="Print the derivative code s2s generates for "
                                           "TARGET (coloured when printing to a terminal, "
                                           "unless NO_COLOR is set).")
    target_options(show)
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the code: auto (default: on a terminal without NO_COLOR)")
    show.set_defaults(run=_show)

    export = commands.add_parser(
        "export", help="write the derivative code as a standalone module",
        description="Write the derivative code of TARGET as a module that imports only "
                    "NumPy: the s2s runtime helpers it calls are copied in, and it defines "
                    "grad_<name> and value_and_grad_<name> with the function's parameters.")
    target_options(export)
    export.add_argument("-o", "--output", metavar="FILE",
                        help="the file to write, e.g. grad_loss.py (default: standard output)")
    export.set_defaults(run=_export)

    check = commands.add_parser(
        "check", help="compare the derivative computed every available way",
        description="Run s2s.check on TARGET at the point given by --at: generated reverse "
                    "and forward code, the tape, finite differences and sympy where it "
                    "applies. Exit status 1 when they disagree.")
    target_options(check, modes=False)
    check.add_argument("--at", action="append", metavar="NAME=VALUE",
                       help="an argument: a number, a list, or a NumPy expression "
                            "(e.g. --at x=1.5 --at 'w=[1, 2]' --at 'v=np.ones(3)'), or several "
                            "separated by commas (--at 'x=[1, 2],w=0.7'); parameters not "
                            "given take their defaults")
    check.add_argument("--order", type=int, choices=(1, 2), default=1,
                       help="2 also compares Hessian-vector products")
    check.add_argument("--seed", type=int, default=0,
                       help="the seed of the random cotangent and direction (default 0)")
    check.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except Exception as error:               # one line, no traceback (unless --traceback)
        if args.traceback:
            raise
        print(f"s2s {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
