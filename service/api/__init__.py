"""HTTP layer: thin FastAPI routers over ``service.engine.QAEngine``."""
