"""The cases area's settings, each community's to change (app/communities/settings.py):

- CASE_ACCEPT_HOURS: how soon after intake a case should be accepted by its handler; the
  figures count the cases accepted within it (app/cases/figures.py);
- CASE_CHECK_BACK_DAYS: how long after a case is resolved the resident may answer with the
  receipt code; a case still unanswered then closes as fixed (services.check_back and
  services.close_unanswered).

Their built-in defaults go into the app's config when the cases blueprint is registered,
unless instance/config.py or the arguments to create_app set them already.
"""

import re

from ..communities import settings
from ..i18n import lazy_gettext as _l
from . import bp

DEFAULTS = {"CASE_ACCEPT_HOURS": 24, "CASE_CHECK_BACK_DAYS": 7}


def _whole_number(low: int, high: int):
    def parse(text: str, name: str) -> int:
        if not re.fullmatch(r"\s*\d{1,6}\s*", text or "") or not low <= int(text) <= high:
            raise settings.SettingError(_l("A whole number from %(low)d to %(high)d.", low=low, high=high), name)
        return int(text)
    return parse


settings.register(settings.Setting(
    "CASE_ACCEPT_HOURS", _l("Hours within which a case should be accepted"), _whole_number(1, 720), str,
    _l("The case figures count the cases their handler accepted within this many hours of intake.")))
settings.register(settings.Setting(
    "CASE_CHECK_BACK_DAYS", _l("Days a resident may answer after a case is resolved"), _whole_number(1, 60), str,
    _l("Unanswered by then, the case closes as fixed.")))


@bp.record_once
def _config_defaults(state) -> None:
    for name, value in DEFAULTS.items():
        state.app.config.setdefault(name, value)
