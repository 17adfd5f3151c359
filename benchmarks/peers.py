"""Our memory models and recurrent DQN step beside two peer JAX libraries, memax and memorax: speed, compile
time and memory on the same inputs, and a check that the same maths gives the same numbers.

    pip install -r requirements-bench.txt      # the peers, into an environment that has this package
    JAX_PLATFORMS=cpu python benchmarks/peers.py          # writes book/results/peers_cpu.csv (+ _dqn.csv, .json)
    python benchmarks/peers.py --quick                    # small sizes, nothing written unless --out is given
    python benchmarks/peers.py --out book/results/peers_gpu.csv      # on a GPU

The peers are never installed by this script. A peer that is not importable is named in one line (with the
command above) and its side is skipped; with neither, the script says so and exits 0. Compile times are cold:
the package's persistent compilation cache is turned off for this process.

The peers.

  memax 0.1.1     the memoroids paper author's library of memory models (the GRAS framework: f, a monoid or a
                  set action, g). Its Equinox backend (`memax.equinox`, needs equinox) has all three models
                  compared here; every layer maps one tape (x [T, F], start [T]) with a carry h0 to (states, y),
                  and takes its scan as a field: `memax.equinox.scans.semigroup_scan` (jax.lax.associative_scan,
                  its default) or `set_action_scan` (jax.lax.scan). Batches: jax.vmap over tapes.
  memorax 1.0.1   a memory-RL library (DQN, R2D2, PPO, ... on flax.linen). Its memoroid models are cells
                  (`LRUCell`, `FFMCell`, `LinearAttentionCell`) inside `memorax.networks.Memoroid`, which runs
                  batches [B, T, F] natively with reset flags `mask` [B, T] (True: the step starts an episode)
                  and has ONE scan, jax.lax.associative_scan: its rows in serial mode have no peer numbers.

The models (one memory layer on each side, F = 64 features, float32 / complex64).

  ours: `make(name, 64, mode=mode, **SIZES[name]).clone(num_layers=1, gated_residual=False)`: one layer of the
  package's model without the paper's stack (make("lru") is two layers in the gated residual wrapper; the
  peers' layers have no wrapper). Every mode our `auto` can choose is measured: `associative` and `serial`
  (`memoroids_lite.models.modes(name)` less "auto"; `resolve_mode("auto")` picks serial on a CPU, associative
  on a GPU/TPU: column `auto`). The peer runs in the same mode when it has it.

  ours                                  memax (Equinox)                          memorax
  lru  hidden=128                       semigroups.lru.LRU(recurrent_size=128,   Memoroid(LRUCell(features=64,
                                          hidden_size=64)                          hidden_dim=128))
  ffm  trace_size=64, context_size=4    semigroups.ffm.FFM(hidden_size=64,       Memoroid(FFMCell(features=64,
                                          trace_size=64, context_size=4)           memory_size=64, context_size=4,
                                                                                   max_period=100))
  linear_attention key_size=64          semigroups.fart.FART(hidden_size=64,     Memoroid(LinearAttentionCell(
                                          recurrent_size=64)                       head_dim=64, num_heads=1))

  Linear attention uses keys of 64 (not the paper's 16) because both peers keep square key × value states
  (memax: recurrent_size × recurrent_size; memorax: head_dim × head_dim per head): with keys and values of
  64 the three states have the same size, 64 × 64 + 64.

  Parameters are copied from ours to the peer wherever a parameter means the same thing, so the timed programs
  run on the same numbers: LRU ν, θ, B, C, D (and the peers' free γ set to ours, log sqrt(1 − |λ|²)); FFM the
  input map (pre, its gate), the decay rates and frequencies (memax: its semigroup's (a, b); memorax: a = −|α|,
  b = ω), the mixing layer and the output gate; linear attention the key, query and value maps.

same_maths and what is compared (max_abs_diff, measured once per pair on a batch of CHECK_SHAPE = 2 tapes of
300 steps with an episode start every 100, in every mode of both sides, against ours in serial mode):

  lru, forward             same_maths True for both peers: the same recurrence h_t = λ h_{t−1} + γ ⊙ B x_t and
                           readout Re(C h_t) + D ⊙ x_t; the OUTPUTS are compared.
  lru, forward+backward    same_maths False: ours recomputes γ = sqrt(1 − |λ|²) from ν at every call, both peers
                           train log γ as a free parameter (as Orvieto et al. and minimal-LRU do), so ∂/∂ν
                           differs by design; the GRADIENTS of B, C, D and θ (which γ does not depend on) are
                           compared.
  ffm                      same_maths False: the recurrence (a trace decaying by exp(−|α| + iω) per step, reset
                           at episode starts) is the same and its RECURRENT STATES are compared, but the readouts
                           differ: ours MLP(LayerNorm(mix(S))) gated with the input; memax LayerNorm(mix(S) ⊙
                           gate) + x ⊙ (1 − gate); memorax LayerNorm(mix(S)) ⊙ gate + skip(x) ⊙ (1 − gate).
                           memorax counts time in absolute positions (Δt = t_j − t_i) and clips its rates to
                           |a| ≤ log(float32 max) / max_period − 0.01, which with its default max_period = 1024
                           (|a| ≤ 0.077) would clip ours (up to 0.5): it is built with max_period = 100 and our
                           frequencies copied in. (Its absolute time restarts at 0 on every call, so a memorax FFM
                           acting one step at a time, carrying its state, never decays between steps: on a
                           6-step tape its outputs differ from one call over the tape by 0.4; ours by 0.0. The
                           timed programs are whole tapes, where this does not arise.)
  linear_attention         same_maths False: readouts differ (ours MLP(attention + x); memax Linear(attention)
                           + x; memorax Dense(RMSNorm(attention))), and memax's FART keeps in its key sum only
                           the CURRENT key (`return kv_sum, k` in its semigroup: the normaliser is φ(q)·φ(k_t),
                           not φ(q)·Σφ(k)). Compared: memorax's recurrent states (the Σ φ(k) vᵀ sum and the key
                           sum, the same maths as ours with its value bias zero, as initialised); memax's
                           Σ φ(k) vᵀ sum only.

  memax 0.1.1's LRU annotates its readout as returning [recurrent_size] values while it returns [hidden_size],
  so with jaxtyping's run-time checks on, every LRU with recurrent_size ≠ hidden_size raises a TypeCheckError;
  the checks run while tracing only (none of them is in a compiled program), and the script turns them off.

  Timed: `forward` is y = model(x, start) for a batch of tapes, batched as each library's users do (ours and
  memax: jax.vmap over tapes; memorax: its batch axis); `forward+backward` the gradient of sum(y) with
  respect to every parameter. T = 100, 1,000, 10,000, batch 1 and 64, an episode start every 100 steps
  (each tape's starts shifted, the first step always one). Compile time (jax.jit(...).lower(...).compile())
  apart from run time (`memoroids_lite.timing.time_jitted`: the median of a few calls; its own compile reuses
  the program just compiled). Memory: XLA's temporary buffers of the compiled program
  (`memory_analysis()`); a program asking for more than the cap (--memory-cap-gib; 8 GiB on a CPU, half the
  device's memory on a GPU) is not run, and its row says so in `skipped`. `ratio` = theirs / ours run time
  (> 1: ours is faster).

The recurrent DQN step (CSV `..._dqn.csv`).

  Same task: Repeat Previous with 2 decks and k = 10 (the paper's; `memoroids_lite.envs.make`, which memorax
  runs through a 4-line adapter: memorax unpacks gymnax 0.0.x's 5-value step, gymnax 1.0 returns 6, so the
  adapter returns done = terminated or truncated). Same collection (8 environments, 104 steps between
  updates), replay size (200,000), optimiser (ours: clip 0.01 + Adam with warm-up, passed to memorax), τ and γ,
  and batch: 1,000 transitions, as our tape (1,000 consecutive steps) against memorax's 10 windows of 100
  steps, and our segments of L = 10 from zero memory against memorax's 100 windows of 10 (memorax always
  starts its windows at an episode's first step, from a zero carry). Network sizes: 256 features, two LRU
  layers of 128 complex states: ours is the paper's (Block, two LRU layers each in x + GLU(GELU(LRU(LN(x)))),
  two Blocks, a dueling head); memorax's nearest from its own parts: MLP(256), two
  Residual(PreNorm(Memoroid(LRUCell(256, 128)))), MLP(256, 256) and its DiscreteQNetwork (the `params`
  column counts each). The algorithms differ (same_maths False): ours is Double DQN with a Huber loss, Q(s')
  read off the same pass; memorax's DQN is plain DQN with a squared loss and a second pass over the next
  observations. A third side runs memorax's DQN loop (its buffer, sampling, loss) on OUR network, behind a small
  adapter (`OurNetworkForMemorax`: each tape through our network, vmapped), to tell the loop from the network.
  Measured, compile time apart: `update_ms` (sample + loss + gradient + optimiser + target, a
  lax.scan of ten, divided by ten), `collect_steps_per_s` (ε-greedy steps of the 8 environments), and one
  training iteration (104 steps, then one update; a lax.scan of ten, as memorax's `DQN.train` runs them):
  `env_steps_per_s` and `updates_per_s`. Evaluation is left out on both sides.

Options: --quick (T = 100, batch 1 and 8, a small DQN network; a smoke test of a few minutes on 2 cores),
--parts models,dqn, --peers memax,memorax, --models lru,ffm,linear_attention, --out PATH (the models CSV; the
DQN CSV and the JSON with the machine and the versions go next to it), --memory-cap-gib.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import pathlib
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import memoroids_lite.cache
from memoroids_lite.models import make, modes
from memoroids_lite.monoid import resolve_mode, serial_scan
from memoroids_lite.results import write_csv
from memoroids_lite.timing import machine, time_carried, time_jitted

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTALL = "pip install -r requirements-bench.txt"
FEATURES = 64
SIZES = {"lru": {"hidden": 128}, "ffm": {"trace_size": 64, "context_size": 4}, "linear_attention": {"key_size": 64}}
EPISODE = 100  # an episode starts every EPISODE steps
LENGTHS, BATCHES = (100, 1_000, 10_000), (1, 64)
QUICK_LENGTHS, QUICK_BATCHES = (100,), (1, 8)
CHECK_SHAPE = (2, 300)  # tapes, steps: the agreement check
DIRECTIONS = ("forward", "forward+backward")
# What each peer needs importable: memax's models are in its Equinox backend.
PEER_MODULES = {"memax": ("memax", "equinox"), "memorax": ("memorax",)}
PEER_MODELS = {"memax": ("lru", "ffm", "linear_attention"), "memorax": ("lru", "ffm", "linear_attention")}
MEMORAX_FFM_MAX_PERIOD = 100  # keeps memorax's clip of the decay rates (|a| <= 0.877) clear of ours (<= 0.5)
TOLERANCE = 1e-4  # agreement: max |ours - theirs| <= TOLERANCE * (1 + max |ours|)


# ---------------------------------------------------------------------------------------------------------
# The peers: found, never installed
# ---------------------------------------------------------------------------------------------------------


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def load_peers(wanted) -> dict[str, str]:
    """{peer: version} of the peers in `wanted` that import; one line for each that does not."""
    found = {}
    for peer in wanted:
        try:
            for module in PEER_MODULES[peer]:
                importlib.import_module(module)
        except ImportError as error:
            print(f"{peer}: not importable ({error.name or error}); skipping its side. "
                  f"Install the peers into this environment with `{INSTALL}`.")
            continue
        found[peer] = version(peer)
    return found


def versions() -> dict[str, str]:
    return {p: version(p) for p in ("memax", "memorax", "equinox", "flax", "optax", "gymnax", "jaxtyping", "flashbax")}


# ---------------------------------------------------------------------------------------------------------
# One memory layer on each side, the same parameters wherever they mean the same thing
# ---------------------------------------------------------------------------------------------------------


class Side(NamedTuple):
    params: Any  # a pytree of arrays: what jax.grad differentiates
    apply: Callable  # (params, x [B, T, F], start bool[B, T]) -> y [B, T, F]
    states: Callable  # (params, x, start) -> its recurrent states, in its own layout (our_parts, their_parts)
    scan: str  # the scan that runs, in the side's own words


def tapes(key, batch: int, length: int):
    """x [B, T, F] and start flags: an episode every EPISODE steps, each tape's shifted, step 0 always a start."""
    x = jax.random.normal(key, (batch, length, FEATURES))
    t = jnp.arange(length)[None, :] + 37 * jnp.arange(batch)[:, None]
    start = (t % EPISODE == 0).at[:, 0].set(True)
    return x, start


