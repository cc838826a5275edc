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
    # A served file's version, by name: its files change only with a new release, which
    # restarts the server. In debug mode each URL looks at its file again (edited CSS).
    versions: dict[str, str | None] = {}

    def version_of(filename: str) -> str | None:
        path = static_root / filename
        try:
            return _digest(str(path), path.stat().st_mtime_ns)
        except (FileNotFoundError, NotADirectoryError):
            return None

    @app.url_defaults
    def version_static_urls(endpoint, values):
        if endpoint != "static" or "v" in values or "filename" not in values:
            return
        filename = values["filename"]
        if app.debug:
            version = version_of(filename)
        elif filename in versions:
            version = versions[filename]
        else:
            version = versions[filename] = version_of(filename)
        if version is not None:
            values["v"] = version
