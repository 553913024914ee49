"""The s2s benchmark suite: generated gradients against hand-written ones and against peers.

Run:  python3 benchmarks/suite.py                    # every case, every peer found
      python3 benchmarks/suite.py --quick            # fewer, shorter repeats
      python3 benchmarks/suite.py --cases horner,mlp # some cases only (--list names them)
      python3 benchmarks/suite.py --markdown         # README-ready tables
      python3 benchmarks/suite.py --source           # also print the generated code of
                                                     # every case that misses a target
      python3 benchmarks/suite.py --threads 1        # one BLAS/torch/XLA thread: steadier
                                                     # numbers on a busy 2-core machine
      python3 benchmarks/suite.py --backend numba    # also s2s's numba-compiled gradients:
                                                     # steady state, the numba-compiled
                                                     # primal, first gradient cold and cached,
                                                     # beside jax.jit (steady and compile)

Peers (optional, each skipped with a note when absent): HIPS autograd, PyTorch eager on
the CPU, JAX eager (``jax.grad``) and ``jax.jit(jax.grad(...))``, with 64-bit floats
enabled.  ``python3 -m pip install -e ".[bench]"`` installs them.

Every case is one plain NumPy function, decorated with ``@s2s.differentiate``, plus a
hand-written analytic gradient.  The peers run *the same function*: its code object is
re-bound with ``np`` pointing at ``autograd.numpy``, ``jax.numpy`` or a small shim over
``torch`` (``TorchNumPy`` below), so no case is written twice.  Every gradient (s2s's and
each peer's) is checked against the hand-written one before it is timed; a wrong one stops
the run.

Timing: all variants of a case are timed in one process, interleaved round by round
(so drift on a busy machine hits them alike); each sample runs a variant enough times to
last 20 ms (5 ms with ``--quick``), with the garbage collector off, and the reported time
per call is the median over the rounds.  Ratios are of those medians.  glibc's malloc is
pinned (``--malloc``, see ``pin_allocator``) because running torch otherwise changes how
NumPy's large temporaries are allocated for the rest of the process.

Targets (issue #9) are printed PASS/MISS at the end: s2s/hand <= 1.3 (median) and <= 2.0
(each case), s2s/primal <= 3, peers >= 5x slower than s2s (>= 50x on the Horner,
recurrence and piecewise loops; on the two large-array cases s2s within 1.1x of
hand-written instead), first gradient and generation <= 50 ms, ``.grad`` overhead
<= 5 µs, loop-gradient memory <= 2x hand-written.

Besides the cases, the suite measures
* time to first gradient: a fresh ``@s2s.differentiate`` of a new function object (so no
  s2s cache can answer) plus code generation, compilation and the first call, with s2s's
  caches cleared; and ``jax.jit`` compile plus first call after ``jax.clear_caches()``;
* generation cost: deriving a ~50-line function with loops and branches, with every cache
  of s2s cleared: the per-function cache (``s2s.api._DERIVATIONS``, a WeakKeyDictionary
  keyed by the function object, and ``Differentiable._derivation``) and the parsed rule
  bodies (``s2s.inline._definition``, an ``lru_cache``); also once in a fresh interpreter;
* ``.grad`` overhead: ``f.grad(...)`` minus calling the generated code it runs directly
  (``grad_<name>`` where the argument shapes prove the output a scalar, else
  ``vjp_<name>`` and its pullback; both specialized to the shapes);
* memory: peak bytes of the gradient of a 10,000-step loop on a 3-vector against a
  hand-written adjoint (``benchmarks/loop_memory.py``).
"""
from __future__ import annotations

import argparse
import datetime
import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable


def _threads_from_argv(argv: list[str]) -> str | None:
    """``--threads N``, read before NumPy is imported (BLAS reads these variables once)."""
    for index, arg in enumerate(argv):
        if arg == "--threads" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__" and _threads_from_argv(sys.argv[1:]):
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_variable] = _threads_from_argv(sys.argv[1:])
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false").strip()

import numpy as np  # noqa: E402

import s2s  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import loop_memory  # noqa: E402  (benchmarks/loop_memory.py, reused for the memory target)

RTOL = 1e-7         # gradients must agree with the hand-written ones to this
ATOL = 1e-10


# ============================================================================================
# The cases: plain NumPy functions, and their gradients written by hand
# ============================================================================================

@s2s.differentiate(wrt=0)
def horner(x, c):
    y = 0.0
    for a in c:
        y = y * x + a
    return y


def horner_by_hand(x, c):
    y = 0.0
    dy = 0.0
    for a in c:
        dy = dy * x + y
        y = y * x + a
    return dy


@s2s.differentiate(wrt=0)
def logistic(r, x):
    for step in range(1000):
        x = r * x * (1.0 - x)
    return x


def logistic_by_hand(r, x):
    dx = 0.0
    for step in range(1000):
        dx = x * (1.0 - x) + r * (1.0 - 2.0 * x) * dx
        x = r * x * (1.0 - x)
    return dx


@s2s.differentiate
def doubling(x):
    y = x * 2
    while np.linalg.norm(y) < 1000:
        y = y * 2
    return y.sum()


def doubling_by_hand(x):
    y = x * 2
    scale = 2.0
    while np.linalg.norm(y) < 1000:
        y = y * 2
        scale = scale * 2
    return np.full_like(x, scale)


@s2s.differentiate
def piecewise(x):
    y = x
    total = 0.0
    for step in range(200):
        if y > 0.5:
            y = 0.9 * y - 0.3 * y * y
        else:
            y = 1.5 * y + 0.1
        total = total + y
    return total


def piecewise_by_hand(x):
    y = x
    dy = 1.0
    dtotal = 0.0
    for step in range(200):
        if y > 0.5:
            dy = (0.9 - 0.6 * y) * dy
            y = 0.9 * y - 0.3 * y * y
        else:
            dy = 1.5 * dy
            y = 1.5 * y + 0.1
        dtotal = dtotal + dy
    return dtotal


