"""Static files under versioned URLs: ?v=<content hash>, cached for a year."""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask


@lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def init_app(app: Flask) -> None:
    static_root = Path(app.static_folder)

    @app.url_defaults
    def version_static_urls(endpoint, values):
        if endpoint != "static" or "v" in values or "filename" not in values:
            return
        path = static_root / values["filename"]
        try:
            values["v"] = _digest(str(path), path.stat().st_mtime_ns)
        except FileNotFoundError:
            return
