"""Configuration: sensible defaults, then instance/config.py, then the environment."""

import os
import secrets
from pathlib import Path

LOCALES = ("zh_Hans", "en")


class Config:
    SITE_NAME = "邻里屏"
    # Locale and zone used when nothing else decides.
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent.parent / "translations")

    # No pool_pre_ping: app/connections.py pings only connections that sat idle in the pool.
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # A kiosk page may stay open for days: its CSRF token must not expire under it.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # htmx request timeout, in milliseconds, before the kiosk shows "reconnecting".
    HTMX_TIMEOUT_MS = 10_000
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024
    # How many proxies (nginx) stand in front and set X-Forwarded-For/-Proto; 0: none.
    PROXY_FIX_HOPS = 0
    # Per-device limits on kiosk actions, by name; see app/limits.py for the form.
    RATE_LIMITS: dict = {}
    # Prefix of the counters in Redis: installs that share one Redis keep apart by it.
    RATE_LIMIT_NAMESPACE = "linli"
    # argon2id's parameters for staff passwords (argon2-cffi's PasswordHasher arguments);
    # empty: the library's own, RFC 9106's low-memory profile (about 0.15 s a hash here).
    PASSWORD_HASH_PARAMETERS: dict = {}
    # Unchanged kiosk polls answered before Flask (app/polls.py); the page cache (app/kiosk/page_cache.py).
    FAST_POLLS = True
    PAGE_CACHE = True
    # How often an enrolled kiosk reports that it is alive, in seconds.
    KIOSK_HEARTBEAT_SECONDS = 30
    KIOSK_PAIRING_POLL_SECONDS = 5
    # An enrolled kiosk untouched this long asks "Still there?", then starts over after the
    # warning's seconds; untouched on the home page for KIOSK_ATTRACT_SECONDS, it shows
    # the attract loop.
    KIOSK_IDLE_SECONDS = 90
    KIOSK_IDLE_WARNING_SECONDS = 20
    KIOSK_ATTRACT_SECONDS = 180
    # Continue on my phone: a kiosk's QR link works once, within HANDOFF_LINK_MINUTES; the
    # phone then has HANDOFF_PHONE_MINUTES to send the form. Phones reach the server at
    # HANDOFF_BASE_URL (e.g. "http://192.168.1.20:8000", or LINLI_PHONE_URL in the
    # environment); unset, at the address the kiosk itself uses.
    HANDOFF_LINK_MINUTES = 10
    HANDOFF_PHONE_MINUTES = 30
    HANDOFF_BASE_URL = None
    # How often every kiosk screen asks whether an urgent notice started or ended.
    NOTICES_POLL_SECONDS = 10
    # How often a kiosk showing the wall asks whether it changed (new posts show within this).
    WALL_POLL_SECONDS = 10
    # How often a kiosk showing a course asks whether its seats changed.
    CLASSES_POLL_SECONDS = 5
    # How often a kiosk showing the timetable or the course list asks whether they changed.
    CLASSES_LIST_POLL_SECONDS = 30
    # Sign-ups' names and numbers are deleted this many days after their course's term ends.
    CLASS_RETENTION_DAYS = 30
    # A course rated below this mean, by at least CLASS_RATINGS_MINIMUM people, is flagged
    # "consider dropping" in the console.
    CLASS_DROP_THRESHOLD = 3.5
    CLASS_RATINGS_MINIMUM = 3
    # Help requests to experts: their names and numbers are deleted this many days after
    # staff close them.
    DIRECTORY_RETENTION_DAYS = 30
    # Matchmaking: the areas a card may name (never a building or a room), how long an
    # approved card stays up, and how long an expired or refused card's personal data is
    # kept (for the resident to renew or read why) before it is deleted.
    FRIENDS_AREAS = ("东区", "西区", "南区", "北区", "周边社区")
    FRIENDS_CARD_DAYS = 90
    FRIENDS_GRACE_DAYS = 30
    # Background upkeep (lottery draws, term statuses, deleting expired personal data) runs
    # at most this often, from kiosk heartbeats or `flask housekeeping`.
    HOUSEKEEPING_MINUTES = 10


# Environment variables read as configuration, and the key each one sets.
ENVIRONMENT_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "REDIS_URL": "REDIS_URL",
    "LINLI_SITE_NAME": "SITE_NAME",
    "LINLI_TIMEZONE": "BABEL_DEFAULT_TIMEZONE",
    "LINLI_PHONE_URL": "HANDOFF_BASE_URL",
}


def from_environment(environ=os.environ) -> dict:
    return {key: environ[name] for name, key in ENVIRONMENT_KEYS.items() if environ.get(name)}


def normalise_database_url(url: str) -> str:
    """Let DATABASE_URL use the common postgres:// forms and still reach psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_secret_key(instance_path: str) -> str:
    """Read the install's secret key from instance/, creating it once (mode 0600).

    Every gunicorn worker and every restart must share one key, or open kiosk pages lose
    their sessions and CSRF tokens; a hard link makes the first worker's key the only one.
    """
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)  # atomic: fails if another process got there first
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()
