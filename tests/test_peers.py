"""benchmarks/peers.py copies our parameters into the peers' models (memax, memorax); where the maths is the same
the numbers must be: LRU's outputs, and the recurrent states of FFM and linear attention, in every scan mode of
the peer, on two small tapes with episode starts inside them (the benchmark itself also checks our associative
scan and LRU's gradients).

The peers are not among the package's or CI's requirements (requirements-bench.txt installs them), so without
them this module is skipped.
"""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTALL = "the peers are not installed: pip install -r requirements-bench.txt"
PEERS = {"memax": ("memax", "equinox"), "memorax": ("memorax",)}

spec = importlib.util.spec_from_file_location("peers", ROOT / "benchmarks" / "peers.py")
peers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peers)


@pytest.mark.parametrize("peer", sorted(PEERS))
@pytest.mark.parametrize("model", ["lru", "ffm", "linear_attention"])
def test_the_same_maths_gives_the_same_numbers(peer, model):
    for module in PEERS[peer]:
        pytest.importorskip(module, reason=INSTALL)
    # 2 tapes of 120 steps: tape 0 starts episodes at 0 and 100, tape 1 at 0 and 63 (peers.tapes)
    # the peer in each of its scans against our serial one (our two scans agree: tests/test_models.py)
    found = peers.agreement(peer, model, directions=("forward",), shape=(2, 120), our_modes=("serial",))["forward"]
    assert found["same_maths"] is (model == "lru")
    assert found["max_abs_diff"] <= peers.TOLERANCE * (1 + found["scale"]), found


def test_the_script_names_the_peers_and_how_to_install_them():
    assert peers.INSTALL == "pip install -r requirements-bench.txt"
    assert (ROOT / "requirements-bench.txt").is_file()
    assert set(peers.PEER_MODULES) == set(PEERS)
