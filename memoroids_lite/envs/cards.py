"""The POPGym card games: Repeat First, Repeat Previous, Count Recall and Autoencode (POPGym 1.0.7).

A deck holds 52 · num_decks cards; card i has suit i mod 4, colour i mod 2 and rank ⌊(i mod 52)/4⌋, so each
suit appears 13 · num_decks times, each colour 26 · num_decks and each rank 4 · num_decks. Only the kinds matter
to these games, so the state keeps how many cards of each kind remain and deals with `base.deal`.
Rewards are scaled so a perfect player's return is +1 and an always-wrong one's is −1. Card games end with
`terminated` and never truncate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment

from memoroids_lite.envs.base import POPGymTask, deal, one_hot

KINDS = {"colors": 2, "suits": 4, "ranks": 13}


def full_deck(num_decks: int, deck_type: str = "suits") -> jax.Array:
    kinds = KINDS[deck_type]
    return jnp.full((kinds,), 52 * num_decks // kinds, jnp.int32)


def _check_decks(num_decks):
    if not isinstance(num_decks, int) or num_decks < 1:
        raise ValueError(f"num_decks must be a positive integer, got {num_decks!r}.")


# ---------------------------------------------------------------------------------------------------------


@struct.dataclass
class RepeatFirstState(environment.EnvState):
    remaining: jax.Array  # [4] cards of each suit still in the deck
    first: jax.Array  # the suit of the first card


class RepeatFirst(POPGymTask):
    """Name the suit of the FIRST card at every step. N − 1 steps, each rewarded ±1/(N − 1)."""

    def __init__(self, num_decks: int = 1):
        _check_decks(num_decks)
        self.num_decks = num_decks
        self.num_cards = 52 * num_decks
        self.obs_size, self.num_actions_, self.max_steps = 4, 4, self.num_cards  # episodes last N − 1 steps

    def reset_env(self, key, params):
        suit, remaining = deal(key, full_deck(self.num_decks))
        return one_hot(suit, 4), RepeatFirstState(time=0, remaining=remaining, first=suit)

    def step_env(self, key, state, action, params):
        scale = 1.0 / (self.num_cards - 1)
        reward = jnp.where(action == state.first, scale, -scale)
        terminated = jnp.sum(state.remaining) == 1  # checked before the last card is dealt
        suit, remaining = deal(key, state.remaining)
        state = state.replace(time=state.time + 1, remaining=remaining)
        return one_hot(suit, 4), state, reward, terminated, {}


# ---------------------------------------------------------------------------------------------------------


@struct.dataclass
class RepeatPreviousState(environment.EnvState):
    remaining: jax.Array  # [4]
    recent: jax.Array  # [k] ring of the last k suits dealt; slot (dealt mod k) holds the oldest
    dealt: jax.Array  # cards dealt so far (the size of POPGym's "hand")


class RepeatPrevious(POPGymTask):
    """Name the suit of the card dealt k − 1 steps before the current one (POPGym's hand[−k]).

    Steps with fewer than k cards dealt are not rewarded; the N − k others give ±1/(N − k). The paper's
    "Easy" setting is num_decks=2, k=10: recall 9 steps back, a reward memory length of 10.
    """

    def __init__(self, num_decks: int = 1, k: int = 4):
        _check_decks(num_decks)
        if not isinstance(k, int) or not 1 <= k < 52 * num_decks:
            raise ValueError(f"k must be an integer in [1, {52 * num_decks}), got {k!r}.")
        self.num_decks, self.k = num_decks, k
        self.num_cards = 52 * num_decks
        self.obs_size, self.num_actions_, self.max_steps = 4, 4, self.num_cards

    def reset_env(self, key, params):
        suit, remaining = deal(key, full_deck(self.num_decks))
        recent = jnp.zeros(self.k, jnp.int32).at[0].set(suit)
        return one_hot(suit, 4), RepeatPreviousState(time=0, remaining=remaining, recent=recent, dealt=1)

    def step_env(self, key, state, action, params):
        scale = 1.0 / (self.num_cards - self.k)
        slot = state.dealt % self.k
        target = state.recent[slot]  # dealt k cards ago counting the current one: hand[-k]
        reward = jnp.where(state.dealt >= self.k, jnp.where(action == target, scale, -scale), 0.0)
        terminated = jnp.sum(state.remaining) == 1
        suit, remaining = deal(key, state.remaining)
        state = state.replace(
            time=state.time + 1, remaining=remaining, recent=state.recent.at[slot].set(suit), dealt=state.dealt + 1
        )
        return one_hot(suit, 4), state, reward, terminated, {}


# ---------------------------------------------------------------------------------------------------------


@struct.dataclass
class CountRecallState(environment.EnvState):
    values_left: jax.Array  # [D] the value deck
    queries_left: jax.Array  # [D] the query deck, shuffled independently
    counts: jax.Array  # [D] how many of each kind have been shown as values, the current one included
    query: jax.Array  # the kind asked about in the current observation


class CountRecall(POPGymTask):
    """Each step shows a value card and a query card; next step, answer how many cards of the queried kind
    have been shown as values so far (including the one shown with the query). ±1/(N − 1) per step.

    POPGym 1.0.7 action space: Discrete(N/D + 1). (1.0.4, which the paper ran, had Discrete(N/D), so a
    perfect counter could not give every answer; fixed upstream in popgym PR #41.) `error_clamp` is accepted
    for compatibility and, as in POPGym, unused.
    """

    def __init__(self, num_decks: int = 1, error_clamp: float = 0.5, deck_type: str = "colors"):
        _check_decks(num_decks)
        if deck_type not in KINDS:
            raise ValueError(f"deck_type must be one of {sorted(KINDS)}, got {deck_type!r}.")
        self.num_decks, self.deck_type, self.error_clamp = num_decks, deck_type, error_clamp
        self.kinds = KINDS[deck_type]
        self.num_cards = 52 * num_decks
        self.max_card_count = self.num_cards // self.kinds
        self.obs_size, self.num_actions_, self.max_steps = 2 * self.kinds, self.max_card_count + 1, self.num_cards

    def _observe(self, value, query):
        return jnp.concatenate([one_hot(value, self.kinds), one_hot(query, self.kinds)])

    def reset_env(self, key, params):
        k_value, k_query = jax.random.split(key)
        deck = full_deck(self.num_decks, self.deck_type)
        value, values_left = deal(k_value, deck)
        query, queries_left = deal(k_query, deck)
        counts = jnp.zeros(self.kinds, jnp.int32).at[value].add(1)
        state = CountRecallState(time=0, values_left=values_left, queries_left=queries_left, counts=counts, query=query)
        return self._observe(value, query), state

    def step_env(self, key, state, action, params):
        target = state.counts[state.query]
        k_value, k_query = jax.random.split(key)
        value, values_left = deal(k_value, state.values_left)
        query, queries_left = deal(k_query, state.queries_left)
        scale = 1.0 / (self.num_cards - 1)
        reward = jnp.where(action == target, scale, -scale)
        terminated = jnp.sum(values_left) == 0
        state = state.replace(
            time=state.time + 1, values_left=values_left, queries_left=queries_left,
            counts=state.counts.at[value].add(1), query=query,
        )
        return self._observe(value, query), state, reward, terminated, {}


# ---------------------------------------------------------------------------------------------------------


@struct.dataclass
class AutoencodeState(environment.EnvState):
    remaining: jax.Array  # [4]
    cards: jax.Array  # [N] suits in the order they were dealt
    dealt: jax.Array  # cards dealt (WATCH phase)
    played: jax.Array  # cards answered (PLAY phase)


class Autoencode(POPGymTask):
    """Watch the whole deck, then name it back in reverse order (a stack). 2N − 1 steps.

    Observation: one-hot(mode) ‖ one-hot(suit), mode WATCH = 1, PLAY = 0. The last card is already shown with
    mode PLAY; during PLAY the observation is constant (0, suit 0). Only the N PLAY steps are rewarded, ±1/N.
    """

    def __init__(self, num_decks: int = 1):
        _check_decks(num_decks)
        self.num_decks = num_decks
        self.num_cards = 52 * num_decks
        self.obs_size, self.num_actions_, self.max_steps = 6, 4, 2 * self.num_cards

    def reset_env(self, key, params):
        suit, remaining = deal(key, full_deck(self.num_decks))
        cards = jnp.zeros(self.num_cards, jnp.int32).at[0].set(suit)
        state = AutoencodeState(time=0, remaining=remaining, cards=cards, dealt=1, played=0)
        return jnp.concatenate([one_hot(1, 2), one_hot(suit, 4)]), state

    def step_env(self, key, state, action, params):
        watching = jnp.sum(state.remaining) > 0
        # WATCH: deal the next card and show it; the mode turns to PLAY as the deck empties.
        suit, remaining = deal(key, state.remaining)
        watch_obs = jnp.concatenate([one_hot(jnp.sum(remaining) > 0, 2), one_hot(suit, 4)])
        # PLAY: pop the most recent card not yet answered.
        in_hand = state.dealt - state.played
        correct = state.cards[jnp.maximum(in_hand - 1, 0)]
        reward = jnp.where(watching, 0.0, jnp.where(action == correct, 1.0, -1.0) / self.num_cards)
        terminated = ~watching & (in_hand == 1)
        state = state.replace(
            time=state.time + 1,
            remaining=jnp.where(watching, remaining, state.remaining),
            cards=jnp.where(watching, state.cards.at[state.dealt].set(suit, mode="drop"), state.cards),
            dealt=state.dealt + watching,
            played=state.played + ~watching,
        )
        obs = jnp.where(watching, watch_obs, jnp.concatenate([one_hot(0, 2), one_hot(0, 4)]))
        return obs, state, reward, terminated, {}
