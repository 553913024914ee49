"""Functions whose derivative is zero wherever it exists: no gradient flows through them."""
import numpy as np

from ..runtime import stop_gradient
from .registry import define_nondifferentiable

define_nondifferentiable(
    stop_gradient, np.shape, np.ndim, np.size, len, np.floor, np.ceil, np.round, np.sign,
    np.argmax, np.argmin, np.argsort, np.isnan, np.isfinite, np.zeros_like, np.ones_like,
    np.zeros, np.ones, np.arange, np.greater, np.less, np.equal, np.not_equal,
    np.greater_equal, np.less_equal, range, int, bool,
)
