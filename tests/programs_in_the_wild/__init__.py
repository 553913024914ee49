"""Programs written the way people write numerical Python (see README.md in this folder).

Each module ends with ``CASES``: one :class:`Case` per program, giving the function, a
``make_inputs(rng)`` returning its positional arguments (float64, small) and the positions
to differentiate.  tests/test_programs_in_the_wild.py checks every case.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Case:
    name: str
    function: Callable[..., Any]
    make_inputs: Callable[[Any], tuple]
    wrt: tuple[int, ...] = (0,)


MODULES = ("neural_nets", "statistics", "physics", "optimization_problems", "everyday_python")


def all_cases() -> list[Case]:
    """Every case of every module, in module order."""
    import importlib

    cases = []
    for name in MODULES:
        cases.extend(importlib.import_module(f"{__name__}.{name}").CASES)
    return cases
