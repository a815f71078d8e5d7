"""The process model of `dtm-geo serve`: gunicorn's pre-fork master, uvicorn workers.

The master imports the application once (`preload_app`), and the libraries only some
answers need (`warm_imports`), and forks every worker from it: a worker, first or
replacement, starts without importing anything, so a killed worker is replaced and
serving in well under a second (bench/worker_start.py), where a worker spawned afresh by
uvicorn's own supervisor re-imported FastAPI, SQLAlchemy, GeoAlchemy2 and the rest,
several seconds on a busy machine. Nothing in `create_app` opens a connection or starts
a thread, so forking after it is safe: each worker's pools start empty and fill in that
worker.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from app.settings import Settings


class Server(BaseApplication):
    def __init__(self, settings: Settings, host: str, port: int, workers: int):
        self.settings = settings
        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "uvicorn_worker.UvicornWorker",
            "preload_app": True,
            "accesslog": "-" if settings.access_log else None,
            "errorlog": "-",
            "loglevel": "info",
            # a worker whose event loop is stuck this long is replaced (long writes run in
            # threads and never stop the loop)
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "control_socket_disable": True,  # no socket in $HOME shared by every server
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        from app.main import create_app

        app = create_app(self.settings)
        warm_imports()
        return app


# Libraries that only some answers need, which the app's modules import on first use:
# the master imports them once before it forks, so that no worker, first or replacement,
# makes its first hotspot map, GeoPackage or workbook upload wait seconds for them (and
# the workers share their pages).
WARM = ("geopandas", "pandas", "esda", "libpysal.weights", "scipy.stats", "openpyxl", "pyogrio")


def warm_imports() -> None:
    import importlib

    for name in WARM:
        importlib.import_module(name)


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    Server(settings, host, port, workers).run()
