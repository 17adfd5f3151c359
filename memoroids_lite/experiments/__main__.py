"""python -m memoroids_lite.experiments NAME --scale ci|cpu|paper --out DIR"""

import argparse

from memoroids_lite.experiments import EXPERIMENTS, SCALES, run

parser = argparse.ArgumentParser(prog="python -m memoroids_lite.experiments", description=__doc__)
parser.add_argument("name", choices=EXPERIMENTS)
parser.add_argument("--scale", choices=SCALES, default="cpu")
parser.add_argument("--out", required=True, help="results directory; run again to resume")
parser.add_argument("--only", metavar="PATTERN", help="train only the runs whose names match this glob, e.g. 'CountRecall*'")
args = parser.parse_args()
print(run(args.name, args.scale, args.out, args.only))
