"""What residents type about themselves, checked the same way on every board: names,
mainland mobile numbers, codes; and how a name shows in public (张*明)."""

import re

from flask_babel import lazy_gettext as _l

from .errors import Refused

MOBILE = re.compile(r"1[3-9]\d{9}")


def masked(name: str) -> str:
    """张三丰 → 张*丰, 张三 → 张*, John Smith → J*** S****: never a full name in public."""
    name = " ".join((name or "").split())
    if not name:
        return ""
    if re.search(r"[\u3400-\u9fff]", name):
        name = name.replace(" ", "")  # 李 四 is 李四: one name, masked as one
    if " " in name:
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split(" "))
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1) if len(name) == 2 else name
    return name[0] + "*" * (len(name) - 2) + name[-1]


def normalise_mobile(text: str) -> str:
    """The 11 digits of a mainland mobile number, from what was typed (spaces, +86 allowed)."""
    digits = re.sub(r"[\s\-]", "", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not MOBILE.fullmatch(digits):
        raise Refused(_l("Please enter an 11-digit mobile number."), "mobile")
    return digits


def normalise_name(text: str) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise Refused(_l("Please enter your name."), "name")
    if len(name) > 20:
        raise Refused(_l("A name has at most %(n)d characters.", n=20), "name")
    if any(char.isdigit() for char in name):
        raise Refused(_l("A name has no digits in it."), "name")
    return name


def normalise_code(text: str) -> str:
    return re.sub(r"\D", "", text or "")
