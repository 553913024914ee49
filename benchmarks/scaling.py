"""How gradients of element loops scale: gradient ÷ primal at n = 10², 10³, 10⁴, 10⁵.

Run:  python3 benchmarks/scaling.py                # every program, every size, peers if found
      python3 benchmarks/scaling.py --quick        # n up to 10⁴, fewer repeats
      python3 benchmarks/scaling.py --no-peers     # s2s and the hand-written gradient only
      python3 benchmarks/scaling.py --markdown     # README-ready tables

Each program is a plain NumPy function that loops over the elements of its input (the
kind of code where a tape records one node per element), with a hand-written gradient.
s2s differentiates the function itself (``s2s.differentiate(f, fallback="error")``, so
the numbers are generated code, never the tape).  Peers, when installed (``pip install -e
".[bench]"``), run at n = 10³ and 10⁴ (10² and 3·10² for the double loop, whose cost is
quadratic): HIPS autograd and PyTorch eager; JAX eager at the smallest n only (its eager
``jax.grad`` of an element loop took about four minutes at n = 10³ on this machine).  They cannot write into arrays
(``y[i] = ...``), so they run the same program written with a list and ``stack``
(``PEER_VERSIONS``); their element reads ``x[i]`` are O(n) each in the backward pass
(a one-hot scatter), which is what the table measures.

Every gradient (s2s's and each peer's) is checked against the hand-written one before it
is timed.  Time per call is the best of several rounds (each long enough to last 20 ms);
the ratio is gradient time over primal time, both measured here.  Peak memory is that of
one gradient call at the largest n (``tracemalloc``: NumPy's allocations included).

Targets (issue 16): s2s gradient ÷ primal ≤ 3 at every n, and the ratio at n = 10⁵ within
1.5× of the one at n = 10²; at n = 10⁴, ≥ 20× faster than each peer.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import platform
import sys
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

sys.path.insert(0, __file__.rsplit("/benchmarks/", 1)[0])
import s2s  # noqa: E402


# --- the programs -------------------------------------------------------------------------

def branchy(x):
    """An if/else on each element, summed."""
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            total = total + x[i] * x[i]
        else:
            total = total - 0.5 * x[i]
    return total


def branchy_hand(x):
    return np.where(x > 0, 2 * x, -0.5)


def recurrence(x):
    """A recurrence writing its state array element by element."""
    y = np.zeros_like(x)
    y[0] = np.sin(x[0])
    for i in range(1, x.shape[0]):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y)


def recurrence_hand(x):
    # d sum(y) / d y[i] = 1 + 0.5 + 0.25 + ... over the later elements
    n = x.shape[0]
    weight = np.empty(n)
    running = 0.0
    for i in range(n - 1, -1, -1):
        running = 1.0 + 0.5 * running
        weight[i] = running
    return weight * np.cos(x)


def appended(x):
    """A list built with .append, then summed as an array."""
    out = []
    for i in range(x.shape[0]):
        out.append(x[i] * x[i])
    return np.sum(np.array(out))


def appended_hand(x):
    return 2 * x


def horner(c):
    """Horner's rule, differentiated with respect to the coefficients."""
    acc = 0.0
    for i in range(c.shape[0]):
        acc = acc * 0.999 + c[i]
    return acc


def horner_hand(c):
    return 0.999 ** np.arange(c.shape[0] - 1, -1, -1)


def comprehension(x):
    """A list built by a comprehension, then summed."""
    terms = [np.sin(x[i]) * x[i] for i in range(x.shape[0])]
    return sum(terms)


def comprehension_hand(x):
    return np.cos(x) * x + np.sin(x)


def pairwise(x):
    """A pairwise potential on n points on a line: a double loop over (i, j)."""
    energy = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            d = x[i] - x[j]
            energy = energy + 1.0 / (1.0 + d * d)
    return energy


def pairwise_hand(x):
    d = x[:, None] - x[None, :]
    return np.sum(-2 * d / (1 + d * d) ** 2, axis=1)