def our_model(name: str, mode: str):
    return make(name, FEATURES, mode=mode, **SIZES[name]).clone(num_layers=1, gated_residual=False)


_OUR_PARAMS: dict = {}


def ours(name: str, mode: str, key) -> Side:
    model = our_model(name, mode)
    cache_key = (name, bytes(np.asarray(jax.random.key_data(key))))  # both modes and every peer: one init
    if cache_key not in _OUR_PARAMS:
        _OUR_PARAMS[cache_key] = jax.jit(model.init)(key, jnp.zeros((2, FEATURES)), jnp.ones(2, bool))
    params = _OUR_PARAMS[cache_key]

    def apply(params, x, start):
        return jax.vmap(lambda x, s: model.apply(params, x, s)[0])(x, start)

    def states(params, x, start):
        def scanned(module, x, s):
            memoroid = module.layers[0].memoroid()
            return serial_scan(memoroid.monoid, memoroid.f(x), start=s)

        return jax.vmap(lambda x, s: model.apply(params, x, s, method=scanned))(x, start)

    return Side(params, apply, states, mode)


def _layer(params):
    return params["params"]["layers_0"]


def _lru_gamma_log(p):
    lam = jnp.exp(-jnp.exp(p["nu_log"]) + 1j * jnp.exp(p["theta_log"]))
    return jnp.log(jnp.sqrt(1 - jnp.abs(lam) ** 2))


