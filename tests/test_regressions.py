"""Every saved program in tests/regressions/ checked like tests/test_random_programs.py.

Each file is a module defining ``f(x, y)`` (and its helpers) and ``INPUT = (x, y)``.
A file whose program still fails because of a known bug sets ``XFAIL = "<the bug>"``;
the test is then a strict xfail (it fails once the bug is fixed, as a reminder to delete
the ``XFAIL`` line so the program stays a regression test).
"""
import ast
import os
from pathlib import Path

import pytest

from programs import check_program, load_file

DIRECTORY = Path(__file__).parent / "regressions"
FILES = sorted(p for p in DIRECTORY.glob("*.py") if not p.name.startswith("_"))


def _xfail(path: Path) -> str | None:
    """The module's ``XFAIL`` constant, read without importing it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["XFAIL"]:
            return ast.literal_eval(node.value)
    return None


def _param(path: Path):
    reason = _xfail(path)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in FILES])
def test_regression(path):
    module = load_file(str(path), f"_s2s_regression_{path.stem}_{os.getpid()}")
    x, y = module.INPUT
    check_program(module.f, x, y)
