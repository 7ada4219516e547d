"""The HTTP API (FastAPI). `create_app` is the factory uvicorn and the tests use."""

from viva.api.app import create_app

__all__ = ["create_app"]