def memax_side(name: str, mode: str, our_params, key) -> Side:
    """memax's Equinox layer, our parameters copied in, its scan chosen by `mode`."""
    import equinox as eqx
    import jaxtyping
    from memax.equinox import scans

    # memax 0.1.1 annotates LRU.backward_map as returning [recurrent_size] while it returns [hidden_size], so
    # with jaxtyping's run-time checks on, any LRU with recurrent_size != hidden_size raises a TypeCheckError.
    # The checks run while tracing only (nothing of them is in the compiled program): they are turned off.
    jaxtyping.config.update("jaxtyping_disable", True)
    p = _layer(our_params)
    if name == "lru":
        from memax.equinox.semigroups.lru import LRU

        module = LRU(recurrent_size=SIZES["lru"]["hidden"], hidden_size=FEATURES, key=key)
        module = eqx.tree_at(
            lambda m: (m.nu_log, m.theta_log, m.gamma_log, m.B_re, m.B_im, m.C_re, m.C_im, m.D), module,
            (p["nu_log"], p["theta_log"], _lru_gamma_log(p), p["B_re"], p["B_im"], p["C_re"], p["C_im"], p["D"]))
    elif name == "ffm":
        from memax.equinox.semigroups.ffm import FFM

        module = FFM(hidden_size=FEATURES, trace_size=SIZES["ffm"]["trace_size"],
                     context_size=SIZES["ffm"]["context_size"], key=key)
        module = eqx.tree_at(
            lambda m: (m.pre.weight, m.pre.bias, m.gate_in.linear.weight, m.gate_in.linear.bias,
                       m.algebra.algebra.params, m.mix.weight, m.mix.bias, m.gate_out.linear.weight,
                       m.gate_out.linear.bias), module,
            (p["pre"]["kernel"].T, p["pre"]["bias"], p["pre_gate"]["kernel"].T, p["pre_gate"]["bias"],
             (p["alpha"], p["omega"]), p["mix"]["kernel"].T, p["mix"]["bias"], p["out_gate"]["kernel"].T,
             p["out_gate"]["bias"]))
    elif name == "linear_attention":
        from memax.equinox.semigroups.fart import FART

        module = FART(hidden_size=FEATURES, recurrent_size=SIZES["linear_attention"]["key_size"], key=key)
        module = eqx.tree_at(lambda m: (m.K.weight, m.Q.weight, m.V.weight), module,
                             (p["key"]["kernel"].T, p["query"]["kernel"].T, p["value"]["kernel"].T))
    else:
        raise ValueError(f"memax has no counterpart of {name!r} here")
    scan = scans.semigroup_scan if mode == "associative" else scans.set_action_scan
    module = eqx.tree_at(lambda m: m.scan, module, scan)
    params, static = eqx.partition(module, eqx.is_array)

    def apply(params, x, start):
        m = eqx.combine(params, static)
        h0 = m.initialize_carry()
        return jax.vmap(lambda x, s: m(h0, (x, s))[1])(x, start)

    def states(params, x, start):
        m = eqx.combine(params, static)
        h0 = m.initialize_carry()

        def one(x, s):  # what memax's GRAS.__call__ does before its readout, less Resettable's start flag
            return m.scan(m.algebra, h0, eqx.filter_vmap(m.forward_map)((x, s), None))[0]

        return jax.vmap(one)(x, start)

    return Side(params, apply, states, f"memax.equinox.scans.{scan.__name__}")


