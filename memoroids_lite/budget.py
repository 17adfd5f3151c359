"""One knob for the book's compute budgets: BOOK_FAST=1 shrinks every experiment for the tests.

Committed notebook outputs come from full-budget runs; nbval re-runs the notebooks with BOOK_FAST=1, where
every size goes through `budget(full=..., fast=...)`.
"""

import os


def is_fast() -> bool:
    """True when the environment variable BOOK_FAST is "1"."""
    return os.environ.get("BOOK_FAST", "0") == "1"


def budget(full, fast):
    """`fast` under BOOK_FAST=1, else `full`."""
    return fast if is_fast() else full
