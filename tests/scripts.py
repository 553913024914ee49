"""Run a Python script in a fresh interpreter (imports, module state and start-up as a user
gets them), for the tests that need a process of their own."""
import subprocess
import sys
import textwrap


def run_script(folder, name: str, script: str, timeout: float = 120) -> str:
    """Write ``script`` (dedented) to ``folder/name``, run it, assert it succeeded; its
    standard output, stripped."""
    path = folder / name
    path.write_text(textwrap.dedent(script))
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
