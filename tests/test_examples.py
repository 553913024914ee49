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


def test_graph_picture_prints_the_tutorial_graph(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / "graph_picture.py"), str(tmp_path)],
                            capture_output=True, text=True, check=True, timeout=120)
    output = result.stdout
    assert "y.grad_fn: <SubBackward0>" in output
    assert "((<AccumulateGrad>, 0), (None, 0))" in output
    for name in ("MeanBackward0", "MulBackward0", "SubBackward0", "AccumulateGrad"):
        assert name in output
    assert '"x\\n (2, 2)"' in output
    assert "x.grad: tensor([[-1.5,  0. ],\n        [ 1.5,  3. ]])" in output
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
