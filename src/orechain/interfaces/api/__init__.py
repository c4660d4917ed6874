"""orechain's REST API (FastAPI): :func:`create_app` builds it for one database."""

from orechain.interfaces.api.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
