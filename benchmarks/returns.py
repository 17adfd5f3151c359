"""The paper's Figure 5 (left) on this machine: a per-episode loop vs one scan over all episodes.

    python benchmarks/returns.py            # full grid -> book/results/returns_<backend>.csv
    python benchmarks/returns.py --quick --out /tmp/returns_quick.csv

The measurement lives in the package (memoroids_lite/experiments/returns.py), where
`python -m memoroids_lite.experiments returns` runs it too; its docstring says exactly what is timed.
"""

from memoroids_lite.experiments.returns import main

if __name__ == "__main__":
    main()
