#!/usr/bin/env bash
# Every benchmark on a lent GPU, in one prepared run that fits about 12 minutes, results named after the device.
#
#   bash benchmarks/gpu.sh            # from the repository root, on the GPU machine; writes into $OUT or results_gpu/
#
# Installs the pinned stack with JAX's CUDA build into .venv-gpu if missing, checks that JAX sees a GPU, then
# runs, each under its own time limit (a step that runs out is reported and the next one starts):
#   benchmarks/train.py       the DQN's throughput and time to solve Repeat Previous      -> train_gpu.json
#   benchmarks/models.py      the memory models' timing (no recall/gradient studies)        -> models_gpu.csv
#   benchmarks/envs.py        environment steps per second                                  -> envs_gpu.csv
#   benchmarks/scans.py       associative vs serial scans                                   -> scans_gpu.csv
#   benchmarks/returns.py     Figure 5 left                                                 -> returns_gpu.csv
#   benchmarks/ppo.py         GAE scan vs loop, PPO steps/s at 1,024 environments            -> ppo_speed_gpu.json
#   one Figure 4 panel at the paper's protocol (LRU, Repeat First, tape and segments of 10, 2 seeds) -> fig4_gpu/
# and writes device.txt (nvidia-smi and jax.devices()). Copy the folder's files into book/results/ to commit them.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-results_gpu}"
mkdir -p "$OUT"
if [ ! -x .venv-gpu/bin/python ]; then
    python3 -m venv .venv-gpu
    .venv-gpu/bin/pip install -q -r requirements.txt
    .venv-gpu/bin/pip install -q "jax[cuda12]==$(.venv-gpu/bin/python -c 'import jax; print(jax.__version__)')"
fi
PY=.venv-gpu/bin/python
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; $PY -c "import jax; print(jax.devices())"; } \
    > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
$PY -c "import jax, sys; sys.exit(jax.default_backend() != 'gpu')" || { echo "JAX sees no GPU"; exit 1; }

step() {  # step SECONDS NAME COMMAND...
    local limit=$1 name=$2; shift 2
    echo "=== $name (limit ${limit}s)"
    local begin=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    echo "    exit $? after $(( SECONDS - begin )) s; last lines:"; tail -3 "$OUT/$name.log"
}
step 150 train    $PY benchmarks/train.py --out "$OUT/train_gpu.json"
step 120 models   $PY benchmarks/models.py --parts timing --out "$OUT/models_gpu.csv"
step 60  envs     $PY benchmarks/envs.py --quick --out "$OUT/envs_gpu.csv"
step 60  scans    $PY benchmarks/scans.py --out "$OUT/scans_gpu.csv"
step 60  returns  $PY -m memoroids_lite.experiments.returns --out "$OUT/returns_gpu.csv"
step 90  ppo      $PY benchmarks/ppo.py --out "$OUT/ppo_speed_gpu.json"
step 180 fig4     $PY -c "
from memoroids_lite.experiments.paper import paper_config
from memoroids_lite.train import run
for label, kw in (('tape', {}), ('segment_10', {'batching': 'segment', 'segment_length': 10})):
    config = paper_config('RepeatFirstEasy', 'lru', **({'batching': 'tape'} | kw))
    run(config, 2, '$OUT/fig4_gpu/RepeatFirstEasy_lru_' + label, show_progress=False)
"
ls -la "$OUT"
