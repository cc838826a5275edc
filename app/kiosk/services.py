"""Per-screen preferences of the kiosk session: kept until the idle reset clears the session."""

from flask import session

from ..config import LOCALES


def choose_locale(locale: str) -> None:
    if locale in LOCALES:
        session["locale"] = locale


def toggle_large_text() -> bool:
    session["large_text"] = not session.get("large_text", False)
    return session["large_text"]


def large_text() -> bool:
    return bool(session.get("large_text"))