@s2s.differentiate(wrt=(1, 2, 3, 4))
def mlp(X, W1, b1, W2, b2, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def mlp_by_hand(X, W1, b1, W2, b2, Y):
    h = np.tanh(X @ W1 + b1)
    e = np.exp(h @ W2 + b2)
    p = e / np.sum(e, axis=1, keepdims=True)
    dz = (p - Y) / X.shape[0]                   # Y is one-hot
    dh = (dz @ W2.T) * (1.0 - h * h)
    return X.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)


@s2s.differentiate
def tutorial_mean(x):
    return np.mean(3 * (x - 2) ** 2)


def tutorial_mean_by_hand(x):
    return 6.0 * (x - 2) / x.size


@s2s.differentiate(wrt=(1, 2))
def tutorial_linear(x, w, b):
    return np.sum(x @ w + b)


def tutorial_linear_by_hand(x, w, b):
    return np.outer(x, np.ones(w.shape[1])), np.ones_like(b)


@s2s.differentiate
def elementwise(x):
    return np.sum(np.log(1.0 + np.exp(np.sin(x))))


def elementwise_by_hand(x):
    e = np.exp(np.sin(x))
    return np.cos(x) * e / (1.0 + e)


@s2s.differentiate(wrt=1)
def matmul_squares(A, B):
    return np.sum((A @ B) ** 2)


def matmul_squares_by_hand(A, B):
    return 2.0 * (A.T @ (A @ B))


@s2s.differentiate(wrt=(0, 1))
def euler_ode(x, k):
    dt = 0.001
    for step in range(1000):
        x = x + dt * (-k * x + np.sin(x))
    return np.sum(x ** 2)


def euler_ode_by_hand(x, k):
    trajectory = []
    for step in range(1000):
        trajectory.append(x)
        x = x + 0.001 * (-k * x + np.sin(x))
    x_b = 2 * x
    k_b = np.zeros_like(k)
    for x_old in reversed(trajectory):
        k_b = k_b - np.sum(0.001 * x_b * x_old, keepdims=True).reshape(np.shape(k))
        x_b = x_b + 0.001 * x_b * (-k + np.cos(x_old))
    return x_b, k_b


@s2s.differentiate(wrt=(0, 1))
def rnn(W, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h)


def rnn_by_hand(W, h0, xs):
    states = [h0]
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        states.append(h)
    h_b = np.ones_like(h)
    W_b = np.zeros_like(W)
    for t in reversed(range(xs.shape[0])):
        z_b = h_b * (1.0 - states[t + 1] ** 2)
        W_b += np.outer(z_b, states[t])
        h_b = W.T @ z_b
    return W_b, h_b


# --- the arguments ----------------------------------------------------------------------------

def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def horner_args():
    return (0.9, _rng(0).uniform(-1.0, 1.0, size=100))


def mlp_args():
    rng = _rng(1)
    X = rng.normal(size=(32, 10))
    W1 = rng.normal(size=(10, 32)) / np.sqrt(10)
    b1 = rng.normal(size=32) * 0.1
    W2 = rng.normal(size=(32, 10)) / np.sqrt(32)
    b2 = rng.normal(size=10) * 0.1
    Y = np.eye(10)[rng.integers(0, 10, size=32)]
    return (X, W1, b1, W2, b2, Y)


@dataclass
class Case:
    name: str
    title: str                       # a short description for the tables
    function: Any                    # the s2s.Differentiable
    by_hand: Callable[..., Any]
    make_args: Callable[[], tuple]
    kind: str                        # "small", "loop" (peers >= 50x), "large" (s2s within 1.1x)

    @property
    def wrt(self) -> tuple[int, ...]:
        return self.function.wrt_positions

    @property
    def single(self) -> bool:
        return self.function.single


CASES = [
    Case("horner", "Horner's rule, 100 coefficients, d/dx", horner, horner_by_hand,
         horner_args, "loop"),
    Case("recurrence", "logistic map, 1,000 steps, d/dr", logistic, logistic_by_hand,
         lambda: (2.8, 0.3), "loop"),
    Case("doubling", "while norm(y) < 1000: y = y * 2, d sum(y)/dx", doubling, doubling_by_hand,
         lambda: (_rng(2).normal(size=3),), "small"),
    Case("piecewise", "if/else in a 200-step loop, d/dx", piecewise, piecewise_by_hand,
         lambda: (0.3,), "loop"),
    Case("euler", "explicit Euler ODE, 3-vector, 1,000 steps, d/dx, d/dk", euler_ode,
         euler_ode_by_hand, lambda: (np.array([0.5, -0.3, 0.8]), np.array([0.7])), "loop"),
    Case("rnn", "tanh RNN, 8 hidden units, 50 steps, d/dW, d/dh0", rnn, rnn_by_hand,
         lambda: (_rng(8).normal(size=(8, 8)) / np.sqrt(8), _rng(9).normal(size=8),
                  _rng(10).normal(size=(50, 8))), "small"),
    Case("mlp", "2-layer tanh MLP + softmax CE, 32x10 batch, d/dweights", mlp, mlp_by_hand,
         mlp_args, "small"),
    Case("tutorial_mean", "mean(3*(x-2)**2), 2x2", tutorial_mean, tutorial_mean_by_hand,
         lambda: (np.array([[1.0, 2.0], [3.0, 4.0]]),), "small"),
    Case("tutorial_linear", "sum(x @ W + b), 5 -> 3, d/dW, d/db", tutorial_linear,
         tutorial_linear_by_hand,
         lambda: (np.ones(5), _rng(3).normal(size=(5, 3)), _rng(4).normal(size=3)), "small"),
    Case("elementwise", "sum(log(1 + exp(sin(x)))), 10^6 elements", elementwise,
         elementwise_by_hand, lambda: (_rng(5).normal(size=1_000_000),), "large"),
    Case("matmul", "sum((A @ B)**2), 512x512, d/dB", matmul_squares, matmul_squares_by_hand,
         lambda: (_rng(6).normal(size=(512, 512)), _rng(7).normal(size=(512, 512))), "large"),
]


# ============================================================================================
# The ~50-line function whose generation is timed
# ============================================================================================

