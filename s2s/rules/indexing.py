"""Rules for reading elements: ``x[i]``, ``x[a:b]``, ``x[mask]``, ``x[[0, 0, 2]]``."""
import operator

import numpy as np

from ..runtime import index_adjoint
from .registry import define


def getitem_vjp(g, ans, x, index):
    return index_adjoint(g, x, index)


def getitem_jvp(t, ans, x, index):
    return t[index]


define(operator.getitem, name="getitem", vjp=(getitem_vjp, None), jvp=(getitem_jvp, None),
       display="Index", linear=True, examples=({"index": 0}, {"index": (slice(None), 1)}))
