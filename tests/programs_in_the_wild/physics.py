"""Physics scripts: energies of particle systems, explicit time stepping of ODEs and PDEs,
integrators written as loops over time steps, a small Stam-style diffusion."""
import math

import numpy as np

from . import Case

G = 1.0


def nbody_energy(positions, velocities, masses):
    """Kinetic plus pairwise gravitational energy, the pairs in a double loop."""
    kinetic = 0.5 * np.sum(masses[:, None] * velocities ** 2)
    potential = 0.0
    n = len(masses)
    for i in range(n):
        for j in range(i + 1, n):
            r = np.sqrt(np.sum((positions[i] - positions[j]) ** 2))
            potential -= G * masses[i] * masses[j] / r
    return kinetic + potential


def pairwise_distances(x):
    diff = x[:, None, :] - x[None, :, :]
    return np.sqrt(np.sum(diff ** 2, axis=-1) + np.eye(len(x)))


def lennard_jones_energy(x, epsilon=1.0, sigma=0.8):
    """Vectorized: all pairs by broadcasting, the diagonal masked out."""
    r = pairwise_distances(x)
    sr6 = (sigma / r) ** 6
    energy = 4 * epsilon * (sr6 ** 2 - sr6)
    mask = 1.0 - np.eye(len(x))
    return 0.5 * np.sum(energy * mask)


def spring_chain_energy(x, k=2.0, rest=1.0):
    """Neighbouring masses joined by springs; np.diff is not a rule, so slices."""
    stretch = x[1:] - x[:-1] - rest
    return 0.5 * k * np.sum(stretch ** 2)


def heat_equation_loss(u0, alpha, steps=8, dx=0.1, dt=0.002):
    """Explicit finite differences, fixed zero boundaries, then a target misfit."""
    u = u0.copy()
    for _ in range(steps):
        laplacian = np.zeros_like(u)
        laplacian[1:-1] = (u[2:] - 2 * u[1:-1] + u[:-2]) / dx ** 2
        u = u + alpha * dt * laplacian
    return np.sum(u ** 2)


def periodic_diffusion(u0, rate, steps=5):
    """np.roll on a ring, the way the periodic stencils of fluid demos are written."""
    u = u0
    for step in range(steps):
        u = u + rate * (np.roll(u, 1) + np.roll(u, -1) - 2 * u)
    return np.sum(u * np.arange(len(u0)))


def gauss_seidel_diffuse(x, diff=0.05, dt=0.5, iterations=4):
    """A Stam 'stable fluids' diffusion on a periodic 2-d grid (Jacobi-style sweeps)."""
    y = x.copy()
    for k in range(iterations):
        neighbours = (np.roll(y, 1, axis=0) + np.roll(y, -1, axis=0)
                      + np.roll(y, 1, axis=1) + np.roll(y, -1, axis=1))
        y = (x + diff * dt * neighbours) / (1 + 4 * diff * dt)
    return np.sum(y ** 2)


def pendulum_derivatives(state, length, g=9.81):
    theta, omega = state
    return np.array([omega, -g / length * np.sin(theta)])


def pendulum_rk4(theta0, omega0, length, dt=0.05, steps=10):
    state = np.array([theta0, omega0])
    for _ in range(steps):
        k1 = pendulum_derivatives(state, length)
        k2 = pendulum_derivatives(state + 0.5 * dt * k1, length)
        k3 = pendulum_derivatives(state + 0.5 * dt * k2, length)
        k4 = pendulum_derivatives(state + dt * k3, length)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return state[0]


def leapfrog_oscillator(q0, p0, stiffness, dt=0.1, steps=12):
    """Velocity Verlet for a harmonic oscillator; returns the final energy."""
    q, p = q0, p0
    for _ in range(steps):
        p = p - 0.5 * dt * stiffness * q
        q = q + dt * p
        p = p - 0.5 * dt * stiffness * q
    return 0.5 * p ** 2 + 0.5 * stiffness * q ** 2


def projectile_range(speed, angle, drag=0.1, dt=0.01):
    """Euler steps with quadratic drag until the projectile comes down (a while loop)."""
    x, y = 0.0, 0.0
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    while y >= 0.0:
        v = math.sqrt(vx * vx + vy * vy)
        vx = vx - drag * v * vx * dt
        vy = vy - (9.81 + drag * v * vy) * dt
        x = x + vx * dt
        y = y + vy * dt
    return x