def oscillator(state, params, forcing):
    """A damped oscillator with soft walls, clipping and a settling loop (~50 lines)."""
    k = params[0]
    c = params[1]
    m = params[2]
    x = state[0]
    v = state[1]
    dt = 0.01
    energy = 0.0
    travelled = 0.0
    for step in range(40):
        push = forcing[step % 4]
        if x > 1.0:
            spring = -k * (x - 1.0) * 3.0 - k
        elif x < -1.0:
            spring = -k * (x + 1.0) * 3.0 + k
        else:
            spring = -k * x
        damping = -c * v
        a = (spring + damping + push) / m
        v = v + dt * a
        if v > 5.0:
            v = 5.0 + 0.1 * (v - 5.0)
        elif v < -5.0:
            v = -5.0 + 0.1 * (v + 5.0)
        x = x + dt * v
        travelled = travelled + abs(v) * dt
        energy = energy + 0.5 * m * v * v + 0.5 * k * x * x
    settle = energy
    rounds = 0
    while settle > 1.0 and rounds < 20:
        settle = settle * 0.75 + 0.01 * k
        rounds = rounds + 1
    penalty = 0.0
    for i in range(3):
        gap = forcing[i] - forcing[i + 1]
        if gap > 0:
            penalty = penalty + gap * gap * c
        else:
            penalty = penalty - gap * m * 0.1
    if travelled > 2.0:
        score = settle + penalty + np.sqrt(travelled)
    else:
        score = settle + penalty + travelled
    total = score + np.sin(x) * np.cos(v)
    return total * 1.0 + 0.0 * m


def oscillator_args():
    return (np.array([0.4, 1.5]), np.array([2.0, 0.3, 1.2]), np.array([0.5, -1.0, 2.0, 0.25]))


# ============================================================================================
# Peers: the same function code with np bound to another array library
# ============================================================================================

class TorchNumPy:
    """The few NumPy names the cases use, over torch (so torch runs the same code)."""

    def __init__(self, torch):
        self.torch = torch
        for name in ("sin", "cos", "exp", "log", "tanh", "sqrt"):
            setattr(self, name, getattr(torch, name))
        self.linalg = types.SimpleNamespace(norm=torch.linalg.vector_norm)

    def sum(self, x, axis=None, keepdims=False):
        return x.sum() if axis is None else x.sum(dim=axis, keepdim=keepdims)

    def mean(self, x, axis=None, keepdims=False):
        return x.mean() if axis is None else x.mean(dim=axis, keepdim=keepdims)


def rebind(function: Callable[..., Any], namespace: Any) -> Callable[..., Any]:
    """A new function object with ``function``'s code and ``np`` bound to ``namespace``."""
    globals_ = dict(function.__globals__)
    globals_["np"] = namespace
    return types.FunctionType(function.__code__, globals_, function.__name__,
                              function.__defaults__, function.__closure__)


def fresh_copy(function: Callable[..., Any]) -> Callable[..., Any]:
    """A new function object with the same code and globals: no cache keyed on it exists."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    return copy


@dataclass
class Peer:
    name: str
    available: bool
    note: str = ""
    module: Any = None


def load_peers(wanted: bool, options) -> dict[str, Peer]:
    peers: dict[str, Peer] = {}
    if not wanted:
        for name in ("autograd", "torch", "jax", "jax.jit"):
            peers[name] = Peer(name, False, "skipped: --no-peers")
        return peers
    try:
        import autograd
        import autograd.numpy
        peers["autograd"] = Peer("autograd", True, f"autograd {_version('autograd')}", autograd)
    except ImportError as exc:
        peers["autograd"] = Peer("autograd", False, f"skipped: {exc}")
    try:
        import torch
        if options.threads:
            torch.set_num_threads(options.threads)
        peers["torch"] = Peer("torch", True, f"torch {torch.__version__} eager, CPU, "
                              f"{torch.get_num_threads()} threads", torch)
    except ImportError as exc:
        peers["torch"] = Peer("torch", False, f"skipped: {exc}")
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy  # noqa: F401
        peers["jax"] = Peer("jax", True, f"jax {jax.__version__} eager (jax.grad, no jit), x64",
                            jax)
        peers["jax.jit"] = Peer("jax.jit", True, "jax.jit(jax.grad(...)), x64", jax)
    except ImportError as exc:
        peers["jax"] = Peer("jax", False, f"skipped: {exc}")
        peers["jax.jit"] = Peer("jax.jit", False, f"skipped: {exc}")
    return peers


def _version(distribution: str) -> str:
    try:
        from importlib.metadata import version
        return version(distribution)
    except Exception:
        return "?"


def peer_gradient(peer: Peer, case: Case, args: tuple) -> Callable[[], Any]:
    """A no-argument callable computing the gradient with ``peer`` (inputs converted once)."""
    plain = case.function.function
    argnums = case.wrt if not case.single else case.wrt[0]
    if peer.name == "autograd":
        function = rebind(plain, peer.module.numpy)
        gradient = peer.module.grad(function, argnum=argnums)
        return lambda: gradient(*args)
    if peer.name == "torch":
        torch = peer.module
        function = rebind(plain, TorchNumPy(torch))
        converted = []
        for position, value in enumerate(args):
            if isinstance(value, np.ndarray):
                value = torch.from_numpy(value.copy())
            elif position in case.wrt:
                value = torch.tensor(value, dtype=torch.float64)
            if position in case.wrt:
                value.requires_grad_(True)
            converted.append(value)
        inputs = [converted[p] for p in case.wrt]

        def torch_gradient():
            gradients = torch.autograd.grad(function(*converted), inputs)
            return gradients[0] if case.single else gradients
        return torch_gradient
    jax = peer.module
    function = rebind(plain, jax.numpy)
    converted = [jax.numpy.asarray(v) if isinstance(v, np.ndarray) else v for v in args]
    gradient = jax.grad(function, argnums=argnums)
    if peer.name == "jax.jit":
        gradient = jax.jit(gradient)
    return lambda: jax.block_until_ready(gradient(*converted))


def jax_first_gradient(peer: Peer, case: Case, args: tuple) -> tuple[float, Callable[[], Any]]:
    """Seconds for jax.jit tracing, compilation and the first call, caches cleared; and a
    no-argument callable running the compiled gradient again (valid until the next clear)."""
    jax = peer.module
    jax.clear_caches()
    function = rebind(fresh_copy(case.function.function), jax.numpy)
    argnums = case.wrt if not case.single else case.wrt[0]
    converted = [jax.numpy.asarray(v) if isinstance(v, np.ndarray) else v for v in args]
    start = time.perf_counter()
    compiled = jax.jit(jax.grad(function, argnums=argnums))
    jax.block_until_ready(compiled(*converted))
    return time.perf_counter() - start, lambda: jax.block_until_ready(compiled(*converted))


# ============================================================================================
# Measuring
# ============================================================================================

def as_arrays(gradient: Any, single: bool) -> list[np.ndarray]:
    parts = (gradient,) if single else tuple(gradient)
    result = []
    for part in parts:
        if hasattr(part, "detach"):                 # torch
            part = part.detach().numpy()
        result.append(np.asarray(part, dtype=float))
    return result


def check(label: str, case: Case, got: Any, want: list[np.ndarray], single: bool) -> None:
    arrays = as_arrays(got, single)
    if len(arrays) != len(want):
        raise SystemExit(f"WRONG GRADIENT: {label} on {case.name}: {len(arrays)} gradients, "
                         f"expected {len(want)}")
    for index, (a, b) in enumerate(zip(arrays, want)):
        if a.shape != b.shape or not np.allclose(a, b, rtol=RTOL, atol=ATOL):
            raise SystemExit(
                f"WRONG GRADIENT: {label} on {case.name} (gradient {index}) disagrees with the "
                f"hand-written one\n  got:      {np.ravel(a)[:6]} shape {a.shape}\n"
                f"  expected: {np.ravel(b)[:6]} shape {b.shape}")


def calibrate(function: Callable[[], Any], min_sample: float) -> int:
    """How many calls make one sample last about ``min_sample`` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_sample / 5:
            return max(1, math.ceil(number * min_sample / elapsed))
        number *= 10


