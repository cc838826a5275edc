"""Response headers every answer carries, and the CSRF rule's recovery for open kiosk pages."""

import copy
import hashlib
import time

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature
from htmx_flask import make_response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": Flask-WTF checks the referrer of every POST over HTTPS.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def add_vary(response, name: str) -> None:
    """Add `name` to the answer's Vary header, as `response.vary.add` does, editing the text:
    werkzeug's header set quotes and joins every name again on each change."""
    current = response.headers.get("Vary")
    if not current:
        response.headers["Vary"] = name
    elif name.lower() not in {part.strip().lower() for part in current.split(",")}:
        response.headers["Vary"] = f"{current}, {name}"


def token_digest(token: str) -> str:
    """What is stored of a secret a browser holds (session key, device token, claim)."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionCookieSecureOverHttps(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS
    (behind a proxy, set PROXY_FIX_HOPS so the scheme is believed).

    A screen sends the same session cookie request after request: what it says once its
    signature is checked is kept, with the time it was signed, so that it is read once and
    stops counting when Flask would refuse it as too old (or signed in the future)."""

    KEPT = 4096

    def __init__(self):
        self._verified: dict[tuple, tuple[dict, int]] = {}

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def save_session(self, app, session, response) -> None:
        if session.accessed:
            add_vary(response, "Cookie")  # Flask's own response.vary.add then finds it there
        super().save_session(app, session, response)

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        data = self.verified(app, value)
        return self.session_class() if data is None else self.session_class(copy.deepcopy(data))

    def verified(self, app, value: str) -> dict | None:
        """What a session cookie says, once its signature is checked, or None where Flask
        would refuse it: a bad signature, or signed too long ago (or in the future). The
        caller must not change what it is given (it is kept for the next request)."""
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, value)
        found = self._verified.get(key)
        if found is None:
            try:
                data, signed = self.get_signing_serializer(app).loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return None
            found = (data, int(signed.timestamp()))
            if len(self._verified) >= self.KEPT:
                self._verified.clear()
            self._verified[key] = found
        data, signed = found
        return data if 0 <= int(time.time()) - signed <= max_age else None


HSTS_SECONDS = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookieSecureOverHttps()
    hops = int(app.config.get("PROXY_FIX_HOPS", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.after_request
    def add_security_headers(response):
        present = {name.lower() for name, _value in response.headers}  # one pass over the answer's headers
        response.headers.extend([(name, value) for name, value in SECURITY_HEADERS.items()
                                 if name.lower() not in present])
        # Pages answer htmx with fragments and browsers with whole pages: caches must tell them apart.
        add_vary(response, "HX-Request")
        # Over HTTPS (directly, or behind a proxy that says so), browsers keep to HTTPS.
        if request.is_secure and "strict-transport-security" not in present:
            response.headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
        if response.mimetype == "text/html" and "cache-control" not in present:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.htmx:
            # The page's token is stale (new session, restart): reload it with a fresh one.
            return make_response("", 400, refresh=True)
        return render_template("errors.html", code=400, reason="csrf"), 400