def time_stepping(x):
    """An explicit Euler loop writing a state array row by row; x holds the forcing."""
    steps = x.shape[0]
    state = np.zeros((steps, 2))
    state[0] = np.array([1.0, 0.0])
    dt = 0.01
    for t in range(1, steps):
        position, velocity = state[t - 1, 0], state[t - 1, 1]
        state[t, 0] = position + dt * velocity
        state[t, 1] = velocity + dt * (x[t] - position)
    return np.sum(state[:, 0] ** 2)


def time_stepping_hand(x):
    steps = x.shape[0]
    state = np.zeros((steps, 2))
    state[0] = (1.0, 0.0)
    dt = 0.01
    for t in range(1, steps):
        state[t, 0] = state[t - 1, 0] + dt * state[t - 1, 1]
        state[t, 1] = state[t - 1, 1] + dt * (x[t] - state[t - 1, 0])
    adjoint = np.zeros(2)          # of the state row, running backwards
    gradient = np.zeros(steps)
    for t in range(steps - 1, 0, -1):
        adjoint[0] += 2 * state[t, 0]
        gradient[t] = dt * adjoint[1]
        adjoint = np.array([adjoint[0] - dt * adjoint[1], dt * adjoint[0] + adjoint[1]])
    return gradient


# Versions without writes into arrays, for the peers (same arithmetic).

def recurrence_peer(np, x):
    ys = [np.sin(x[0])]
    for i in range(1, x.shape[0]):
        ys.append(0.5 * ys[-1] + np.sin(x[i]))
    return np.sum(np.stack(ys))


def time_stepping_peer(np, x):
    position, velocity = 1.0, 0.0
    total = position * position
    for t in range(1, x.shape[0]):
        position, velocity = position + 0.01 * velocity, velocity + 0.01 * (x[t] - position)
        total = total + position * position
    return total


@dataclass
class Program:
    name: str
    function: Callable[..., Any]
    hand: Callable[..., Any]
    sizes: tuple[int, ...]
    peer_sizes: tuple[int, ...]
    peer: Callable[..., Any] | None = None      # (np, x) -> value, for the peers


PROGRAMS = [
    Program("branchy loop (`if` on `x[i]`)", branchy, branchy_hand, (100, 1000, 10_000, 100_000),
            (1000, 10_000)),
    Program("recurrence writing `y[i]`", recurrence, recurrence_hand,
            (100, 1000, 10_000, 100_000), (1000, 10_000), recurrence_peer),
    Program("`out.append(x[i] * x[i])`", appended, appended_hand,
            (100, 1000, 10_000, 100_000), (1000, 10_000)),
    Program("Horner's rule (w.r.t. coefficients)", horner, horner_hand,
            (100, 1000, 10_000, 100_000), (1000, 10_000)),
    Program("list comprehension, `sum`", comprehension, comprehension_hand,
            (100, 1000, 10_000, 100_000), (1000, 10_000)),
    Program("double loop over `(i, j)` (n points)", pairwise, pairwise_hand, (30, 100, 300, 1000),
            (100, 300)),
    Program("time stepping, state row by row", time_stepping, time_stepping_hand,
            (100, 1000, 10_000, 100_000), (1000, 10_000), time_stepping_peer),
]


# --- timing ---------------------------------------------------------------------------------

def best_time(call: Callable[[], Any], rounds: int, budget: float = 0.02) -> float:
    """Best time per call over ``rounds``, each repeating ``call`` for about ``budget`` s."""
    return best_times([call], rounds, budget)[0]


