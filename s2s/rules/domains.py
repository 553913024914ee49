"""Test domains beyond an interval: fixed shapes, lists of arrays, structured matrices.

A rule declares per positional argument where it may be tested (``domains=``).  These
subclasses of :class:`~s2s.rules.registry.Domain` also fix the sample's shape (a matrix
product needs matching shapes) or structure (a Cholesky factor needs a symmetric
positive definite matrix): their ``sample(rng, shape)`` ignores the requested shape.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import Domain


@dataclass(frozen=True)
class Shaped(Domain):
    """Values uniform in ``(low, high)``, always of ``shape``."""

    shape: tuple[int, ...] = ()

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=self.shape)


@dataclass(frozen=True)
class ArrayList(Domain):
    """A list of arrays of ``shapes``: the sequence argument of ``concatenate``, ``stack``..."""

    shapes: tuple[tuple[int, ...], ...] = ()

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> list[np.ndarray]:
        return [rng.uniform(self.low, self.high, size=item) for item in self.shapes]


@dataclass(frozen=True)
class Invertible(Domain):
    """Well-conditioned square matrices: entries in ``(-1, 1)`` plus ``n`` on the diagonal."""

    low: float = -1.0
    high: float = 1.0
    shape: tuple[int, ...] = (3, 3)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        size = self.shape[-1]
        return rng.uniform(self.low, self.high, size=self.shape) + size * np.eye(size)


@dataclass(frozen=True)
class SymmetricPositive(Domain):
    """Symmetric positive definite matrices ``a a.T + n I`` (for cholesky, eigh)."""

    low: float = -1.0
    high: float = 1.0
    shape: tuple[int, ...] = (3, 3)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        size = self.shape[-1]
        a = rng.uniform(self.low, self.high, size=self.shape)
        return a @ np.swapaxes(a, -1, -2) + size * np.eye(size)


@dataclass(frozen=True)
class Diagonalizable(Domain):
    """Real matrices with well-separated eigenvalues (for eig, eigvals): ``q d q^-1`` for a
    random well-conditioned ``q`` and eigenvalues ``1, 2, ..., n`` plus noise; with
    ``pairs``, ``d`` has 2x2 rotation-like blocks ``[[k, -2 r], [r / 2, k]]`` (eigenvalues
    ``k +- i r``, ``r`` near 1), so the eigenvalues come in complex-conjugate pairs; the
    eigenvectors' entries then differ in modulus (2 to 1 before ``q``), so the entry whose
    phase NumPy fixes is not a near tie."""

    low: float = -0.3
    high: float = 0.3
    shape: tuple[int, ...] = (3, 3)
    pairs: bool = False

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        size = self.shape[-1]
        spread = 0.2 if self.pairs else 0.5
        basis = rng.uniform(-spread, spread, size=self.shape) + np.eye(size)
        values = np.arange(1.0, size + 1.0) + rng.uniform(self.low, self.high, size=size)
        middle = values[:, None] * np.eye(size)
        if self.pairs:
            for start in range(0, size - 1, 2):
                turn = 1.0 + rng.uniform(self.low, self.high)
                middle[start, start + 1], middle[start + 1, start] = -2 * turn, turn / 2
                middle[start + 1, start + 1] = middle[start, start]
        return basis @ middle @ np.linalg.inv(basis)


@dataclass(frozen=True)
class InvertibleTensor(Domain):
    """Arrays of ``shape`` whose first ``rows`` axes, flattened against the others, form a
    well-conditioned square matrix (for tensorinv, tensorsolve); with ``axes``, the array
    that np.linalg.tensorsolve(a, b, axes) turns into one, by moving ``axes`` to the end."""

    low: float = -1.0
    high: float = 1.0
    shape: tuple[int, ...] = (2, 3, 6)
    rows: int = 2
    axes: tuple[int, ...] | None = None

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        size = int(np.prod(self.shape[:self.rows]))
        matrix = Invertible(self.low, self.high, shape=(size, size)).sample(rng, ())
        array = matrix.reshape(self.shape)
        if self.axes is None:
            return array
        ndim = len(self.shape)
        return np.moveaxis(array, tuple(range(ndim - len(self.axes), ndim)), self.axes)


@dataclass(frozen=True)
class Booleans(Domain):
    """Random boolean masks of the requested shape (the condition of ``np.where``)."""

    integer: bool = True

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.random(size=shape) < 0.5


@dataclass(frozen=True)
class Fixed(Domain):
    """Always the same value, never perturbed: the ``shape`` argument of ``np.full``."""

    value: tuple = ()
    integer: bool = True

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> tuple:
        return self.value


@dataclass(frozen=True)
class NotDifferentiated(Domain):
    """A real argument whose derivative s2s does not take (a Bessel function's order).

    Its rule position is ``None``; unlike an axis or an index, the function does vary with
    it, so a differentiated value there is refused (:class:`s2s.MissingRuleError`) by the
    analysis and by the tape instead of getting a zero derivative.
    """


@dataclass(frozen=True)
class BooleanList(Domain):
    """A list of random boolean masks of ``shapes`` (the conditions of ``np.select``)."""

    shapes: tuple[tuple[int, ...], ...] = ()
    integer: bool = True

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> list[np.ndarray]:
        return [rng.random(size=item) < 0.4 for item in self.shapes]


@dataclass(frozen=True)
class WithNaN(Domain):
    """Values uniform in ``(low, high)`` with about a ``fraction`` of them NaN (never a
    whole row), for the ``nan*`` reductions."""

    fraction: float = 0.25

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        values = rng.uniform(self.low, self.high, size=shape)
        missing = rng.random(size=shape) < self.fraction
        if values.ndim:
            missing[..., 0] = False         # no lane of NaNs along the last axis
        if values.ndim > 1:
            missing[0] = False              # nor along the others
        return np.where(missing, np.nan, values)
