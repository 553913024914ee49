"""Every example runs and prints what it promises."""
import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def run(name: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, check=True, timeout=120)
    return result.stdout


def test_demo_prints_function_code_and_values():
    output = run("demo.py")
    assert "def f(x):" in output
    assert "def vjp_f(x):" in output and "def pullback(" in output
    assert "f(x) = 4.5" in output
    assert "[[-1.5  0. ]\n [ 1.5  3. ]]" in output
    assert "db = [4. 4.]" in output