def memorax_side(name: str, mode: str, our_params, key) -> Side | None:
    """memorax's Memoroid with its cell, our parameters copied in; None in serial mode (it has no serial scan)."""
    if mode != "associative":
        return None
    import flax.linen as nn
    from memorax.networks import FFMCell, LinearAttentionCell, LRUCell, Memoroid

    p = _layer(our_params)
    if name == "lru":
        cell = LRUCell(features=FEATURES, hidden_dim=SIZES["lru"]["hidden"])
        mapped = {"nu_log": p["nu_log"], "theta_log": p["theta_log"], "gamma_log": _lru_gamma_log(p),
                  "B_real": p["B_re"], "B_imag": p["B_im"], "C_real": p["C_re"], "C_imag": p["C_im"], "D": p["D"]}
    elif name == "ffm":
        cell = FFMCell(features=FEATURES, memory_size=SIZES["ffm"]["trace_size"],
                       context_size=SIZES["ffm"]["context_size"], max_period=MEMORAX_FFM_MAX_PERIOD)
        mapped = {"a": -jnp.abs(p["alpha"]), "b": p["omega"], "pre": p["pre"], "input_gate": p["pre_gate"],
                  "mix": p["mix"], "output_gate": p["out_gate"]}
    elif name == "linear_attention":
        cell = LinearAttentionCell(head_dim=SIZES["linear_attention"]["key_size"], num_heads=1,
                                   kernel_init=nn.initializers.lecun_normal(), bias_init=nn.initializers.zeros,
                                   param_dtype=jnp.float32)
        mapped = {k: {"kernel": p[k]["kernel"][:, None, :]} for k in ("key", "query", "value")}
    else:
        raise ValueError(f"memorax has no counterpart of {name!r} here")
    model = Memoroid(cell)
    x, start = tapes(key, 1, 2)
    params = jax.jit(model.init)(key, x, start)
    inner = dict(params["params"]["cell"])
    for k, value in mapped.items():
        assert jax.tree.structure(inner[k]) == jax.tree.structure(value), k
        assert jax.tree.map(jnp.shape, inner[k]) == jax.tree.map(jnp.shape, value), k
        inner[k] = value
    params = {"params": {"cell": inner}}

    def apply(params, x, start):
        return model.apply(params, x, start)[1]

    def states(params, x, start):
        seen = {}

        def catch(next_fun, args, kwargs, context):  # the states memorax hands to its readout
            if context.method_name == "read":
                seen["h"] = args[0]
            return next_fun(*args, **kwargs)

        with nn.intercept_methods(catch):
            model.apply(params, x, start)
        return seen["h"]

    return Side(params, apply, states, "memorax Memoroid (jax.lax.associative_scan)")


BUILDERS = {"memax": memax_side, "memorax": memorax_side}


# ---------------------------------------------------------------------------------------------------------
# Agreement: the same maths must give the same numbers
# ---------------------------------------------------------------------------------------------------------


def our_parts(peer: str, name: str, states) -> list:
    """The parts of our recurrent states that `peer` defines the same way: FFM's trace S [B, T, m, c]; linear
    attention's Σ φ(k) vᵀ [B, T, key, value] and (memorax only) the key sum Σ φ(k) [B, T, key]."""
    if name == "ffm":
        return [states[0]]
    kv, k = states
    return [kv] if peer == "memax" else [kv, k]


def their_parts(peer: str, name: str, states) -> list:
    """The same parts of the peer's states, in our layout."""
    if peer == "memax":  # FFM: (S, t) -> S; FART: (Σ φ(k) vᵀ, the current key) -> the sum
        return [states[0]]
    if name == "ffm":
        return [states[0]]  # (S, t)
    kv, k = states  # [B, T, heads=1, value, key], [B, T, 1, key]
    return [jnp.swapaxes(kv[:, :, 0], -1, -2), k[:, :, 0]]


# LRU parameters whose gradients must agree (γ does not depend on them): our name -> the peer's
LRU_SHARED = {
    "memax": {"B_re": "B_re", "B_im": "B_im", "C_re": "C_re", "C_im": "C_im", "D": "D", "theta_log": "theta_log"},
    "memorax": {"B_re": "B_real", "B_im": "B_imag", "C_re": "C_real", "C_im": "C_imag", "D": "D",
                "theta_log": "theta_log"},
}


def _their_lru_grads(peer: str, grads) -> dict:
    names = LRU_SHARED[peer]
    if peer == "memax":
        return {ours_name: getattr(grads, theirs) for ours_name, theirs in names.items()}
    cell = grads["params"]["cell"]
    return {ours_name: cell[theirs] for ours_name, theirs in names.items()}


def _max_diff(a_list, b_list) -> float:
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        assert a.shape == b.shape, (a.shape, b.shape)
    return max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(a_list, b_list))


def same_maths(peer: str, name: str, direction: str) -> tuple[bool, str]:
    """(same_maths, what is compared) — the reasons are in the module's docstring."""
    if name == "lru":
        if direction == "forward":
            return True, "outputs"
        return False, "gradients of B, C, D, theta (peer trains log gamma freely; d/dnu differs)"
    if name == "ffm":
        return False, "recurrent states (readouts differ)"
    if peer == "memax":
        return False, "sum of phi(k) v^T (peer's key sum keeps only the current key; readouts differ)"
    return False, "recurrent states: sum of phi(k) v^T and key sum (readouts differ)"


