"""Sensitivities of an ODE solution to its parameters: the Lotka-Volterra predator-prey
model integrated with the classical Runge-Kutta method (RK4) in a plain Python for loop,
differentiated with respect to its four parameters by @s2s.differentiate.

Run with:  python3 examples/ode_parameters.py

    du/dt = alpha u - beta u v        (prey)
    dv/dt = delta u v - gamma v       (predators)

The loss is the mean squared distance between the simulated trajectory and an observed one
(simulated with other parameters).  The generated gradient is checked against central
finite differences, part of its loop is printed, and its time is compared with the primal's.
"""
import time

import numpy as np

import s2s

STEPS = 2000
DT = 0.01


def rates(u, v, alpha, beta, delta, gamma):
    return alpha * u - beta * u * v, delta * u * v - gamma * v


@s2s.differentiate(wrt="p")
def trajectory_loss(p, start, observed, dt, steps):
    alpha = p[0]
    beta = p[1]
    delta = p[2]
    gamma = p[3]
    u = start[0]
    v = start[1]
    loss = 0.0
    for i in range(steps):
        k1u, k1v = rates(u, v, alpha, beta, delta, gamma)
        k2u, k2v = rates(u + 0.5 * dt * k1u, v + 0.5 * dt * k1v, alpha, beta, delta, gamma)
        k3u, k3v = rates(u + 0.5 * dt * k2u, v + 0.5 * dt * k2v, alpha, beta, delta, gamma)
        k4u, k4v = rates(u + dt * k3u, v + dt * k3v, alpha, beta, delta, gamma)
        u = u + dt / 6 * (k1u + 2 * k2u + 2 * k3u + k4u)
        v = v + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
        loss = loss + (u - observed[i, 0]) ** 2 + (v - observed[i, 1]) ** 2
    return loss / steps


def simulate(p, start, dt, steps):
    """The observed trajectory: the same RK4 steps, states kept (not differentiated)."""
    alpha, beta, delta, gamma = p
    u, v = start
    states = np.zeros((steps, 2))
    for i in range(steps):
        k1u, k1v = rates(u, v, alpha, beta, delta, gamma)
        k2u, k2v = rates(u + 0.5 * dt * k1u, v + 0.5 * dt * k1v, alpha, beta, delta, gamma)
        k3u, k3v = rates(u + 0.5 * dt * k2u, v + 0.5 * dt * k2v, alpha, beta, delta, gamma)
        k4u, k4v = rates(u + dt * k3u, v + dt * k3v, alpha, beta, delta, gamma)
        u = u + dt / 6 * (k1u + 2 * k2u + 2 * k3u + k4u)
        v = v + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
        states[i] = u, v
    return states


def median_time(function, *args, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2]


def loop_excerpt(source, marker, before, lines):
    """Lines of the generated source around the first line holding marker."""
    all_lines = source.splitlines()
    first = next(i for i, line in enumerate(all_lines) if marker in line)
    return "\n".join(all_lines[first - before:first + lines])


def main() -> None:
    start = np.array([1.0, 0.5])
    true_p = np.array([1.1, 0.4, 0.1, 0.4])
    observed = simulate(true_p, start, DT, STEPS)
    p = np.array([1.0, 0.5, 0.12, 0.35])
    print(f"Lotka-Volterra, RK4, {STEPS} steps of dt = {DT}")
    print(f"observed with (alpha, beta, delta, gamma) = {true_p}; evaluated at p = {p}")

    value, gradient = trajectory_loss.value_and_grad(p, start, observed, DT, STEPS)
    print(f"loss(p) = {value:.10f}")
    at_truth = trajectory_loss(true_p, start, observed, DT, STEPS)
    print(f"at the true parameters the loss is {at_truth}")

    h = 1e-6
    finite = np.zeros(4)
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        finite[k] = (trajectory_loss(p + e, start, observed, DT, STEPS)
                     - trajectory_loss(p - e, start, observed, DT, STEPS)) / (2 * h)
    print(f"{'parameter':>10} {'s2s gradient':>16} {'finite differences':>20}")
    for name, g, fd in zip(("alpha", "beta", "delta", "gamma"), gradient, finite):
        print(f"{name:>10} {g:16.8f} {fd:20.8f}")
    relative = np.max(np.abs(gradient - finite)) / np.max(np.abs(gradient))
    print(f"max relative difference: {relative:.1e}")
    assert relative < 1e-6

    source = trajectory_loss.source
    print(f"\nThe generated code ({len(source.splitlines())} lines); its forward sweep's loop:")
    print(loop_excerpt(source, "for i in _", 0, 12))
    print("        ...\nand the reverse sweep's loop, which runs the iterations backwards, "
          "popping what the forward sweep saved:")
    print(loop_excerpt(source, "for i in reversed", 1, 14))
    print("            ...")

    t_primal = median_time(trajectory_loss, p, start, observed, DT, STEPS)
    t_gradient = median_time(trajectory_loss.grad, p, start, observed, DT, STEPS)
    print(f"\ntime (varies): primal {t_primal * 1e3:.1f} ms, value and gradient "
          f"{t_gradient * 1e3:.1f} ms, ratio {t_gradient / t_primal:.1f}")


if __name__ == "__main__":
    main()
