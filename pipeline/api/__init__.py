"""Paperline's HTTP API for programs, served by ``paperline serve`` beside the dashboard under ``/api/v1``."""

from pipeline.api.routes import api_routes

__all__ = ["api_routes"]