def agreement(peer: str, name: str, key=None, directions=DIRECTIONS, shape=CHECK_SHAPE,
              our_modes=("associative", "serial")) -> dict[str, dict]:
    """For each direction: same_maths, what is compared, and the largest |ours − theirs| over every mode of
    the peer and `our_modes` of ours (the serial one always) against ours in serial mode, with the scale
    max |ours|; on `shape` = (tapes, steps) tapes, the peer holding our parameters."""
    key = jax.random.key(1) if key is None else key
    k_params, k_peer, k_x = jax.random.split(key, 3)
    x, start = tapes(k_x, *shape)
    every = [m for m in modes(name) if m != "auto"]
    ours_all = {m: ours(name, m, k_params) for m in every if m in our_modes or m == "serial"}
    reference = ours_all["serial"]
    theirs = [s for m in every if (s := BUILDERS[peer](name, m, reference.params, k_peer)) is not None]

    sides = [*ours_all.values(), *theirs]  # reference first
    is_ours = [True] * len(ours_all) + [False] * len(theirs)

    def together(fn):
        """fn(side, its params, is ours) -> [arrays] for every side, as one compiled program."""
        run = jax.jit(lambda params: [fn(side, p, mine) for side, p, mine in zip(sides, params, is_ours)])
        found = run([side.params for side in sides])
        return found[0], found

    def outputs(side, params, mine):
        return [side.apply(params, x, start)]

    def gradients(side, params, mine):
        grads = jax.grad(lambda p: jnp.sum(side.apply(p, x, start)))(params)
        named = _layer(grads) if mine else _their_lru_grads(peer, grads)
        return [named[k] for k in LRU_SHARED[peer]]

    def states(side, params, mine):
        found = side.states(params, x, start)
        return our_parts(peer, name, found) if mine else their_parts(peer, name, found)

    result = {}
    for direction in directions:
        same, compared = same_maths(peer, name, direction)
        if name == "lru":
            want, got = together(outputs if direction == "forward" else gradients)
        elif "forward" in result:  # FFM and linear attention: the same recurrent states serve both rows
            result[direction] = dict(result["forward"], same_maths=same, compared=compared)
            continue
        else:
            want, got = together(states)
        diff = max(_max_diff(want, g) for g in got[1:])
        scale = max(float(jnp.max(jnp.abs(a))) for a in want)
        result[direction] = {"same_maths": same, "compared": compared, "max_abs_diff": diff, "scale": scale}
    return result


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------


def program(apply: Callable, direction: str) -> Callable:
    if direction == "forward":
        return apply
    return jax.grad(lambda params, x, start: jnp.sum(apply(params, x, start)))


def repeats_for(length: int, quick: bool) -> int:
    return 3 if quick else 5 if length <= 10**3 else 3


def measure(fn: Callable, args: tuple, repeats: int, cap_bytes: float) -> dict:
    """Compile time, temporary memory and (when under the cap) the median run time of fn(*args)."""
    begin = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - begin
    analysis = compiled.memory_analysis()
    temp = getattr(analysis, "temp_size_in_bytes", None) if analysis is not None else None
    result = {"compile_s": compile_s, "run_s": None, "temp_bytes": temp, "skipped": ""}
    if temp is not None and temp > cap_bytes:
        result["skipped"] = f"needs {temp / 2**30:.1f} GiB of temporary memory (cap {cap_bytes / 2**30:.1f} GiB)"
        return result
    del compiled
    # time_jitted compiles jax.jit(fn) for the same arguments again: JAX's in-memory cache hands it the program
    # compiled above, so its own compile time is ~0 and only its run time is kept.
    result["run_s"] = time_jitted(fn, *args, repeats=repeats).run_s
    return result


def default_cap_bytes() -> float:
    device = jax.devices()[0]
    if device.platform == "cpu":
        return 8 * 2**30
    stats = device.memory_stats() or {}
    return 0.5 * stats.get("bytes_limit", 16 * 2**30)


def _fmt(value, spec):
    return "" if value is None else format(value, spec)


def models_part(peers: dict[str, str], names, lengths, batches, quick, cap_bytes, info) -> list[dict]:
    rows = []
    auto = resolve_mode("auto")
    begin = time.perf_counter()
    checks = {}
    for peer in peers:
        for name in names:
            if name in PEER_MODELS[peer]:
                checks[(peer, name)] = agreement(peer, name)
                for direction, c in checks[(peer, name)].items():
                    print(f"  check {peer:8s} {name:16s} {direction:17s} same_maths={c['same_maths']!s:5s} "
                          f"max |ours - theirs| = {c['max_abs_diff']:.2e} (max |ours| {c['scale']:.2g}) "
                          f"on {c['compared']}", flush=True)
    for name in names:
        for length in lengths:
            for batch in batches:
                x, start = tapes(jax.random.key(length * 1000 + batch), batch, length)
                for mode in [m for m in modes(name) if m != "auto"]:
                    key = jax.random.key(0)
                    mine = ours(name, mode, key)
                    theirs = {peer: BUILDERS[peer](name, mode, mine.params, key)
                              for peer in peers if name in PEER_MODELS[peer]}
                    for direction in DIRECTIONS:
                        repeats = repeats_for(length, quick)
                        our = measure(program(mine.apply, direction), (mine.params, x, start), repeats, cap_bytes)
                        for peer, side in theirs.items():
                            if side is None:
                                their = {"compile_s": None, "run_s": None, "temp_bytes": None,
                                         "skipped": f"{peer} has no {mode} scan"}
                            else:
                                their = measure(program(side.apply, direction), (side.params, x, start), repeats,
                                                cap_bytes)
                            check = checks[(peer, name)][direction]
                            ratio = (their["run_s"] / our["run_s"]) if our["run_s"] and their["run_s"] else None
                            skipped = "; ".join(f"{who}: {r['skipped']}"
                                                for who, r in (("ours", our), ("theirs", their)) if r["skipped"])
                            rows.append({
                                "peer": peer, "peer_version": peers[peer], "model": name, "direction": direction,
                                "T": length, "batch": batch, "mode": mode, "auto": mode == auto,
                                "theirs_scan": side.scan if side is not None else "",
                                **columns("ours", our), **columns("theirs", their),
                                "ratio": _fmt(ratio, ".3g"), "same_maths": check["same_maths"],
                                "compared": check["compared"], "max_abs_diff": f"{check['max_abs_diff']:.3g}",
                                "max_abs_ours": f"{check['scale']:.3g}",
                                "skipped": skipped, "repeats": repeats, "features": FEATURES,
                                "options": " ".join(f"{k}={v}" for k, v in SIZES[name].items()),
                                "episode_length": EPISODE, "load_1min": f"{os.getloadavg()[0]:.2f}",
                                **machine_columns(info),
                            })
                            progress(rows[-1], time.perf_counter() - begin)
    return rows


