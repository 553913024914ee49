"""Random programs (tests/programs.py): generated code vs finite differences vs the tape;
and random programs holding one construct without a rule, which s2s must refuse.

Profiles, chosen by the environment variable ``S2S_RANDOM_PROGRAMS``:

* ``ci`` (the default): 300 programs, derandomized, so every run tests the same programs;
* ``long``: 10,000 programs, derandomized.

For exploration, ``S2S_RANDOM_PROGRAMS_SEED=<int>`` draws other programs (not
derandomized), ``S2S_RANDOM_PROGRAMS_EXAMPLES=<n>`` changes how many, and
``S2S_RANDOM_PROGRAMS_SAVE=<dir>`` writes each failing program (the last one written is
the shrunk one) as ``<dir>/last_failure.py`` in the format of tests/regressions/.

Grammar features that trigger a known, not yet fixed bug are left out of the programs
(``KNOWN_BUGS``: feature -> the regression files showing the bug), so the suite stays
green; ``S2S_RANDOM_PROGRAMS_ALL=1`` generates them anyway.  After fixing a bug, delete
its entry here and the ``XFAIL`` line of its files in tests/regressions/.  The refusal test
runs a third as many programs.
"""
import os

import pytest
from hypothesis import HealthCheck, Phase, assume, given, note, seed, settings

import programs as grammar
import s2s
from programs import (Rejected, check_program, executed_lines, inputs, load, programs,
                      refused_programs, regression_module)
from s2s.errors import MissingRuleError, UnsupportedError
from s2s.tape import vjp_with_tape

KNOWN_BUGS = {
    # a limitation: writing to an array a loop iterates over, then rebinding its name, is
    # refused conservatively (never a wrong gradient)
    "rebind iterated": ("write_then_rebind_an_iterated_array.py",),
}

# constructs of grammar.REFUSED that the tape does not refuse yet (source mode does)
TAPE_KNOWN_BUGS = {
}

# no "explain" phase: its line tracing makes a failing run many times slower
_COMMON = dict(deadline=None, derandomize=True, database=None, print_blob=True,
               phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=300, **_COMMON)
settings.register_profile("long", max_examples=10_000, **_COMMON)

_PROFILE = os.environ.get("S2S_RANDOM_PROGRAMS", "ci")
_SEED = os.environ.get("S2S_RANDOM_PROGRAMS_SEED")
_EXAMPLES = os.environ.get("S2S_RANDOM_PROGRAMS_EXAMPLES")
_SAVE = os.environ.get("S2S_RANDOM_PROGRAMS_SAVE")

_settings = settings(settings.get_profile(_PROFILE))
if _EXAMPLES:
    _settings = settings(_settings, max_examples=int(_EXAMPLES))
if _SEED:
    _settings = settings(_settings, derandomize=False)


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("random_programs"))


@pytest.fixture(scope="module", autouse=True)
def leave_out_known_bugs():
    saved = set(grammar.DISABLED)
    if not os.environ.get("S2S_RANDOM_PROGRAMS_ALL"):
        grammar.DISABLED.update(KNOWN_BUGS)
    yield
    grammar.DISABLED.clear()
    grammar.DISABLED.update(saved)


def _seeded(test):
    return seed(int(_SEED))(test) if _SEED else test


@_seeded
@_settings
@given(source=programs(), point=inputs())
def test_generated_code_matches_finite_differences_and_tape(directory, source, point):
    x, y = point
    note(f"program:\n{source}\nx = {x!r}, y = {y!r}")
    module = load(source, directory)
    try:
        check_program(module.f, x, y, note=note)
    except Rejected as reason:
        note(f"rejected: {reason}")
        assume(False)
    except BaseException:
        if _SAVE:
            os.makedirs(_SAVE, exist_ok=True)
            with open(os.path.join(_SAVE, "last_failure.py"), "w") as handle:
                handle.write(regression_module(source, x, y))
        raise


_refusal_settings = settings(_settings, max_examples=max(_settings.max_examples // 3, 1))


@_seeded
@_refusal_settings
@given(drawn=refused_programs(), point=inputs())
def test_constructs_without_a_rule_are_refused(directory, drawn, point):
    """A construct with no rule (np.r_, np.c_, x.tobytes(), x.flat, np.unwrap, x.tolist())
    on a differentiated value, somewhere in a random program: s2s refuses it with an error
    naming the program's file and the construct's line (reverse and forward mode), and so
    does the tape whenever the construct runs; never a gradient.  The programs are not
    differentiated numerically: a test of refusals only, fast."""
    source, line, construct = drawn
    x, y = point
    note(f"program:\n{source}\nconstruct {construct!r} on line {line}; x = {x!r}, y = {y!r}")
    module = load(source, directory, stem="refused")
    ran = line in executed_lines(module.f, x.copy(), y)      # a valid program: it runs
    where = f"{module.__file__}:{line}:"
    for wrt in ((0, 1), 1):                                   # reverse mode, forward mode
        with pytest.raises((MissingRuleError, UnsupportedError)) as refusal:
            s2s.differentiate(module.f, wrt=wrt, fallback="error").grad(x.copy(), y)
        assert where in str(refusal.value), (wrt, str(refusal.value))
    if ran and construct not in TAPE_KNOWN_BUGS:
        # refused, or a program the tape cannot run (check_program's TAPE_CANNOT): no gradient
        with pytest.raises(grammar.TAPE_CANNOT):
            _, pullback = vjp_with_tape(module.f, (x.copy(), y), {}, (0, 1))
            pullback()


def test_known_bugs_have_regression_files():
    from test_regressions import DIRECTORY, _xfail
    for feature, files in KNOWN_BUGS.items():
        for name in files:
            path = DIRECTORY / name
            assert path.exists(), (feature, name)
            assert _xfail(path), f"{name} passes now? remove {feature!r} from KNOWN_BUGS"
