"""Shared by the Dask tests: a scheduler that raises, which proves no Dask graph is computed
before the test's own ``.compute()`` (any computation inside s2s would call it)."""


class Computed(Exception):
    """Raised by :func:`refuse_to_compute`: a Dask graph was computed."""


def refuse_to_compute(*args, **kwargs):
    raise Computed("a Dask graph was computed before the test's .compute()")
