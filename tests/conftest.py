import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


import pytest  # noqa: E402


@pytest.fixture
def numba_cache_dir(tmp_path_factory, monkeypatch):
    """numba's disk cache (``S2S_CACHE_DIR``) in the session's temporary directory."""
    directory = tmp_path_factory.getbasetemp() / "s2s-numba-cache"
    monkeypatch.setenv("S2S_CACHE_DIR", str(directory))
    return directory
