"""The floor of bench/api_start.py: an empty FastAPI application (Python, uvicorn and FastAPI only)."""

from __future__ import annotations

from fastapi import FastAPI


def create() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