def sample(function: Callable[[], Any], number: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            function()
        return (time.perf_counter() - start) / number
    finally:
        if enabled:
            gc.enable()


def time_interleaved(variants: dict[str, Callable[[], Any]], rounds: int, min_sample: float,
                     max_seconds: float) -> dict[str, float]:
    """Median seconds per call of each variant, sampled round by round."""
    numbers = {name: calibrate(f, min_sample) for name, f in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_ in range(rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            if len(samples[name]) >= 3 and sum(samples[name]) * numbers[name] > max_seconds:
                continue                     # a slow peer: three samples are enough
            samples[name].append(sample(variants[name], numbers[name]))
        gc.collect()
    return {name: statistics.median(values) for name, values in samples.items()}


@dataclass
class Result:
    case: Case
    times: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    first_s2s: float | None = None
    first_jit: float | None = None
    jit_gradient: Callable[[], Any] | None = None   # the last jax.jit compiled, still cached
    numba_cold: tuple[float, float] | None = None
    numba_cached: tuple[float, float] | None = None
    numba_warm: tuple[float, float] | None = None
    numba_ahead: tuple[float, float] | None = None    # from a module compiled ahead of time


VARIANTS = ("primal", "hand", "s2s", "s2s direct", "s2s grad_f",
            "autograd", "torch", "jax", "jax.jit")


def run_case(case: Case, peers: dict[str, Peer], options) -> Result:
    result = Result(case)
    args = case.make_args()
    f = case.function
    plain = f.function
    want = as_arrays(case.by_hand(*args), case.single)
    if f.mode != "source":
        raise SystemExit(f"{case.name}: s2s fell back to the tape: {f.fallback_reason}")

    values = f._arguments(args, {})
    generated = f.specialized_derivation(values).module.function   # what vjp runs for args
    seed = 1.0

    def direct():
        _, pullback = generated(*args)
        return pullback(seed)

    variants: dict[str, Callable[[], Any]] = {
        "primal": lambda: plain(*args),
        "hand": lambda: case.by_hand(*args),
        "s2s": lambda: f.grad(*args),
        "s2s direct": direct,
    }
    check("s2s .grad", case, variants["s2s"](), want, case.single)
    check("s2s vjp + pullback", case, direct(), want, case.single)
    try:                           # the closure-free form (used for higher derivatives)
        # what .grad runs for these shapes: jvp_<name> for one scalar input, else the
        # closure-free grad_<name> (where the shapes prove the output a scalar)
        gradient_function = f._gradient_function(values) or f.gradient_function(*args)
        variants["s2s grad_f"] = lambda: gradient_function(*args)
        check("s2s grad_f", case, variants["s2s grad_f"](), want, case.single)
    except s2s.S2SError as exc:
        variants.pop("s2s grad_f", None)
        result.notes["s2s grad_f"] = f"not generated ({type(exc).__name__})"
    for name, peer in peers.items():
        if not peer.available:
            result.notes[name] = peer.note
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                function = peer_gradient(peer, case, args)
                got = function()
        except Exception as exc:                 # not traceable, or not supported
            if name != "jax.jit":
                raise SystemExit(f"{name} failed on {case.name}: {type(exc).__name__}: {exc}")
            result.notes[name] = f"not traceable ({type(exc).__name__})"
            continue
        check(name, case, got, want, case.single)
        variants[name] = function
    result.times = time_interleaved(variants, options.rounds, options.min_sample,
                                    options.max_seconds)

    # time to first gradient: fresh function object, every s2s cache cleared
    firsts = []
    for _ in range(options.first_repeats):
        clear_s2s_caches()
        fresh = fresh_copy(plain)
        start = time.perf_counter()
        decorated = s2s.differentiate(fresh, wrt=f.wrt_positions if not f.single
                                      else f.wrt_positions[0])
        decorated.grad(*args)
        firsts.append(time.perf_counter() - start)
    result.first_s2s = statistics.median(firsts)
    if "jax.jit" in variants:
        jits = []
        while not jits or (len(jits) < options.jit_first_repeats and jits[0] < 2.0):
            seconds, result.jit_gradient = jax_first_gradient(peers["jax.jit"], case, args)
            jits.append(seconds)                                          # slow ones once
        result.first_jit = statistics.median(jits)
    return result


def numba_primal(case: Case, args: tuple):
    """The case's own function compiled by ``numba.njit`` (None if numba refuses it)."""
    import numba
    try:
        compiled = numba.njit(case.function.function)
        compiled(*args)
        return lambda: compiled(*args)
    except Exception:                       # numba's typing errors: no compiled primal
        return None


def run_numba(case: Case, result: Result, options) -> None:
    """backend="numba": the compiled gradient (checked against the hand-written one),
    the numba-compiled primal, ``jax.jit(jax.grad(...))`` in the same rounds (when jax is
    installed and can trace the case), and the first gradient in fresh processes, cold (an
    empty cache directory) and from numba's disk cache."""
    import tempfile
    args = case.make_args()
    want = as_arrays(case.by_hand(*args), case.single)
    wrt = case.wrt if not case.single else case.wrt[0]
    compiled = s2s.differentiate(case.function.function, wrt=wrt, backend="numba")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = compiled.grad(*args)
    check("s2s numba", case, got, want, case.single)
    if compiled.backend != "numba":
        result.notes["numba"] = f"fell back: {compiled.backend_reason}"
    variants = {"s2s": lambda: case.function.grad(*args),
                "numba": lambda: compiled.grad(*args)}
    primal = numba_primal(case, args)
    if primal is not None:
        variants["numba primal"] = primal
    if result.jit_gradient is not None:     # compiled by run_case: no second compile
        check("jax.jit", case, result.jit_gradient(), want, case.single)
        variants["jax.jit"] = result.jit_gradient
    times = time_interleaved(variants, options.rounds, options.min_sample, options.max_seconds)
    result.times.update({"numba": times["numba"], "s2s (same rounds)": times["s2s"]})
    if "numba primal" in times:
        result.times["numba primal"] = times["numba primal"]
    if "jax.jit" in times:
        result.times["jax.jit (numba rounds)"] = times["jax.jit"]
    with tempfile.TemporaryDirectory() as directory:
        result.numba_cold = numba_first_gradient(case.name, directory)
        result.numba_cached = numba_first_gradient(case.name, directory)
        result.numba_warm = numba_first_gradient(case.name, directory, warm=True)
        if numba_first_gradient(case.name, directory, build=True) is not None:
            result.numba_ahead = numba_first_gradient(case.name, directory,
                                                      start_numba=False)


def numba_first_gradient(name: str, cache: str, warm: bool = False, build: bool = False,
                         start_numba: bool = True) -> tuple[float, float] | None:
    """(import numba, first gradient) seconds in a fresh interpreter using ``cache``;
    ``warm``: after numba compiled something else (its own start-up, about half a second
    on the first call of even a trivial cached function, is then paid); ``build``: build
    the gradient ahead of time instead (``f.compile_ahead``), for a later process to load
    without numba; ``start_numba=False``: numba is not imported first (a gradient built
    ahead of time does not import it)."""
    start = "import numba; " if start_numba else ""
    start += "numba.njit(lambda v: v + 1.0)(1.0); " if warm else ""
    call = "f.compile_ahead(*args)" if build else "f.grad(*args)"
    code = ("import sys, time; sys.argv = ['suite']; sys.path.insert(0, %r); import suite, s2s; "
            "t = time.perf_counter(); %s t1 = time.perf_counter(); "
            "case = next(c for c in suite.CASES if c.name == %r); args = case.make_args(); "
            "f = s2s.differentiate(suite.fresh_copy(case.function.function), "
            "wrt=case.wrt if not case.single else case.wrt[0], backend='numba'); "
            "t2 = time.perf_counter(); %s; t3 = time.perf_counter(); "
            "print(t1 - t, t3 - t2, f.backend)" % (HERE, start, name, call))
    environment = dict(os.environ, S2S_CACHE_DIR=cache)
    try:
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=900, check=True, env=environment).stdout
        numba_import, first, _ = output.strip().splitlines()[-1].split()
        return float(numba_import), float(first)
    except Exception as exc:  # pragma: no cover - reported, not fatal
        print(f"(numba first gradient of {name} failed: {exc})", file=sys.stderr)
        return None


# the loop cases of the numba target: steady state faster than jax.jit on each
NUMBA_LOOP_CASES = ("horner", "recurrence", "doubling", "piecewise", "euler", "rnn")


def report_numba(results: list[Result], options) -> None:
    md = options.markdown
    beats: list[str] = []
    misses: list[str] = []
    unmeasured: list[str] = []            # loop cases without a jax.jit time (no jax)
    header = ["case", "s2s python", "s2s numba", "python/numba", "numba primal",
              "numba grad/primal", "jax.jit", "jax.jit/numba", "numba first (cold)",
              "numba first (cached)", "cached, numba started", "compiled ahead of time",
              "jax.jit first"]
    rows = []
    for r in results:
        t = r.times
        if "numba" not in t:
            continue
        primal = t.get("numba primal")
        jit = t.get("jax.jit (numba rounds)")          # timed in the same rounds as numba
        untraceable = r.notes.get("jax.jit", "").startswith("not traceable")
        cold, cached = r.numba_cold, r.numba_cached
        rows.append([r.case.name, fmt_time(t["s2s (same rounds)"]), fmt_time(t["numba"]),
                     fmt_ratio(t["s2s (same rounds)"] / t["numba"]), fmt_time(primal),
                     fmt_ratio(t["numba"] / primal) if primal else "—",
                     "cannot trace" if untraceable else fmt_time(jit),
                     fmt_ratio(jit / t["numba"]) if jit else "—",
                     fmt_time(cold[1]) if cold else "—", fmt_time(cached[1]) if cached else "—",
                     fmt_time(r.numba_warm[1]) if r.numba_warm else "—",
                     fmt_time(r.numba_ahead[1]) if r.numba_ahead else "—",
                     fmt_time(r.first_jit) if r.first_jit else "—"])
        if r.case.name in NUMBA_LOOP_CASES:
            if jit:
                beats.append(f"{r.case.name} {fmt_ratio(jit / t['numba'])}")
                if jit <= t["numba"]:
                    misses.append(r.case.name)
            elif untraceable:
                beats.append(f"{r.case.name} (jax.jit cannot trace it)")
            else:
                unmeasured.append(r.case.name)
    print("backend='numba' (median time per call; numba primal: the case's function under "
          "numba.njit; jax.jit: jax.jit(jax.grad(f)) timed in the same rounds as numba, "
          "'cannot trace' where Python control flow depends on a traced value; numba first "
          "gradient: decoration + generation + lowering + compile or cache load + first "
          "call in a fresh interpreter, after `import numba`; jax.jit first: tracing + XLA "
          "compile + first call in the running process after jax.clear_caches()):")
    print()
    print(table(header, rows, md))
    if beats:
        measured = {r.case.name for r in results if "numba" in r.times}
        absent = [name for name in NUMBA_LOOP_CASES if name not in measured] + unmeasured
        verdict = "MISS" if misses else "—" if absent else "PASS"
        print()
        print(f"[{verdict}] numba faster than jax.jit on every loop case (jax.jit/numba): "
              + ", ".join(beats) + (f"; not run: {', '.join(absent)}" if absent else ""))
    imports = [r.numba_cold[0] for r in results if getattr(r, "numba_cold", None)]
    if imports:
        print()
        print(f"`import numba` in a fresh interpreter: {fmt_time(statistics.median(imports))} "
              "(median), not counted in the cold and cached columns; 'compiled ahead of "
              "time': f.compile_ahead(...) ran in an earlier process, and this one does not "
              "import numba.")
    notes = [f"{r.case.name}: {r.notes['numba']}" for r in results if "numba" in r.notes]
    for note in notes:
        print(f"{'* ' if md else '  '}{note}")
    print()


def pin_allocator(mode: str) -> str:
    """Fix how glibc's malloc serves large arrays, so results do not depend on history.

    By default glibc adapts its mmap and trim thresholds as blocks are freed, and running
    a peer (torch, notably) moves them: afterwards NumPy's large temporaries are reused
    from the heap instead of being fresh, page-faulting mappings, which makes the
    10^6-element and 512x512 cases up to 25% faster for the code that allocates most.
    ``fresh`` pins the behaviour of a plain NumPy process (each large array a new
    mapping); ``reuse`` pins the other one (no page faults: compute only); ``system``
    leaves the allocator alone.
    """
    if mode == "system":
        return "malloc: system defaults (--malloc system)"
    try:
        import ctypes
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return "malloc: system defaults (not glibc)"
    m_trim_threshold, m_mmap_threshold = -1, -3
    value = 128 * 1024 if mode == "fresh" else 1 << 30
    if not (mallopt(m_mmap_threshold, value) and mallopt(m_trim_threshold, value)):
        return "malloc: system defaults (mallopt refused)"
    return ("malloc: every large array a fresh mapping, as in a plain NumPy process "
            "(--malloc fresh)" if mode == "fresh" else
            "malloc: large arrays reused from the heap, no page faults (--malloc reuse)")


def clear_s2s_caches() -> None:
    """Every cache s2s keeps: derivations per function, and the parsed rule bodies."""
    sys.modules["s2s.api"]._DERIVATIONS.clear()
    sys.modules["s2s.inline"]._definition.cache_clear()


def generation_cost(options) -> dict[str, float]:
    """Seconds to derive ``oscillator`` (parse ... compile), with and without warm rules."""
    args = oscillator_args()
    check_generation_subject(args)
    cold, warm = [], []
    for _ in range(options.generation_repeats):
        clear_s2s_caches()
        fresh = fresh_copy(oscillator)
        start = time.perf_counter()
        s2s.differentiate(fresh, wrt=1).derivation
        cold.append(time.perf_counter() - start)
        fresh = fresh_copy(oscillator)                # rule bodies still parsed
        start = time.perf_counter()
        s2s.differentiate(fresh, wrt=1).derivation
        warm.append(time.perf_counter() - start)
    lines = len(s2s.differentiate(fresh_copy(oscillator), wrt=1).source.splitlines())
    fresh_process = generation_in_fresh_process()
    return {"cold": statistics.median(cold), "warm": statistics.median(warm),
            "fresh process": fresh_process, "generated lines": lines}


def check_generation_subject(args) -> None:
    """The ~50-line function's gradient against central differences (it is timed, so it
    must at least be right)."""
    gradient = s2s.grad(oscillator, wrt=1)(*args)
    params = args[1]
    numeric = np.zeros_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = 1e-6
        numeric[i] = (oscillator(args[0], params + step, args[2])
                      - oscillator(args[0], params - step, args[2])) / 2e-6
    if not np.allclose(gradient, numeric, rtol=1e-5, atol=1e-7):
        raise SystemExit(f"WRONG GRADIENT: oscillator: {gradient} vs finite differences "
                         f"{numeric}")


def generation_in_fresh_process() -> float | None:
    """Derivation of ``oscillator`` as the first thing a new interpreter does (imports
    excluded): includes parsing every rule body it needs."""
    code = ("import sys, time; sys.argv = ['suite']; sys.path.insert(0, %r); import suite, s2s; "
            "t = time.perf_counter(); s2s.differentiate(suite.oscillator, wrt=1).derivation; "
            "print(time.perf_counter() - t)" % HERE)
    try:
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=300, check=True).stdout
        return float(output.strip().splitlines()[-1])
    except Exception as exc:  # pragma: no cover - reported, not fatal
        print(f"(fresh-process generation failed: {exc})", file=sys.stderr)
        return None


def grad_overhead(results: list[Result]) -> dict[str, float]:
    """Seconds ``f.grad`` adds over calling the generated code it runs (``grad_<name>``
    where the shapes prove the output a scalar, else ``vjp_<name>`` and its pullback), for
    the cases whose gradient is fast enough (< 100 µs) for the difference to be above
    the noise."""
    overhead = {}
    for r in results:
        if r.times["s2s"] >= 1e-4:
            continue
        args = r.case.make_args()
        runs = "s2s grad_f" if r.case.function._gradient_function(
            r.case.function._arguments(args, {})) is not None else "s2s direct"
        overhead[r.case.name] = r.times["s2s"] - r.times[runs]    # runs: what .grad calls
    return overhead


def memory() -> dict[str, float]:
    x = np.array([0.5, -0.3, 0.8])
    k = np.array([0.7])
    gradient = s2s.grad(loop_memory.euler, wrt=(0, 1))
    for ours, theirs in zip(gradient(x, k), loop_memory.euler_gradient_by_hand(x, k)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    generated = min(loop_memory.peak_bytes(gradient, x, k) for _ in range(3))
    by_hand = min(loop_memory.peak_bytes(loop_memory.euler_gradient_by_hand, x, k)
                  for _ in range(3))
    values, size = loop_memory.saved_per_iteration(x, k)
    return {"s2s": generated, "hand": by_hand, "values": values, "bytes": size}


# ============================================================================================
# Reporting
# ============================================================================================

def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs" if seconds < 1e-4 else f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms" if seconds < 1e-2 else f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}×" if value < 10 else f"{value:.0f}×"


def table(header: list[str], rows: list[list[str]], markdown: bool, left: int = 1) -> str:
    """A markdown table, or a plain one with the first ``left`` columns left-aligned."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(c).ljust(w) if i < left else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths)))
             for row in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{datetime.date.today().isoformat()}, {platform.machine()}, {cpu}, "
            f"{os.cpu_count()} cores, CPython {platform.python_version()}, "
            f"NumPy {np.__version__}, load average {os.getloadavg()[0]:.1f} at the end")


@dataclass
class Target:
    name: str
    value: str
    passed: bool | None            # None: not measured


def targets(results: list[Result], peers: dict[str, Peer], generation, overhead,
            mem) -> list[Target]:
    out: list[Target] = []
    by_hand = {r.case.name: r.times["s2s"] / r.times["hand"] for r in results}
    over_primal = {r.case.name: r.times["s2s"] / r.times["primal"] for r in results}
    if results:
        median = statistics.median(by_hand.values())
        out.append(Target("s2s/hand ≤ 1.3 (median of cases)", fmt_ratio(median), median <= 1.3))
        small = {n: v for n, v in by_hand.items()
                 if next(r for r in results if r.case.name == n).case.kind != "large"}
        if small:
            worst = max(small, key=small.get)
            out.append(Target("s2s/hand ≤ 2.0 (every case but the large-array ones)",
                              f"worst {fmt_ratio(small[worst])} ({worst})",
                              small[worst] <= 2.0))
        large = {n: v for n, v in by_hand.items()
                 if next(r for r in results if r.case.name == n).case.kind == "large"}
        for name, value in large.items():
            out.append(Target(f"s2s/hand ≤ 1.1 on {name}", fmt_ratio(value), value <= 1.1))
        worst = max(over_primal, key=over_primal.get)
        out.append(Target("s2s/primal ≤ 3 (every case)",
                          f"worst {fmt_ratio(over_primal[worst])} ({worst})",
                          over_primal[worst] <= 3.0))
        for peer in ("autograd", "torch", "jax", "jax.jit"):
            if not peers[peer].available:
                out.append(Target(f"{peer} ≥ 5× / ≥ 50× slower than s2s", peers[peer].note,
                                  None))
                continue
            misses, measured = [], 0
            for r in results:
                if r.case.kind == "large" or peer not in r.times:
                    continue
                measured += 1
                need = 50.0 if r.case.kind == "loop" else 5.0
                ratio = r.times[peer] / r.times["s2s"]
                if ratio < need:
                    misses.append(f"{r.case.name} {fmt_ratio(ratio)} < {need:.0f}×")
            label = f"{peer} ≥ 5× slower (≥ 50× on loops) than s2s"
            if peer == "jax.jit":
                label += " [compiled; informational]"
            out.append(Target(label, "; ".join(misses) if misses else f"all {measured} cases",
                              None if not measured else not misses))
        # the large cases' gradients alone take tens of ms: judge what the first call adds
        setup = {r.case.name: r.first_s2s - r.times["s2s"] for r in results}
        worst = max(setup, key=setup.get)
        total = max(results, key=lambda r: r.first_s2s)
        out.append(Target("s2s first gradient ≤ 50 ms (every case; first call minus a "
                          "steady-state gradient)",
                          f"worst {fmt_time(setup[worst])} ({worst}); largest total "
                          f"{fmt_time(total.first_s2s)} ({total.case.name})",
                          setup[worst] <= 0.05))
    if generation:
        out.append(Target("generation of a ~50-line function ≤ 50 ms (caches cleared)",
                          f"{fmt_time(generation['cold'])} (rules warm "
                          f"{fmt_time(generation['warm'])}, fresh process "
                          f"{fmt_time(generation['fresh process'])})",
                          generation["cold"] <= 0.05))
    if overhead:
        worst = max(overhead, key=overhead.get)
        out.append(Target(".grad overhead ≤ 5 µs (cases under 100 µs)",
                          f"median {overhead_us(statistics.median(overhead.values()))}, worst "
                          f"{overhead_us(overhead[worst])} ({worst})", overhead[worst] <= 5e-6))
    if mem:
        ratio = mem["s2s"] / mem["hand"]
        out.append(Target("memory of a 10,000-step loop's gradient ≤ 2× hand-written",
                          f"{fmt_ratio(ratio)} ({mem['s2s'] / 1e6:.2f} MB vs "
                          f"{mem['hand'] / 1e6:.2f} MB)", ratio <= 2.0))
    return out


def overhead_us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def report(results, peers, generation, overhead, mem, options) -> list[Target]:
    md = options.markdown
    threads = f"{options.threads} thread(s) for BLAS, torch and XLA (--threads)" \
        if options.threads else "each library's default threads"
    print(("" if md else "# ") + f"s2s benchmark suite — {machine()}; {threads}; "
          f"{options.allocator}")
    print()
    for peer in peers.values():
        print(f"{'* ' if md else '  '}{peer.name}: {peer.note}")
    print()
    if results:
        header = ["case", "primal", "hand", "s2s .grad", "s2s direct", "s2s grad_f",
                  "autograd", "torch", "jax", "jax.jit"]
        rows = []
        for r in results:
            row = [r.case.name]
            for variant in VARIANTS:
                row.append(fmt_time(r.times.get(variant)) if variant in r.times
                           else "n/a" if variant == "jax.jit" and "not traceable"
                           in r.notes.get(variant, "") else "—")
            rows.append(row)
        print("Median time per call (s2s direct: vjp_<name> + pullback called directly; "
              "grad_f: the code .grad runs, called directly: jvp_<name> for one scalar "
              "input, else the closure-free grad_<name>; all specialized to the arguments' "
              "shapes):")
        print()
        print(table(header, rows, md))
        print()
        header = ["case", "s2s/hand", "s2s/primal", "autograd/s2s", "torch/s2s", "jax/s2s",
                  "jax.jit/s2s", "s2s first grad", "jax.jit first grad"]
        rows = []
        for r in results:
            t = r.times
            row = [r.case.name, fmt_ratio(t["s2s"] / t["hand"]),
                   fmt_ratio(t["s2s"] / t["primal"])]
            for peer in ("autograd", "torch", "jax", "jax.jit"):
                row.append(fmt_ratio(t[peer] / t["s2s"]) if peer in t else
                           ("n/a" if peer == "jax.jit" and "not traceable"
                            in r.notes.get(peer, "") else "—"))
            row += [fmt_time(r.first_s2s), fmt_time(r.first_jit) if r.first_jit else "n/a"]
            rows.append(row)
        print("Ratios of medians (peer/s2s > 1: s2s is faster); first gradient: fresh "
              "decoration + generation + compile + first call, caches cleared:")
        print()
        print(table(header, rows, md))
        print()
        print("Cases:")
        for r in results:
            print(f"{'* ' if md else '  '}{r.case.name}: {r.case.title}")
        print()
    if generation:
        print(f"Generation of a ~50-line function (benchmarks/suite.py: oscillator, "
              f"{generation['generated lines']} generated lines): caches cleared "
              f"{fmt_time(generation['cold'])}, rule bodies cached "
              f"{fmt_time(generation['warm'])}, first thing in a fresh interpreter "
              f"{fmt_time(generation['fresh process'])}.")
        print()
    if overhead:
        print(".grad overhead over calling the code it runs: " +
              ", ".join(f"{name} {overhead_us(v)}" for name, v in overhead.items()))
        print()
    if mem:
        print(f"Memory, gradient of a 10,000-step Euler loop on a 3-vector: s2s "
              f"{mem['s2s'] / 1e6:.2f} MB, hand-written {mem['hand'] / 1e6:.2f} MB "
              f"({mem['s2s'] / mem['hand']:.2f}×); the forward sweep saves "
              f"{mem['values']:.1f} values ({mem['bytes']:.0f} bytes) per iteration.")
        print()
    goals = targets(results, peers, generation, overhead, mem)
    print("Targets (issue #9):")
    print()
    print(table(["target", "measured", "result"],
                [[g.name, g.value, "—" if g.passed is None else "PASS" if g.passed else "MISS"]
                 for g in goals], md, left=3))
    return goals


def print_sources(results: list[Result], goals: list[Target]) -> None:
    """The generated code of every case that misses one of its targets."""
    missing = set()
    for r in results:
        t = r.times
        limit = 1.1 if r.case.kind == "large" else 2.0
        if t["s2s"] / t["hand"] > limit or t["s2s"] / t["primal"] > 3 \
                or r.first_s2s - t["s2s"] > 0.05:
            missing.add(r.case.name)
        need = 50.0 if r.case.kind == "loop" else 5.0
        for peer in ("autograd", "torch", "jax"):
            if r.case.kind != "large" and peer in t and t[peer] / t["s2s"] < need:
                missing.add(r.case.name)
    for r in results:
        if r.case.name in missing:
            print()
            print(f"# ---- generated code of {r.case.name} (misses a target) ----")
            print(r.case.function.source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repeats")
    parser.add_argument("--cases", help="comma-separated case names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--no-peers", action="store_true", help="time s2s and NumPy only")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the generation, overhead and memory measurements")
    parser.add_argument("--source", action="store_true",
                        help="print the generated code of every case missing a target")
    parser.add_argument("--threads", type=int,
                        help="threads for BLAS, torch and XLA (default: each library's own); "
                        "--threads 1 gives steadier numbers on a busy machine")
    parser.add_argument("--malloc", choices=("fresh", "reuse", "system"), default="fresh",
                        help="how glibc serves large arrays (see pin_allocator; default fresh)")
    parser.add_argument("--backend", choices=("python", "numba"), default="python",
                        help="numba: also time s2s's numba-compiled gradients")
    parser.add_argument("--rounds", type=int, help="timing rounds per variant (default 15, "
                        "5 with --quick)")
    options = parser.parse_args(argv)
    if options.list:
        for case in CASES:
            print(f"{case.name:<16} {case.title}")
        return 0
    quick = options.quick
    options.rounds = options.rounds or (5 if quick else 15)
    options.min_sample = 0.005 if quick else 0.02
    options.max_seconds = 1.0 if quick else 4.0
    options.first_repeats = 3 if quick else 7
    options.jit_first_repeats = 1 if quick else 3
    options.generation_repeats = 5 if quick else 15
    cases = CASES
    if options.cases:
        names = [n.strip() for n in options.cases.split(",") if n.strip()]
        known = {c.name: c for c in CASES}
        unknown = [n for n in names if n not in known]
        if unknown:
            parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(known)}")
        cases = [known[n] for n in names]
    options.allocator = pin_allocator(options.malloc)
    peers = load_peers(not options.no_peers, options)
    results = []
    for case in cases:
        print(f"... {case.name}", file=sys.stderr, flush=True)
        results.append(run_case(case, peers, options))
        if options.backend == "numba":
            print(f"... {case.name} (numba)", file=sys.stderr, flush=True)
            run_numba(case, results[-1], options)
    generation = overhead = mem = None
    if not options.no_extras:
        print("... generation", file=sys.stderr, flush=True)
        generation = generation_cost(options)
        overhead = grad_overhead(results)
        print("... memory", file=sys.stderr, flush=True)
        mem = memory()
    goals = report(results, peers, generation, overhead, mem, options)
    if options.backend == "numba":
        print()
        report_numba(results, options)
    if options.source:
        print_sources(results, goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
