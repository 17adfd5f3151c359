"""benchmarks/paper_code.py reads the paper's tqdm progress bar; the parser is checked here (the run itself
needs GitHub, which the tests do not have)."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("paper_code", ROOT / "benchmarks" / "paper_code.py")
paper_code = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paper_code)


def test_progress_lines_give_the_epoch_and_the_last_evaluation():
    stream = (
        "  0%|          | 0/10000 [00:00<?, ?it/s]\r"  # no evaluation yet
        "eval: -inf, -inf train: -0.50, -0.40 loss: 0.000 eps: 1.00 buf: 0.01 qm: 0.00 tm: 0.00 :  "
        "50%|#####     | 5012/10000 [01:40<01:40, 50.00it/s]\r"
        "eval: 0.97, 0.97 train: 0.90, 0.95 loss: 0.001 eps: 0.12 buf: 0.52 qm: 0.40 tm: 0.41 :  "
        "54%|#####4    | 5371/10000 [06:26<05:33, 13.88it/s]\n"
    )
    assert paper_code.parse_progress(stream) == [(5012, float("-inf")), (5371, 0.97)]
    assert paper_code.parse_progress("eval: 0.5, 0.6 train: no counter yet") == []
