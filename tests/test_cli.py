"""The command line: python -m s2s show / export / check, run as a user would."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2s

MODULE = textwrap.dedent('''\
    import numpy as np

    import s2s


    def f(x, w):
        total = 0.0
        for i in range(3):
            if x[i] > 0:
                total = total + w * x[i] ** 2
            else:
                total = total - np.sin(x[i]) * w
        return total


    @s2s.differentiate(wrt="w")
    def g(x, w):
        return np.sum(np.tanh(x * w))


    def detached(x):
        return np.sum(s2s.stop_gradient(x) * x)


    def guarded(x):
        try:
            return x * 2
        except ValueError:
            return x


    NOT_A_FUNCTION = 3
''')

ANSI = "\x1b["


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "model.py").write_text(MODULE)
    return tmp_path


def run(folder, *arguments, env=None, **options):
    environment = dict(os.environ)
    environment.pop("NO_COLOR", None)
    environment.update(env or {})
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run([sys.executable, "-m", "s2s", *arguments], cwd=folder, text=True,
                          timeout=300, env=environment, **streams)


def load_model(folder):
    spec = importlib.util.spec_from_file_location("model", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_one_line_error(done, *fragments):
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# --- help --------------------------------------------------------------------------------

@pytest.mark.parametrize("command, option", [(None, "COMMAND"), ("show", "--mode"),
                                             ("export", "--output"), ("check", "--at")])
def test_help(folder, command, option):
    done = run(folder, *([command] if command else []), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m s2s") and option in done.stdout


def test_no_command_prints_usage_and_fails(folder):
    done = run(folder)
    assert done.returncode == 2 and "usage:" in done.stderr


# --- show --------------------------------------------------------------------------------

def test_show_a_file_prints_the_generated_code(folder):
    done = run(folder, "show", "model.py:f")
    assert done.returncode == 0, done.stderr
    assert "def vjp_f(x, w):" in done.stdout and ANSI not in done.stdout   # a pipe: no colour
    assert done.stdout == s2s.differentiate(load_model(folder).f).source


def test_show_a_dotted_module_from_the_current_directory(folder):
    (folder / "package").mkdir()
    (folder / "package" / "__init__.py").write_text("")
    (folder / "package" / "inner.py").write_text(MODULE)
    done = run(folder, "show", "package.inner:f", "--wrt", "x,w", "--mode", "forward")
    assert done.returncode == 0, done.stderr
    assert "def jvp_f(x, w, x_d, w_d):" in done.stdout


def test_show_uses_the_decorators_wrt(folder):
    done = run(folder, "show", "model:g")
    assert done.returncode == 0, done.stderr
    assert "return w_b" in done.stdout and "x_b" not in done.stdout
    done = run(folder, "show", "model:g", "--wrt", "x")
    assert "return x_b" in done.stdout


def test_show_colours_a_terminal_unless_no_color(folder):
    pty = pytest.importorskip("pty")

    def through_a_terminal(env):
        """Run `show` with its standard output on a pseudo-terminal; what it printed."""
        leader, follower = pty.openpty()
        try:
            done = run(folder, "show", "model.py:f", env=env, stdout=follower)
        finally:
            os.close(follower)
        chunks = []
        try:
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:                 # Linux: EIO once the other side is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(leader)
        assert done.returncode == 0, done.stderr
        return b"".join(chunks).decode()

    coloured = through_a_terminal({})
    assert ANSI in coloured and "vjp_f" in coloured
    plain = through_a_terminal({"NO_COLOR": "1"})
    assert ANSI not in plain and "def vjp_f(x, w):" in plain


def test_show_color_always_and_never(folder):
    assert ANSI in run(folder, "show", "model.py:f", "--color", "always").stdout
    assert ANSI not in run(folder, "show", "model.py:f", "--color", "never").stdout


# --- export ------------------------------------------------------------------------------

def test_export_writes_a_standalone_module(folder):
    done = run(folder, "export", "model.py:f", "-o", "grad_f.py", "--wrt", "x")
    assert done.returncode == 0, done.stderr
    assert "grad_f.py" in done.stdout
    text = (folder / "grad_f.py").read_text()
    assert "def vjp_f(x, w):" in text and "def grad_f(x, w):" in text
    assert "def value_and_grad_f(x, w):" in text
    assert not re.search(r"^\s*(import|from)\s+s2s", text, re.MULTILINE)
    spec = importlib.util.spec_from_file_location("grad_f", folder / "grad_f.py")
    exported = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exported)
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(exported.grad_f(x, 1.5), s2s.grad(load_model(folder).f)(x, 1.5),
                               rtol=1e-12)


def test_export_is_byte_identical_on_every_run(folder):
    first = run(folder, "export", "model.py:f", "-o", "one.py", env={"PYTHONHASHSEED": "1"})
    second = run(folder, "export", "model.py:f", "-o", "two.py", env={"PYTHONHASHSEED": "2"})
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert (folder / "one.py").read_bytes() == (folder / "two.py").read_bytes()
    to_stdout = run(folder, "export", "model.py:f")
    assert to_stdout.stdout.encode() == (folder / "one.py").read_bytes()


def test_export_forward_mode(folder):
    done = run(folder, "export", "model.py:f", "--mode", "forward", "-o", "jvp.py")
    assert done.returncode == 0, done.stderr
    assert "def jvp_f(x, w, x_d):" in (folder / "jvp.py").read_text()


# --- check -------------------------------------------------------------------------------

def test_check_prints_the_report(folder):
    done = run(folder, "check", "model.py:f", "--at", "x=[0.5, -1.0, 2.0]", "--at", "w=1.5",
               "--wrt", "x", "--wrt", "w")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("s2s.check of f")
    for method in ("finite differences", "source", "forward (u.Jv)"):
        assert method in done.stdout
    assert "ok" in done.stdout and "MISMATCH" not in done.stdout


def test_check_accepts_numpy_expressions_and_order_two(folder):
    done = run(folder, "check", "model.py:f", "--at", "x=np.linspace(-1, 1, 3) + 0.1",
               "--at", "w=2", "--order", "2")
    assert done.returncode == 0, done.stderr
    assert "hvp (fwd-over-rev)" in done.stdout


def test_check_accepts_several_bindings_in_one_at(folder):
    """--at "x=[..],w=0.7" gives the same report as --at x=[..] --at w=0.7."""
    together = run(folder, "check", "model.py:f", "--at", "x=[0.5, -1.0, 2.0],w=0.7",
                   "--wrt", "x,w")
    apart = run(folder, "check", "model.py:f", "--at", "x=[0.5, -1.0, 2.0]", "--at", "w=0.7",
                "--wrt", "x,w")
    assert together.returncode == 0, together.stderr
    assert together.stdout == apart.stdout
    mixed = run(folder, "check", "model.py:f", "--at", "x=np.linspace(-1, 1, 3) + 0.1, w = 2",
                "--order", "2")
    assert mixed.returncode == 0, mixed.stderr


@pytest.mark.parametrize("setting, expected", [
    ("x=[0.5, -1.0],w=0.7", ["x=[0.5, -1.0]", "w=0.7"]),
    ("x=1,2", ["x=1,2"]),                                   # a tuple, as before
    ("x=np.full(3, fill_value=2), w=np.e", ["x=np.full(3, fill_value=2)", "w=np.e"]),
    ("x='a,b=3',w=1", ["x='a,b=3'", "w=1"]),
    ("x=[1, 2", ["x=[1, 2"]),                               # left whole: its value's error
    ("w=1,x=[1, 2", ["w=1", "x=[1, 2"]),
    ("x=1,w==2", ["x=1,w==2"]),
])
def test_bindings_split_at_top_level_commas_before_a_name(setting, expected):
    from s2s.cli import _bindings
    assert _bindings(setting) == expected


def test_check_with_a_bad_value_among_several_bindings(folder):
    assert_one_line_error(run(folder, "check", "model.py:f", "--at", "w=1,x=[1, 2"), "--at x=")
    assert_one_line_error(run(folder, "check", "model.py:f", "--at", "x=[1, 2, 3],z=1"),
                          "no parameter 'z'")


def test_check_exits_1_on_a_mismatch(folder):
    """stop_gradient: the generated code drops a term that finite differences keep."""
    done = run(folder, "check", "model.py:detached", "--at", "x=[1.0, 2.0]")
    assert done.returncode == 1, done.stderr
    assert "MISMATCH" in done.stdout and "Traceback" not in done.stderr
    assert "disagree" in done.stderr


# --- errors: one line on stderr, exit status 2 ---------------------------------------------

def test_module_not_found(folder):
    assert_one_line_error(run(folder, "show", "nowhere:f"), "no module named 'nowhere'")


def test_file_not_found(folder):
    assert_one_line_error(run(folder, "export", "nowhere.py:f"), "no such file: nowhere.py")


def test_function_not_found(folder):
    assert_one_line_error(run(folder, "show", "model.py:h"), "no function 'h'", "f, g")


def test_not_a_function(folder):
    assert_one_line_error(run(folder, "show", "model.py:NOT_A_FUNCTION"), "not a function")


def test_target_without_a_colon(folder):
    assert_one_line_error(run(folder, "show", "model.py"), "module:function")


def test_unsupported_construct(folder):
    done = run(folder, "export", "model.py:guarded", "-o", "never.py")
    assert_one_line_error(done, "model.py:26:", "not supported", "hint:")
    assert not (folder / "never.py").exists()


def test_unknown_wrt(folder):
    assert_one_line_error(run(folder, "show", "model.py:f", "--wrt", "z"), "'z'")


def test_check_without_a_value_for_a_parameter(folder):
    assert_one_line_error(run(folder, "check", "model.py:f", "--at", "x=[1, 2, 3]"),
                          "--at w=")


def test_check_with_a_bad_value(folder):
    assert_one_line_error(run(folder, "check", "model.py:f", "--at", "x=[1, 2",
                              "--at", "w=1"), "--at x=")


def test_import_error_inside_the_module(folder):
    (folder / "broken.py").write_text("import numpy as np\nraise RuntimeError('boom')\n")
    assert_one_line_error(run(folder, "show", "broken.py:f"), "RuntimeError: boom")


def test_traceback_on_request(folder):
    done = run(folder, "show", "model.py:h", "--traceback")
    assert done.returncode != 0 and "Traceback" in done.stderr
