"""htmx helpers: which element asked, page or fragment, polls, events, safe redirects."""

import ipaddress
import json
import re
from urllib.parse import urlsplit

import segno
from flask import abort, current_app, redirect, render_template, request, url_for
from htmx_flask import make_response
from markupsafe import Markup

from .people import highlight_numbers, mask_number

# Every page renders inside <main id="main">; a tile or link that targets it gets
# the page without its frame (see templates/*/base.html).
MAIN_REGION = "main"


def wants_fragment(regions) -> bool:
    """True when htmx asked for one of the regions this page declares.

    A history restore wants the whole page, whatever element it names.
    """
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and htmx.target in regions


def page_or_fragment(template: str, fragments: dict[str, str] | None = None, **context):
    """Render the full page, its main region, or one of its declared fragments.

    ``fragments`` maps an element id the page declares to the partial template the
    page includes for it, so page and partial share one piece of markup.
    """
    fragments = fragments or {}
    if wants_fragment(fragments):
        return render_template(fragments[request.htmx.target], **context)
    main_only = wants_fragment((MAIN_REGION,))
    return render_template(template, main_only=main_only, **context)


def found_or_404(record):
    """The record a URL names, or a 404 page when there is none."""
    if record is None:
        abort(404)
    return record


# Polls. A screen showing something that changes asks every few seconds whether it did,
# and the answer must cost almost nothing while it has not. The rule, for every polled
# fragment: its poll URL carries `v`, a version token the server reads with one cheap query
# and that changes whenever anything the fragment shows changes (a board's change counter,
# a course's revision, a hash of what the urgent banner lists, a handoff's state). The poll
# answers 204 No Content, rendering nothing, while the `v` it sends is the current token;
# otherwise it renders the fragment, which carries the new token.

def poll(current, render):
    """Answer a poll: 204 while the client's `v` equals `current`, else `render()`.
    `current` None means what the poll names does not exist: 404."""
    if current is None:
        abort(404)
    if request.args.get("v") == str(current):
        return "", 204
    return render()


def events(response, **named):
    """Add htmx events to a response's HX-Trigger header as ASCII-only JSON.

    Names follow ``<area>-<noun>-<past-verb>``; payloads carry ids, never HTML.
    """
    existing = response.headers.get("HX-Trigger")
    payload = json.loads(existing) if existing else {}
    payload.update({name.replace("_", "-"): value for name, value in named.items()})
    response.headers["HX-Trigger"] = json.dumps(payload, ensure_ascii=True)
    return response


def page_path(url: str | None, *, query: bool = True) -> str | None:
    """The path (and query) of a page's full URL, as htmx reports it in HX-Current-URL."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.path:
        return None
    return parts.path + (f"?{parts.query}" if query and parts.query else "")


def local_target(candidate: str | None, fallback_endpoint: str = "home.index") -> str:
    """A same-site path to go back to, never another host; nor a line break or other
    unprintable character, which a Location header cannot carry."""
    if candidate and candidate.isprintable():
        parts = urlsplit(candidate)
        if not parts.scheme and not parts.netloc and candidate.startswith("/") \
                and not candidate.startswith("//") and "\\" not in candidate:
            return candidate
    return url_for(fallback_endpoint)


def reload_or_back(candidate: str | None, fallback_endpoint: str = "home.index"):
    """After a POST that changes how pages look: htmx reloads the page it is on;
    a plain form gets a 303 to the local page it came from."""
    if request.htmx:
        return make_response("", 200, refresh=True)
    return redirect(local_target(candidate, fallback_endpoint), code=303)


def phone_url(path: str) -> str | None:
    """The address a phone opens for this path (a QR code's link): at HANDOFF_BASE_URL when
    it is set; otherwise at the address the kiosk itself used, but only where that is an IP
    address, localhost or one of TRUSTED_HOSTS, never a name any request could claim."""
    base = current_app.config.get("HANDOFF_BASE_URL")
    if not base:
        try:
            host = urlsplit("//" + request.host).hostname or ""
        except ValueError:
            return None
        trusted = current_app.config.get("TRUSTED_HOSTS") or ()
        if not (_is_ip(host) or host == "localhost" or host in trusted):
            return None
        base = request.host_url
    return base.rstrip("/") + path


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_SVG_SIZE = re.compile(r'<svg width="(\d+)" height="(\d+)"')


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code (segno, no external request); dark on white for any camera."""
    svg = segno.make(url, error="m").svg_inline(scale=6, border=2, dark="#000", light="#fff", omitsize=False)
    # A viewBox as well as its size: a page that sets the code's size (a printed card) scales it, not crops it.
    return Markup(_SVG_SIZE.sub(r'<svg width="\1" height="\2" viewBox="0 0 \1 \2"', svg, count=1))


def htmx_config() -> dict:
    """htmx 2 settings for <meta name="htmx-config">: a shared screen keeps no page copies,
    nothing is evaluated (the CSP forbids it), requests never leave this server."""
    return {
        "historyCacheSize": 0,
        "refreshOnHistoryMiss": True,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "includeIndicatorStyles": False,
        "timeout": current_app.config["HTMX_TIMEOUT_MS"],
        # Swap form errors (422), "read only" (403) and "please wait" (429) into the target.
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "(403|422|429)", "swap": True, "error": False},
            {"code": "[45]..", "swap": False, "error": True},
            {"code": "...", "swap": False},
        ],
    }


def init_app(app) -> None:
    app.jinja_env.filters.update(highlight_numbers=highlight_numbers, mask_number=mask_number)
    from . import lengths
    from .clock import to_site
    from .i18n import LANGUAGE_NAMES, age, current_locale, due_by, html_lang, localized, other_locale, time_ago

    app.jinja_env.globals.update(
        html_lang=html_lang,
        current_locale=current_locale,
        other_locale=other_locale,
        language_names=LANGUAGE_NAMES,
        htmx_config=htmx_config,
        time_ago=time_ago,
        age=age,
        due_by=due_by,
        localized=localized,
        to_site=to_site,
        lengths=lengths,
    )
