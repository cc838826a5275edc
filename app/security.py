"""Response headers every answer carries, and the CSRF rule's recovery for open kiosk pages."""

import hashlib

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
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


def token_digest(token: str) -> str:
    """What is stored of a secret a browser holds (session key, device token, claim)."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionCookieSecureOverHttps(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS
    (behind a proxy, set PROXY_FIX_HOPS so the scheme is believed)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


HSTS_SECONDS = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookieSecureOverHttps()
    hops = int(app.config.get("PROXY_FIX_HOPS", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # Pages answer htmx with fragments and browsers with whole pages: caches must tell them apart.
        response.vary.add("HX-Request")
        # Over HTTPS (directly, or behind a proxy that says so), browsers keep to HTTPS.
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.htmx:
            # The page's token is stale (new session, restart): reload it with a fresh one.
            return make_response("", 400, refresh=True)
        return render_template("errors.html", code=400, reason="csrf"), 400
