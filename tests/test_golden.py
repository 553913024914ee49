"""Generated code is reviewed like a colleague's: golden files, and byte-identical reruns.

Set S2S_UPDATE_GOLDEN=1 to rewrite tests/golden/*.py after a deliberate codegen change,
then read the diff before committing it.
"""
import os
import pathlib
import subprocess
import sys

import pytest

import s2s
from golden_functions import GOLDEN

GOLDEN_DIR = pathlib.Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_generated_source_matches_golden_file(name):
    function, wrt = GOLDEN[name]
    source = s2s.differentiate(function, wrt=wrt).source
    path = GOLDEN_DIR / f"{name}.py"
    if os.environ.get("S2S_UPDATE_GOLDEN"):
        path.write_text(source)
    assert source == path.read_text(), f"generated code for {name} changed; review the diff"


def _sources_in_fresh_process(hash_seed: str) -> str:
    program = (
        "import s2s, golden_functions as g\n"
        "for name in sorted(g.GOLDEN):\n"
        "    function, wrt = g.GOLDEN[name]\n"
        "    print(s2s.differentiate(function, wrt=wrt).source)\n"
    )
    root = str(pathlib.Path(__file__).parent.parent)
    environment = dict(os.environ, PYTHONHASHSEED=hash_seed,
                       PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            cwd=pathlib.Path(__file__).parent, env=environment, check=True)
    return result.stdout


def test_two_fresh_processes_generate_identical_code():
    # different hash seeds: set and dict iteration orders differ between the two runs
    first, second = _sources_in_fresh_process("1"), _sources_in_fresh_process("2")
    assert first and first == second