def progress(r: dict, elapsed: float) -> None:
    print(f"  {r['peer']:8s} {r['model']:16s} {r['direction']:17s} T={r['T']:>6d} B={r['batch']:>3d} {r['mode']:11s} "
          f"ours {r['ours_run_ms'] or '—':>9s} ms (compile {r['ours_compile_s'] or '—':>6s} s)  "
          f"theirs {r['theirs_run_ms'] or '—':>9s} ms (compile {r['theirs_compile_s'] or '—':>6s} s)  "
          f"ratio {r['ratio'] or '—':>6s}   ({elapsed:6.0f} s so far)", flush=True)


def columns(side: str, measured: dict) -> dict:
    run, temp = measured["run_s"], measured["temp_bytes"]
    return {f"{side}_compile_s": _fmt(measured["compile_s"], ".4g"),
            f"{side}_run_ms": _fmt(None if run is None else 1e3 * run, ".5g"),
            f"{side}_temp_mib": _fmt(None if temp is None else temp / 2**20, ".1f")}


def machine_columns(info: dict) -> dict:
    return {"device": info["device"], "cpu": info["cpu"], "cores": info["cores"], "jax": info["jax"],
            "jaxlib": info["jaxlib"], "memoroids_lite": info["memoroids_lite"]}


def print_models(rows) -> None:
    if not rows:
        return
    print("\nrun time in ms (median; compile time apart), ratio = theirs / ours (> 1: ours is faster)")
    header = (f"{'peer':8s} {'model':16s} {'direction':17s} {'T':>6s} {'B':>3s} {'mode':11s} {'ours ms':>10s} "
              f"{'theirs ms':>10s} {'ratio':>7s} {'ours c s':>8s} {'thrs c s':>8s} {'ours MiB':>9s} {'thrs MiB':>9s} "
              f"{'same':5s} {'max diff':>9s}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['peer']:8s} {r['model']:16s} {r['direction']:17s} {r['T']:>6d} {r['batch']:>3d} {r['mode']:11s} "
              f"{r['ours_run_ms'] or '—':>10s} {r['theirs_run_ms'] or '—':>10s} {r['ratio'] or '—':>7s} "
              f"{r['ours_compile_s'] or '—':>8s} {r['theirs_compile_s'] or '—':>8s} "
              f"{r['ours_temp_mib'] or '—':>9s} {r['theirs_temp_mib'] or '—':>9s} {r['same_maths']!s:5s} "
              f"{r['max_abs_diff']:>9s}")
    skipped = [r for r in rows if r["skipped"]]
    if skipped:
        print("\nnot run (or no peer numbers):")
        for r in skipped:
            print(f"  {r['peer']} {r['model']} {r['direction']} T={r['T']} B={r['batch']} {r['mode']}: {r['skipped']}")
    print("\neach side in its faster mode: theirs / ours run time")
    groups = {}
    for r in rows:
        groups.setdefault((r["peer"], r["model"], r["direction"], r["T"], r["batch"]), []).append(r)
    for (peer, name, direction, length, batch), group in groups.items():
        best_ours = min((float(r["ours_run_ms"]), r["mode"]) for r in group if r["ours_run_ms"]) if any(
            r["ours_run_ms"] for r in group) else None
        best_theirs = min((float(r["theirs_run_ms"]), r["mode"]) for r in group if r["theirs_run_ms"]) if any(
            r["theirs_run_ms"] for r in group) else None
        if best_ours and best_theirs:
            print(f"  {peer:8s} {name:16s} {direction:17s} T={length:>6d} B={batch:>3d}  ours {best_ours[0]:9.3f} ms "
                  f"({best_ours[1]:11s}) theirs {best_theirs[0]:9.3f} ms ({best_theirs[1]:11s}) "
                  f"ratio {best_theirs[0] / best_ours[0]:6.2f}")


# ---------------------------------------------------------------------------------------------------------
# The recurrent DQN step
# ---------------------------------------------------------------------------------------------------------


class FiveValueStep:
    """A gymnax 1.0 environment as memorax's DQN steps it: gymnax 0.0.x's (obs, state, reward, done, info).

    gymnax 1.0 returns (obs, state, reward, terminated, truncated, info); memorax 1.0.1 unpacks five values.
    done = terminated or truncated (memorax bootstraps on neither); the info is dropped (memorax stores it
    with every transition)."""

    def __init__(self, env):
        self._env = env

    def __getattr__(self, name):
        return getattr(self._env, name)

    def reset(self, key, params=None):
        return self._env.reset(key, params)

    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, _ = self._env.step(key, state, action, params)
        return obs, state, reward, terminated | truncated, {}


DQN_SIDES = ("ours", "memorax", "memorax, our network")
DQN_VARIANTS = {  # our batching -> memorax's windows (count, length): 1,000 transitions each
    "tape": (dict(batching="tape"), (10, 100)),
    "segment L=10 zero": (dict(batching="segment", segment_length=10), (100, 10)),
}


def dqn_config(quick: bool, variant: dict):
    from memoroids_lite.rl import for_task

    base = dict(model="lru")
    if quick:
        base.update(features=32, model_kwargs={"hidden": 16}, buffer_size=20_000, warmup_steps=2_000)
    return for_task("RepeatPreviousEasy", **base, **variant)


def count(tree) -> int:
    return int(sum(leaf.size for leaf in jax.tree.leaves(tree)))


