"""A community's own settings: what each community may set differently, and where each
value comes from.

A value is looked up, first found wins: the community's own (staff of the community, in the
console), the district's (district admins, in the console), instance/config.py or the
environment, and the built-in default (app/config.py). Everything else in the config is the
platform's and has no per-community value.

Settings are typed and checked here: a value that does not pass its check is refused with a
localized message and nothing is stored.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, g
from sqlalchemy import delete, func, select

from .. import audit, clock, lengths
from ..extensions import db
from ..i18n import lazy_gettext as _l
from .models import DistrictSetting
from . import scope


class SettingError(ValueError):
    """A value a setting does not take; the message says why, for the field."""

    def __init__(self, message, name: str):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Setting:
    name: str
    label: object
    # Reads typed text into the stored value, raising SettingError; writes it back as text.
    parse: Callable[[str, str], object]
    show: Callable[[object], str]
    hint: object = ""


def _whole_number(low: int, high: int):
    def parse(text: str, name: str) -> int:
        if not re.fullmatch(r"\s*\d{1,6}\s*", text or ""):
            raise SettingError(_l("A whole number from %(low)d to %(high)d.", low=low, high=high), name)
        value = int(text)
        if not low <= value <= high:
            raise SettingError(_l("A whole number from %(low)d to %(high)d.", low=low, high=high), name)
        return value
    return parse


def _time_zone(text: str, name: str) -> str:
    text = (text or "").strip()
    if text not in available_timezones():
        raise SettingError(_l("A time zone such as Asia/Shanghai."), name)
    try:
        ZoneInfo(text)
    except ZoneInfoNotFoundError:
        raise SettingError(_l("A time zone such as Asia/Shanghai."), name) from None
    return text


def _areas(text: str, name: str) -> tuple[str, ...]:
    areas = tuple(dict.fromkeys(" ".join(line.split()) for line in (text or "").splitlines() if line.strip()))
    if not 1 <= len(areas) <= 20 or any(len(area) > lengths.CARD_AREA for area in areas):
        raise SettingError(_l("One area per line: 1 to 20 areas of at most %(n)d characters.",
                              n=lengths.CARD_AREA), name)
    return areas


def _text(value) -> str:
    return str(value)


def _lines(value) -> str:
    return "\n".join(value)


def pairs(value) -> str:
    return "\n".join(f"{key} = {limit}" for key, limit in sorted(value.items()))


SETTINGS = {setting.name: setting for setting in (
    Setting("BABEL_DEFAULT_TIMEZONE", _l("Time zone"), _time_zone, _text, _l("Dates and times are shown in it.")),
    Setting("FRIENDS_AREAS", _l("Matchmaking areas"), _areas, _lines,
            _l("One per line: the areas a matchmaking card may name (never a building).")),
    Setting("CLASS_RETENTION_DAYS", _l("Days sign-ups' names are kept after a term"), _whole_number(1, 3650), _text),
    Setting("DIRECTORY_RETENTION_DAYS", _l("Days help requests' names are kept after closing"),
            _whole_number(1, 3650), _text),
    Setting("FRIENDS_CARD_DAYS", _l("Days a matchmaking card stays up"), _whole_number(7, 365), _text),
    Setting("FRIENDS_GRACE_DAYS", _l("Days an ended card's details are kept"), _whole_number(1, 365), _text),
    Setting("WALL_POLL_SECONDS", _l("Seconds between the wall's checks for new posts"), _whole_number(2, 600), _text),
    Setting("NOTICES_POLL_SECONDS", _l("Seconds between checks for urgent notices"), _whole_number(2, 600), _text),
    Setting("CLASSES_POLL_SECONDS", _l("Seconds between a course page's seat checks"), _whole_number(2, 600), _text),
    Setting("CLASSES_LIST_POLL_SECONDS", _l("Seconds between the timetable's checks"), _whole_number(2, 600), _text),
    Setting("KIOSK_IDLE_SECONDS", _l("Seconds untouched before a kiosk asks “Still there?”"),
            _whole_number(20, 3600), _text),
)}


def district_version_columns() -> list:
    """The district's settings as how many there are and when one was last written: a
    setting saved, added or removed moves one of them on."""
    return [select(func.count()).select_from(DistrictSetting).scalar_subquery(),
            select(func.max(DistrictSetting.updated_at)).scalar_subquery()]


def district_version_seen(version: tuple) -> None:
    """What routing read of district_version_columns for this request: while it is the one
    the worker's copy was read at, the settings are not read again."""
    g.district_version = tuple(version)


