"""POPGym MineSweeper (1.0.7), with the grid action flattened to Discrete(H·W) as the paper did.

Mines are placed uniformly without replacement. Clicking cell a (row a // W, column a mod W) returns the
number of mines in the 3×3 window around it — and nothing about which cell was clicked, which is why the
paper feeds the previous action back in. A new safe cell gives +1/L (L = cells − mines); clicking a seen cell
−0.5/(L − 2); a mine −0.5 − 1/L and ends the episode, as does clearing every safe cell. After L steps the
episode is truncated unless it terminated on that step (1.0.4 allowed L + 1 steps and truncated regardless).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment

from memoroids_lite.envs.base import POPGymTask, one_hot

CLEAR, MINE, VIEWED = 0, 1, 2
LEVELS = {"easy": ((4, 4), 2), "medium": ((6, 6), 6), "hard": ((8, 8), 10)}


@struct.dataclass
class MineSweeperState(environment.EnvState):
    grid: jax.Array  # [H·W] CLEAR, MINE or VIEWED
    neighbours: jax.Array  # [H·W] mines in the 3×3 window around each cell (itself included)
    ended: jax.Array  # terminated on the last step (suppresses truncation, as POPGym 1.0.7 does)


def place_mines(key, cells: int, mines: int) -> jax.Array:
    """A uniformly random set of `mines` cells, drawn one at a time among the cells still free: O(mines·cells)."""

    def place(i, grid):
        free = grid == CLEAR
        r = jax.random.randint(jax.random.fold_in(key, i), (), 0, cells - i)  # the r-th free cell
        cell = jnp.argmax(jnp.cumsum(free) > r)
        return grid.at[cell].set(MINE)

    return jax.lax.fori_loop(0, mines, place, jnp.zeros(cells, jnp.int32))


class MineSweeper(POPGymTask):
    def __init__(self, difficulty: str = "easy"):
        if difficulty not in LEVELS:
            raise ValueError(f"difficulty must be one of {list(LEVELS)}, got {difficulty!r}.")
        (self.height, self.width), self.num_mines = LEVELS[difficulty]
        self.difficulty = difficulty
        self.cells = self.height * self.width
        self.length = self.cells - self.num_mines  # L
        self.obs_size, self.num_actions_, self.max_steps = min(self.num_mines + 1, 10), self.cells, self.length

    def encode_action(self, action):
        """POPGym's previous action is the (row, column) pair: one-hot(row) ‖ one-hot(column)."""
        return jnp.concatenate([one_hot(action // self.width, self.height), one_hot(action % self.width, self.width)])

    def reset_env(self, key, params):
        grid = place_mines(key, self.cells, self.num_mines)
        mines = (grid == MINE).reshape(self.height, self.width).astype(jnp.int32)
        padded = jnp.pad(mines, 1)
        windows = sum(padded[1 + i : 1 + i + self.height, 1 + j : 1 + j + self.width] for i in (-1, 0, 1) for j in (-1, 0, 1))
        state = MineSweeperState(time=0, grid=grid, neighbours=windows.reshape(-1), ended=False)
        return one_hot(0, self.obs_size), state

    def step_env(self, key, state, action, params):
        cell = state.grid[action]
        reward = jnp.select(
            [cell == MINE, cell == VIEWED], [-0.5 - 1.0 / self.length, -0.5 / (self.length - 2)], 1.0 / self.length
        )
        grid = jnp.where(cell == CLEAR, state.grid.at[action].set(VIEWED), state.grid)
        terminated = (cell == MINE) | jnp.all(grid != CLEAR)
        state = state.replace(time=state.time + 1, grid=grid, ended=terminated)
        return one_hot(state.neighbours[action], self.obs_size), state, reward, terminated, {}

    def is_truncated(self, state, params):
        return (state.time >= params.max_steps_in_episode) & ~state.ended
