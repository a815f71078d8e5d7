"""HTTP routers. Handlers stay thin: they parse parameters and call app.services."""
