"""python -m memoroids_lite.experiments NAME --scale ci|cpu|paper --out DIR"""

import argparse

from memoroids_lite import cache
from memoroids_lite.experiments import EXPERIMENTS, SCALES, run

parser = argparse.ArgumentParser(prog="python -m memoroids_lite.experiments", description=__doc__)
parser.add_argument("name", choices=EXPERIMENTS)
parser.add_argument("--scale", choices=SCALES, default="cpu")
parser.add_argument("--out", required=True, help="results directory; run again to resume")
parser.add_argument("--only", metavar="PATTERN", help="train only the runs whose names match this glob, e.g. 'CountRecall*'")
parser.add_argument("--dry-run", action="store_true",
                    help="print one line per run (task, warm-up, updates, collection, buffer) and train nothing")
parser.add_argument("--no-compilation-cache", action="store_true",
                    help="compile everything anew (the persistent cache is memoroids_lite/cache.py)")
args = parser.parse_args()
if args.no_compilation_cache:
    cache.disable()
result = run(args.name, args.scale, args.out, args.only, args.dry_run)
if result is not None:
    print(result)