def ours_dqn(config, repeats: int) -> dict:
    from memoroids_lite.rl import make_train

    train = make_train(config)
    steps = config.rollout_length
    state = jax.jit(train.init)(jax.random.PRNGKey(0))  # parameters, storage, the random warm-up

    def iteration(s, _):
        s, _, _ = train.collect(s, steps, 0.1)
        s, loss = train.update(s, None)
        return s, loss

    result = {"params": count(state.params)}
    result["update_compile_s"], update_s, (state, _) = time_carried(lambda s: jax.lax.scan(train.update, s, None, 10),
                                                             state, repeats)
    result["update_ms"] = 1e3 * update_s / 10
    result["collect_compile_s"], collect_s, (state, *_) = time_carried(lambda s: train.collect(s, steps, 0.1), state, repeats)
    result["collect_steps_per_s"] = steps * config.num_envs / collect_s
    result["iteration_compile_s"], iteration_s, _ = time_carried(lambda s: jax.lax.scan(iteration, s, None, 10), state,
                                                          repeats)
    result["env_steps_per_s"] = 10 * steps * config.num_envs / iteration_s
    result["updates_per_s"] = 10 * config.updates_per_rollout / iteration_s
    return result


def memorax_network(config, num_actions: int):
    """memorax's nearest to the paper's network, from its own parts (see the docstring)."""
    from memorax.networks import (
        MLP,
        FeatureExtractor,
        LRUCell,
        Memoroid,
        Network,
        PreNorm,
        Residual,
        SequenceModelWrapper,
        Stack,
        heads,
    )

    features, hidden = config.features, config.model_kwargs["hidden"]
    lru = [Residual(PreNorm(Memoroid(LRUCell(features=features, hidden_dim=hidden)))) for _ in range(2)]
    torso = Stack(blocks=(*lru, SequenceModelWrapper(MLP(features=(features, features)))))
    return Network(FeatureExtractor(MLP(features=(features,))), torso, heads.DiscreteQNetwork(num_actions))


class OurNetworkForMemorax:
    """Our paper Q-network (rl/dqn/network.py) behind the calls memorax's DQN makes of its `q_network`:
    init, apply(params, obs [B, T, d], mask [B, T], action, reward, done, carry) -> (carry, (q, aux)) and
    initialize_carry(obs shape). Each tape runs through our network, vmapped; mask is memorax's start flag."""

    def __init__(self, network):
        self.network = network

    def initialize_carry(self, shape):
        from memoroids_lite.rl.body import initial_state

        return jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, (shape[0],) + leaf.shape), initial_state(self.network))

    def init(self, rngs, obs, mask, action, reward, done, carry=None):
        return self.network.init(rngs["params"], obs[0], mask[0].astype(bool))

    def apply(self, params, obs, mask, action, reward, done, carry=None, rngs=None):
        carry = self.initialize_carry(obs.shape) if carry is None else carry
        q, carry = jax.vmap(lambda o, m, c: self.network.apply(params, o, m.astype(bool), c))(obs, mask, carry)
        return carry, (q, {})


