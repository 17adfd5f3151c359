"""The small monoids the first chapters teach with.

Each factory returns a `Monoid` over elements of a fixed shape. They are deliberately plain: the point is to
see the laws hold (or fail) before the memory models of Part II reuse exactly the same machinery.
"""

from __future__ import annotations

import jax.numpy as jnp

from memoroids_lite.monoid import Monoid


def sum_monoid(shape=(), dtype=jnp.float32) -> Monoid:
    """(R^shape, +, 0). Counting is this monoid over ones: the count of steps since the episode began."""
    return Monoid(identity=lambda: jnp.zeros(shape, dtype), combine=lambda a, b: a + b)


def max_monoid(shape=(), dtype=jnp.float32) -> Monoid:
    """(R^shape ∪ {−inf}, max, −inf): the running maximum."""
    return Monoid(identity=lambda: jnp.full(shape, -jnp.inf, dtype), combine=jnp.maximum)


def affine_monoid(shape=(), dtype=jnp.float32) -> Monoid:
    """Composition of elementwise affine maps h ↦ a·h + b, the algebra of a linear
    recurrence.

    The element (a_t, b_t) stands for the step h_t = a_t h_{t−1} + b_t. Doing (a, b)
    first and (a', b') second gives h ↦ a'(a h + b) + b' = (a' a) h + (a' b + b'), so

        (a, b) • (a', b') = (a' a,  a' b + b'),      e_I = (1, 0).

    It is not commutative: (a, b) • (a', b') ≠ (a', b') • (a, b) in general. LRU and S5
    are this monoid with complex diagonal a.
    """

    def combine(earlier, later):
        (a, b), (a2, b2) = earlier, later
        return a2 * a, a2 * b + b2

    return Monoid(
        identity=lambda: (jnp.ones(shape, dtype), jnp.zeros(shape, dtype)),
        combine=combine,
    )


def matmul_monoid(n: int, dtype=jnp.float32) -> Monoid:
    """(R^{n×n}, @, I): matrix products, the textbook non-commutative monoid."""
    return Monoid(identity=lambda: jnp.eye(n, dtype=dtype), combine=jnp.matmul)
