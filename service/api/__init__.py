"""HTTP layer: FastAPI routes per resource over ``service.runtime.Runtime``."""
