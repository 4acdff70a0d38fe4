"""Estimated API cost from token counts: a per-model price table in US dollars per million tokens.

The defaults are list prices at the time of writing; set ``PAPERLINE_PRICES`` to a JSON object
``{"model": [input_per_mtok, output_per_mtok]}`` to correct or extend them. Costs are estimates, not invoices.
"""

from __future__ import annotations

import json

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4-6": (5.0, 25.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
}


def price_table(override_json: str = "") -> dict[str, tuple[float, float]]:
    table = dict(DEFAULT_PRICES)
    if override_json:
        for model, (inp, out) in json.loads(override_json).items():
            table[model] = (float(inp), float(out))
    return table


def estimate_cost(model: str, input_tokens: int, output_tokens: int, table: dict[str, tuple[float, float]]) -> float:
    """Dollars for this call; a dated model id (``claude-x-20250101``) uses its family's price; unknown: 0."""
    prices = table.get(model)
    if prices is None:
        family = next((name for name in sorted(table, key=len, reverse=True) if model.startswith(name)), None)
        prices = table.get(family) if family else None
    if prices is None:
        return 0.0
    return round(input_tokens * prices[0] / 1e6 + output_tokens * prices[1] / 1e6, 6)
