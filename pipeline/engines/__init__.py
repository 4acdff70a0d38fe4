"""Extraction engines: ``local`` (text layer and OCR) and ``claude`` (the Messages API) behind one interface.

This module stays light (the CLI imports it for the engines' names); an engine's own module loads when it runs.
"""

from __future__ import annotations

from pipeline.core.errors import InvalidRequest
from pipeline.core.settings import Settings
from pipeline.engines.base import ChunkOutput, ChunkWork, Extractor, PageDone

__all__ = ["ENGINES", "ChunkOutput", "ChunkWork", "Extractor", "PageDone", "engine_unavailable_reason", "get_extractor"]

ENGINES = ("local", "claude")


def engine_unavailable_reason(engine: str, settings: Settings) -> str:
    """Why ``engine`` cannot run with these settings, or "" when it can."""
    if engine == "claude" and not settings.anthropic_api_key_set:
        return "Claude needs an API key: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy) and restart."
    return ""


def get_extractor(engine: str, settings: Settings) -> Extractor:
    """The extractor for ``engine``, its module loaded on first use."""
    if engine == "local":
        from pipeline.engines.local import LocalExtractor

        return LocalExtractor(settings)
    if engine == "claude":
        from pipeline.engines.claude import ClaudeExtractor

        return ClaudeExtractor(settings)
    raise InvalidRequest(f"Unknown extraction engine {engine!r}; available: {', '.join(ENGINES)}")
