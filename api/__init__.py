"""The HTTP layer: thin FastAPI routers over the `ledger` services."""