def wave_equation_energy(u0, c, steps=6, dt=0.05, dx=0.2):
    u_prev = u0.copy()
    u = u0.copy()
    r2 = (c * dt / dx) ** 2
    for _ in range(steps):
        u_next = np.zeros_like(u)
        u_next[1:-1] = 2 * u[1:-1] - u_prev[1:-1] + r2 * (u[2:] - 2 * u[1:-1] + u[:-2])
        u_prev, u = u, u_next
    return np.sum(u ** 2) + np.sum(((u - u_prev) / dt) ** 2)


def double_well_descent(x0, lr=0.05, steps=15):
    """Unrolled gradient descent on x**4 - 2 x**2; the loss is where it ends up."""
    x = x0
    for _ in range(steps):
        x = x - lr * (4 * x ** 3 - 4 * x)
    return (x ** 2 - 1) ** 2 + x


def charged_particles_energy(state, field=(0.5, -0.25)):
    """A dict of state arrays; an electric field given as a tuple default."""
    q, pos, vel = state["charge"], state["position"], state["velocity"]
    E = np.array(field)
    potential = -np.sum(q[:, None] * pos * E)
    kinetic = 0.5 * np.sum(vel ** 2)
    return potential + kinetic


def ising_continuous_energy(spins, coupling=1.0, h=0.3):
    """Continuous spins tanh(s) on a periodic grid, nearest neighbours via np.roll."""
    m = np.tanh(spins)
    right = np.roll(m, -1, axis=1)
    down = np.roll(m, -1, axis=0)
    return -coupling * np.sum(m * right + m * down) - h * np.sum(m)


def rigid_body_energy(omega, inertia):
    """Rotational kinetic energy 1/2 w^T I w and the angular momentum's norm."""
    L = inertia @ omega
    return 0.5 * omega @ L + 0.1 * np.linalg.norm(L)


CASES = [
    Case("nbody_energy", nbody_energy,
         lambda rng: (rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.uniform(0.5, 2.0, 4)),
         (0, 1, 2)),
    Case("lennard_jones_energy", lennard_jones_energy,
         lambda rng: (np.array([[0.0, 0.0], [1.0, 0.1], [0.2, 1.1], [1.2, 1.0]])
                      + 0.05 * rng.normal(size=(4, 2)),)),
    Case("spring_chain_energy", spring_chain_energy,
         lambda rng: (np.arange(5.0) * 1.1 + 0.1 * rng.normal(size=5),)),
    Case("heat_equation_loss", heat_equation_loss,
         lambda rng: (rng.normal(size=7), 0.8), (0, 1)),
    Case("periodic_diffusion", periodic_diffusion,
         lambda rng: (rng.normal(size=6), 0.2), (0, 1)),
    Case("gauss_seidel_diffuse", gauss_seidel_diffuse,
         lambda rng: (rng.normal(size=(4, 4)),)),
    Case("pendulum_rk4", pendulum_rk4,
         lambda rng: (0.4, -0.1, 1.5), (0, 1, 2)),
    Case("leapfrog_oscillator", leapfrog_oscillator,
         lambda rng: (0.7, -0.3, 2.0), (0, 1, 2)),
    Case("projectile_range", projectile_range,
         lambda rng: (5.0, 0.7), (0, 1)),
    Case("wave_equation_energy", wave_equation_energy,
         lambda rng: (np.sin(np.linspace(0.0, np.pi, 6)) + 0.1 * rng.normal(size=6), 1.2), (0, 1)),
    Case("double_well_descent", double_well_descent,
         lambda rng: (0.4,)),
    Case("charged_particles_energy", charged_particles_energy,
         lambda rng: ({"charge": np.array([1.0, -1.0, 0.5]), "position": rng.normal(size=(3, 2)),
                       "velocity": rng.normal(size=(3, 2))},)),
    Case("ising_continuous_energy", ising_continuous_energy,
         lambda rng: (rng.normal(size=(3, 4)),)),
    Case("rigid_body_energy", rigid_body_energy,
         lambda rng: (rng.normal(size=3), np.diag([1.0, 2.0, 3.0]) + 0.1), (0, 1)),
]