def best_times(calls: list[Callable[[], Any]], rounds: int, budget: float = 0.02) -> list[float]:
    """Best time per call of each of ``calls``, timed in interleaved rounds (so that a busy
    machine slows them alike), each round repeating a call for about ``budget`` s."""
    repeats = []
    for call in calls:
        call()
        start = time.perf_counter()
        call()
        repeats.append(max(1, int(budget / max(time.perf_counter() - start, 1e-7))))
    best = [float("inf")] * len(calls)
    gc.disable()
    try:
        for _ in range(rounds):
            for index, (call, repeat) in enumerate(zip(calls, repeats)):
                start = time.perf_counter()
                for _ in range(repeat):
                    call()
                best[index] = min(best[index], (time.perf_counter() - start) / repeat)
    finally:
        gc.enable()
    return best


def peak_memory(call: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check(name: str, got: Any, expected: Any) -> None:
    if not np.allclose(np.asarray(got, dtype=float), expected, rtol=1e-6, atol=1e-9):
        raise SystemExit(f"{name}: the gradient differs from the hand-written one")


# --- peers ---------------------------------------------------------------------------------

def peers() -> dict[str, Callable[[Program], Callable[[np.ndarray], Any] | None]]:
    """name -> (program -> gradient function of x), for each peer that imports."""
    found = {}
    try:
        autograd = importlib.import_module("autograd")
        anp = importlib.import_module("autograd.numpy")
        found["autograd"] = lambda program: autograd.grad(_rebound(program, anp))
    except ImportError:
        pass
    try:
        torch = importlib.import_module("torch")
        torch.set_num_threads(1)

        def torch_gradient(program):
            function = _rebound(program, _TorchNumPy(torch))

            def gradient(x):
                leaf = torch.tensor(x, requires_grad=True)
                function(leaf).backward()
                return leaf.grad.numpy()
            return gradient
        found["PyTorch eager"] = torch_gradient
    except ImportError:
        pass
    try:
        jax = importlib.import_module("jax")
        jax.config.update("jax_enable_x64", True)
        jnp = importlib.import_module("jax.numpy")
        found["JAX eager"] = lambda program: jax.grad(_rebound(program, jnp))
    except ImportError:
        pass
    return found


def _rebound(program: Program, module: Any) -> Callable[[Any], Any]:
    """The program with ``np`` pointing at ``module`` (autograd.numpy, jax.numpy, ...)."""
    if program.peer is not None:
        return lambda x: program.peer(module, x)
    function = program.function
    namespace = dict(function.__globals__, np=module)
    return type(function)(function.__code__, namespace, function.__name__,
                          function.__defaults__, function.__closure__)


class _TorchNumPy:
    """The few NumPy names the programs use, over torch tensors."""

    def __init__(self, torch):
        self.torch = torch

    def sin(self, x):
        return self.torch.sin(x) if isinstance(x, self.torch.Tensor) else np.sin(x)

    def cos(self, x):
        return self.torch.cos(x) if isinstance(x, self.torch.Tensor) else np.cos(x)

    def sum(self, x):
        return self.torch.sum(x)

    def array(self, values):
        return self.torch.stack(list(values))

    def stack(self, values):
        return self.torch.stack(list(values))


# --- the run --------------------------------------------------------------------------------

def run(quick: bool, with_peers: bool) -> list[dict]:
    rounds = 5 if quick else 9
    found = peers() if with_peers else {}
    rows = []
    for program in PROGRAMS:
        derivative = s2s.differentiate(program.function, fallback="error")
        sizes = [n for n in program.sizes if not quick or n <= 10_000]
        row = {"program": program.name, "ratios": {}, "hand": {}, "peers": {}, "memory": None}
        for n in sizes:
            x = np.random.default_rng(n).uniform(-1.0, 1.0, size=n)
            expected = program.hand(x)
            check(program.name, derivative.grad(x), expected)
            primal, ours, hand = best_times([lambda: program.function(x),
                                             lambda: derivative.grad(x),
                                             lambda: program.hand(x)], rounds)
            row["ratios"][n] = ours / primal
            row["hand"][n] = hand / primal
            for name, make in found.items():
                # JAX eager only at the smallest size, the others at the peer sizes
                if n != sizes[0] if name == "JAX eager" else n not in program.peer_sizes:
                    continue
                gradient = make(program)
                check(f"{program.name} ({name})", gradient(x), expected)
                row["peers"].setdefault(name, {})[n] = \
                    best_time(lambda: gradient(x), 1, budget=0.0) / primal
            print(f"{program.name:45s} n={n:>7,d}  s2s/primal {row['ratios'][n]:6.2f}  "
                  f"hand/primal {row['hand'][n]:6.2f}  " + "  ".join(
                      f"{name}/primal {values[n]:8.1f}" for name, values in row["peers"].items()
                      if n in values), flush=True)
        n = sizes[-1]
        x = np.random.default_rng(n).uniform(-1.0, 1.0, size=n)
        row["memory"] = (n, peak_memory(lambda: derivative.grad(x)),
                         peak_memory(lambda: program.hand(x)), peak_memory(lambda: program.function(x)))
        rows.append(row)
    return rows


def targets(rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        ratios = row["ratios"]
        worst = max(ratios.values())
        sizes = sorted(ratios)
        growth = ratios[sizes[-1]] / ratios[sizes[0]]
        lines.append(f"{'PASS' if worst <= 3 else 'MISS'}  {row['program']}: s2s/primal <= 3 "
                     f"at every n (worst {worst:.2f})")
        lines.append(f"{'PASS' if growth <= 1.5 else 'MISS'}  {row['program']}: ratio at "
                     f"n = {sizes[-1]:,} within 1.5x of n = {sizes[0]:,} ({growth:.2f}x)")
        for name, values in row["peers"].items():
            n = max(values)
            speedup = values[n] / ratios[n]
            lines.append(f"{'PASS' if speedup >= 20 else 'MISS'}  {row['program']}: >= 20x "
                         f"faster than {name} at n = {n:,} ({speedup:.0f}x)"
                         + ("" if n >= 10_000 or "(i, j)" in row["program"]
                            else " (the target is at n = 10,000)"))
    return lines


def markdown(rows: list[dict]) -> str:
    sizes = sorted({n for row in rows for n in row["ratios"]})
    peer_names = sorted({name for row in rows for name in row["peers"]})
    lines = [f"Measured {datetime.date.today().isoformat()} on {platform.machine()} "
             f"({platform.processor() or platform.platform()}), Python "
             f"{platform.python_version()}, NumPy {np.__version__}; gradient time ÷ primal "
             "time, one process.", "",
             "| program | " + " | ".join(f"n = {n:,}" for n in sizes)
             + " | hand-written (largest n) | " + " | ".join(peer_names) + " |",
             "|---|" + "---|" * (len(sizes) + 1 + len(peer_names))]
    for row in rows:
        cells = [f"{row['ratios'][n]:.1f}×" if n in row["ratios"] else "" for n in sizes]
        largest = max(row["hand"])
        peer_cells = []
        for name in peer_names:
            values = row["peers"].get(name, {})
            peer_cells.append(", ".join(f"{values[n]:,.0f}× (n = {n:,})" for n in sorted(values)))
        lines.append(f"| {row['program']} | " + " | ".join(cells)
                     + f" | {row['hand'][largest]:.1f}× | " + " | ".join(peer_cells) + " |")
    lines += ["", "| program | n | peak memory, s2s gradient | hand-written | primal |",
              "|---|---|---|---|---|"]
    for row in rows:
        n, ours, hand, primal = row["memory"]
        lines.append(f"| {row['program']} | {n:,} | {ours / 1e6:.1f} MB | {hand / 1e6:.1f} MB "
                     f"| {primal / 1e6:.1f} MB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 10^4, fewer rounds")
    parser.add_argument("--no-peers", action="store_true", help="s2s and hand-written only")
    parser.add_argument("--markdown", action="store_true", help="print README-ready tables")
    options = parser.parse_args()
    rows = run(options.quick, not options.no_peers)
    print()
    print("\n".join(targets(rows)))
    if options.markdown:
        print()
        print(markdown(rows))


if __name__ == "__main__":
    main()
