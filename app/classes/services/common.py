"""What the classes' services share: the refusal they raise, and staff's written reasons."""

from ... import lengths
from ...errors import Refused
from ...i18n import lazy_gettext as _l


class ClassError(Refused):
    """A sign-up or action was refused; the message is shown to the person who tried."""

    default_field = "mobile"


def staff_reason(reason: str | None) -> str:
    """A staff member's reason on one line; refused when too long to keep whole."""
    reason = " ".join((reason or "").split())
    if len(reason) > lengths.REASON:
        raise ClassError(_l("A reason has at most %(n)d characters.", n=lengths.REASON), "reason")
    return reason