def _district() -> dict:
    if "district_settings" not in g:
        version = g.get("district_version")
        kept = current_app.extensions.get("linli_district_settings")
        if version is not None and kept is not None and kept[0] == version:
            g.district_settings = kept[1]
        else:
            # Read after the version: a copy is never older than the version it is kept under
            # (one newer is read again at the next request, whose version differs).
            g.district_settings = {row.name: json.loads(row.value)
                                   for row in db.session.scalars(select(DistrictSetting)) if row.name in SETTINGS}
            if version is not None:
                current_app.extensions["linli_district_settings"] = (version, g.district_settings)
    return g.district_settings


def _loaded(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return {name: value[name] for name in SETTINGS if isinstance(value, dict) and name in value}


def district_value(name: str):
    """What the district sets (or the config, where it sets nothing). A list or mapping it
    returns is the worker's copy, shared by its requests: read it, never change it."""
    return _district().get(name, current_app.config[name])


def setting(name: str):
    """This community's value of a setting (the request's, or the enclosing scope's)."""
    current = scope.current_scope()
    if current is not None and current.community_id is not None:
        from .routing import current_community

        own = _own(current_community())
        if name in own:
            return own[name]
    return district_value(name)


def _own(community) -> dict:
    cache = g.setdefault("community_settings", {})
    if community.id not in cache:
        cache[community.id] = _loaded(community.settings)
    return cache[community.id]


def own_values(community) -> dict:
    return dict(_own(community))


def parse_form(values: dict[str, str]) -> dict:
    """Typed values from a settings form; an empty field means "inherit". Raises a list of
    SettingError, one per field that does not pass."""
    parsed, errors = {}, []
    for name, setting_ in SETTINGS.items():
        text = (values.get(name) or "").strip()
        if not text:
            continue
        try:
            parsed[name] = setting_.parse(text, name)
        except SettingError as error:
            errors.append(error)
    if errors:
        raise SettingsRefused(errors)
    return parsed


class SettingsRefused(ValueError):
    def __init__(self, errors: list[SettingError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = {error.name: str(error) for error in errors}


def shown(name: str, value) -> str:
    return SETTINGS[name].show(value)


def save_community_settings(community_id: int, values: dict[str, str]) -> None:
    """A community's own values (empty: the district's); audited in that community."""
    from .models import Community

    parsed = parse_form(values)
    community = db.session.get(Community, community_id)
    before = _loaded(community.settings)
    community.settings = json.dumps(parsed, ensure_ascii=False, sort_keys=True)
    changed = {name: [before.get(name), parsed.get(name)] for name in SETTINGS if before.get(name) != parsed.get(name)}
    with scope.within(community_id):
        if changed:
            audit.record("staff", "community-settings-changed", community, changed)
        db.session.commit()
    g.pop("community_settings", None)
    g.pop("community", None)  # the request's view of its community: read again


def save_district_settings(values: dict[str, str]) -> None:
    """The district's values (empty: the config's), for every community that sets none."""
    parsed = parse_form(values)
    before = _district()
    db.session.execute(delete(DistrictSetting).where(DistrictSetting.name.not_in(list(parsed))))
    for name, value in parsed.items():
        db.session.merge(DistrictSetting(name=name, value=json.dumps(value, ensure_ascii=False)))
    changed = {name: [before.get(name), parsed.get(name)] for name in SETTINGS if before.get(name) != parsed.get(name)}
    if changed:
        audit.record("staff", "district-settings-changed", None, changed)
    db.session.commit()
    g.pop("district_settings", None)
    g.pop("district_version", None)  # moved on: read again, uncounted


@clock.zone_loader
def community_zone() -> str:
    """The zone of the community being worked in (its own, the district's or the config's):
    what the clock converts to and Flask-Babel formats in (its timezone selector)."""
    return setting("BABEL_DEFAULT_TIMEZONE")


def register(setting_: Setting) -> Setting:
    """A setting an area declares itself (its parser is the area's own): app/limits.py's."""
    SETTINGS[setting_.name] = setting_
    return setting_


def init_app(app) -> None:
    app.add_template_global(setting)
