"""CSV cells that a spreadsheet would run as a formula, defused (OWASP's "CSV injection" rule).

Spreadsheets treat a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula
(``=HYPERLINK(...)``, ``@SUM(...)``, DDE ``-2+3+cmd|...``). Text from documents, file names and models ends up
in Paperline's CSV results and exports, so such a cell gets a leading ``'``, which spreadsheets show as text.
A cell that is a plain number (``-3.5``, ``+1e3``) is left as it is: analysts keep their numbers, and a number
cannot call anything.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def defuse(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not evaluate (only text that starts a formula changes)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