def memorax_dqn(config, windows: tuple[int, int], repeats: int, our_network: bool = False) -> dict:
    """memorax's DQN on our task; with our_network, driving our paper Q-network instead of its own."""
    import optax
    from memorax.algorithms import DQN, DQNConfig
    from memorax.buffers import make_episode_buffer

    from memoroids_lite.envs import make as make_env
    from memoroids_lite.rl.dqn.loop import make_network, make_optimizer

    env, env_params = make_env(config.env, **config.env_kwargs)
    env = FiveValueStep(env)
    count_, length = windows
    steps = config.num_envs * config.rollout_length
    cfg = DQNConfig(name="memorax DQN", learning_rate=config.learning_rate, num_envs=config.num_envs,
                    num_eval_envs=config.num_envs, buffer_size=config.buffer_size, gamma=config.gamma, tau=config.tau,
                    target_network_frequency=1, batch_size=count_, start_e=config.epsilon_start,
                    end_e=config.epsilon_end, exploration_fraction=1.0, learning_starts=config.warmup_steps,
                    train_frequency=steps, burn_in_length=0)
    buffer = make_episode_buffer(max_length=config.buffer_size, min_length=count_ * length, sample_batch_size=count_,
                                 sample_sequence_length=length, add_batch_size=config.num_envs, add_sequences=True)
    schedule = optax.linear_schedule(config.epsilon_start, config.epsilon_end, config.train_steps)
    network = (OurNetworkForMemorax(make_network(config, env.num_actions)) if our_network
               else memorax_network(config, env.num_actions))
    agent = DQN(cfg, env, env_params, network, make_optimizer(config), buffer, schedule)
    key, state = agent.init(jax.random.key(0))
    key, state = agent.warmup(key, state, config.warmup_steps)
    carry = (key, state)

    def updates(carry):
        def one(c, _):
            key, state = c
            key, sub = jax.random.split(key)
            state, loss, _ = agent._update(sub, state)
            return (key, state), loss

        return jax.lax.scan(one, carry, None, 10)

    def collect(carry):
        carry, _ = jax.lax.scan(partial_step(agent), carry, length=steps // config.num_envs)
        return (carry,)

    result = {"params": count(state.params)}
    result["update_compile_s"], update_s, (carry, _) = time_carried(updates, carry, repeats)
    result["update_ms"] = 1e3 * update_s / 10
    result["collect_compile_s"], collect_s, (carry,) = time_carried(collect, carry, repeats)
    result["collect_steps_per_s"] = steps / collect_s
    # memorax's DQN.train(key, state, num_steps) is this scan of its _learn (jitted with `self` static): run
    # here as the same scan so its compile time can be taken apart and its state donated like ours.
    result["iteration_compile_s"], iteration_s, _ = time_carried(lambda c: jax.lax.scan(agent._learn, c, length=10), carry,
                                                          repeats)
    result["env_steps_per_s"] = 10 * steps / iteration_s
    result["updates_per_s"] = 10 / iteration_s
    return result


def partial_step(agent):
    from functools import partial

    return partial(agent._step, policy=agent._epsilon_greedy_action)


def dqn_part(peers: dict[str, str], quick: bool, info) -> list[dict]:
    if "memorax" not in peers:
        print("dqn: memorax is not importable; the DQN comparison is skipped.")
        return []
    rows = []
    repeats = 3 if quick else 5
    for variant, (overrides, windows) in DQN_VARIANTS.items():
        config = dqn_config(quick, overrides)
        common = {"task": f"{config.env} {config.env_kwargs}", "features": config.features,
                  "memory": f"2 x LRU hidden={config.model_kwargs['hidden']}", "num_envs": config.num_envs,
                  "steps_per_update": config.num_envs * config.rollout_length, "transitions_per_update": 1000,
                  "buffer_size": config.buffer_size, "same_maths": False}
        for side in DQN_SIDES:
            begin = time.perf_counter()
            if side == "ours":
                result = ours_dqn(config, repeats)
            else:
                result = memorax_dqn(config, windows, repeats, our_network=side == "memorax, our network")
            batch = (f"tape of {config.batch_size}" if config.batching == "tape"
                     else f"{config.batch_size // config.segment_length} segments of {config.segment_length}")
            if side != "ours":
                batch = f"{windows[0]} windows of {windows[1]}"
            rows.append({"side": side, "version": info["memoroids_lite"] if side == "ours" else peers["memorax"],
                         "variant": variant, "batch": batch, **common,
                         **{k: (f"{v:.5g}" if isinstance(v, float) else v) for k, v in result.items()},
                         "load_1min": f"{os.getloadavg()[0]:.2f}", **machine_columns(info)})
            print(f"  dqn {variant:18s} {side:21s} {batch:22s} update {result['update_ms']:8.2f} ms  "
                  f"collect {result['collect_steps_per_s']:9.0f} steps/s  iteration {result['env_steps_per_s']:8.0f} "
                  f"steps/s {result['updates_per_s']:6.2f} updates/s  params {result['params']:,}  "
                  f"({time.perf_counter() - begin:.0f} s)", flush=True)
    return rows


def print_dqn(rows) -> None:
    if not rows:
        return
    print("\nrecurrent DQN on Repeat Previous (2 decks, k = 10), 1,000 transitions per update: ours, memorax "
          "(its network and loss), memorax driving our network (its loss)")
    keys = ("update_ms", "collect_steps_per_s", "env_steps_per_s", "updates_per_s", "update_compile_s",
            "iteration_compile_s", "params")
    print(f"{'variant':18s} {'side':21s} {'batch':22s} " + " ".join(f"{k:>19s}" for k in keys))
    for r in rows:
        print(f"{r['variant']:18s} {r['side']:21s} {r['batch']:22s} " + " ".join(f"{r[k]!s:>19s}" for k in keys))
    for variant in DQN_VARIANTS:
        by_side = {r["side"]: r for r in rows if r["variant"] == variant}
        for side in DQN_SIDES[1:]:
            if "ours" in by_side and side in by_side:
                ours_, theirs_ = by_side["ours"], by_side[side]
                update = float(theirs_["update_ms"]) / float(ours_["update_ms"])
                per_s = float(ours_["updates_per_s"]) / float(theirs_["updates_per_s"])
                print(f"{variant}, {side}: update time theirs / ours {update:.2f}, "
                      f"iterations per second ours / theirs {per_s:.2f}")


# ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="T = 100, batch 1 and 8, a small DQN: a smoke test")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="models CSV (default book/results/peers_<backend>.csv; none with --quick)")
    parser.add_argument("--parts", default="models,dqn", help="comma-separated: models, dqn")
    parser.add_argument("--peers", default="memax,memorax", help="comma-separated: memax, memorax")
    parser.add_argument("--models", default="lru,ffm,linear_attention", help="comma-separated model names")
    parser.add_argument("--memory-cap-gib", type=float, default=None,
                        help="skip programs asking for more temporary memory (default 8 on a CPU, half a GPU's)")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    wanted = [p.strip() for p in args.peers.split(",") if p.strip()]
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for label, given, allowed in (("part", parts, {"models", "dqn"}), ("peer", set(wanted), set(PEER_MODULES)),
                                  ("model", set(names), set(SIZES))):
        if given - allowed:
            parser.error(f"unknown {label}(s) {sorted(given - allowed)}; choose from {sorted(allowed)}")

    memoroids_lite.cache.disable()  # cold compile times
    out = args.out or (None if args.quick else ROOT / "book" / "results" / f"peers_{jax.default_backend()}.csv")
    info = machine()
    peer_versions = versions()
    print(f"device: {info['device']} | cpu: {info['cpu']} | cores: {info['cores']} | jax {info['jax']} "
          f"(jaxlib {info['jaxlib']}) | memoroids_lite {info['memoroids_lite']} | "
          + " ".join(f"{k} {v}" for k, v in peer_versions.items()) + f" | load {os.getloadavg()[0]:.1f}")
    peers = load_peers(wanted)
    if not peers:
        print(f"no peer is importable: nothing to compare. `{INSTALL}` installs them.")
        return
    cap = (args.memory_cap_gib * 2**30) if args.memory_cap_gib else default_cap_bytes()
    begin = time.perf_counter()
    model_rows, dqn_rows = [], []
    if "models" in parts:
        lengths, batches = (QUICK_LENGTHS, QUICK_BATCHES) if args.quick else (LENGTHS, BATCHES)
        model_rows = models_part(peers, names, lengths, batches, args.quick, cap, info)
        print_models(model_rows)
    if "dqn" in parts:
        dqn_rows = dqn_part(peers, args.quick, info)
        print_dqn(dqn_rows)
    if out is not None:
        out = pathlib.Path(out)
        if model_rows:
            write_csv(out, model_rows)
            print(f"wrote {len(model_rows)} rows to {out}")
        if dqn_rows:
            path = write_csv(out.with_name(out.stem + "_dqn" + out.suffix), dqn_rows)
            print(f"wrote {len(dqn_rows)} rows to {path}")
        sidecar = out.with_suffix(".json")
        sidecar.write_text(json.dumps({"machine": info, "versions": peer_versions, "peers": peers,
                                       "memory_cap_bytes": cap, "quick": args.quick,
                                       "command": "python benchmarks/peers.py" + (" --quick" if args.quick else "")},
                                      indent=2) + "\n")
        print(f"wrote {sidecar}")
    print(f"\ndone in {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
