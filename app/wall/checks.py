"""Automatic checks on every wall post: normalisation, personal numbers, watched words.

The resident's text is kept as written; checks run on a normalised copy in which
full-width characters, spaces and Chinese numerals no longer hide a phone or ID number.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from stdnum.cn import ric

# Chinese numerals as people write phone numbers: 幺 and 两 are spoken forms of 1 and 2.
CHINESE_DIGITS = str.maketrans({
    "〇": "0", "零": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6",
    "七": "7", "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9",
})
# Characters people put between digits: spaces, dashes, dots, brackets, slashes.
DIGIT_SEPARATORS = r"[\s\-.·•_/()（）\[\]【】]*"
_DIGIT = r"\d"
# A digit or X, with any separators before it: the unit a hidden number is made of.
_RUN = re.compile(rf"(?:\+?86{DIGIT_SEPARATORS})?\d(?:{DIGIT_SEPARATORS}[\dXx])+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ID = re.compile(r"\d{17}[\dXx]")
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


@dataclass
class Finding:
    """A number or word in the original text, with where it stands."""

    reason: str          # "mobile", "id-number", "long-number", "watched-word"
    start: int
    end: int
    detail: str = ""


@dataclass
class CheckResult:
    normalised: str
    findings: list[Finding] = field(default_factory=list)
    blocked_by: str | None = None
    hold: bool = False
    flags: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return sorted({finding.reason for finding in self.findings if finding.reason != "watched-word"}
                      | {f"word:{flag}" for flag in self.flags})


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), then Chinese numerals to digits."""
    return unicodedata.normalize("NFKC", text).translate(CHINESE_DIGITS)


def _digit_positions(original: str) -> tuple[str, list[int]]:
    """The text with each character normalised one by one, and where each came from.

    NFKC can change a string's length; mapping character by character keeps every
    finding pointing at the original text, so it can be masked there.
    """
    out, where = [], []
    for index, char in enumerate(original):
        for piece in normalise(char):
            out.append(piece)
            where.append(index)
    return "".join(out), where


def is_id_number(number: str) -> bool:
    """An 18-character resident ID: its check digit and a possible birth date.

    The birthplace is not required to be in python-stdnum's list of region codes, which
    misses many districts: a real number from one of them must still count as an ID.
    """
    number = number.upper()
    try:
        return ric.calc_check_digit(number) == number[-1] and bool(ric.get_birth_date(number))
    except (ValueError, ArithmeticError, ric.ValidationError):
        return False


def find_numbers(original: str) -> list[Finding]:
    """Mobile numbers, ID numbers (valid checksum) and runs of 11+ digits, however written."""
    text, where = _digit_positions(original)
    findings = []
    for match in _RUN.finditer(text):
        digits = re.sub(r"[^\dXx]", "", match.group(0))
        if digits.startswith("86") and len(digits) == 13 and _MOBILE.fullmatch(digits[2:]):
            digits = digits[2:]
        start, end = where[match.start()], where[match.end() - 1] + 1
        if _MOBILE.fullmatch(digits):
            reason = "mobile"
        elif _ID.fullmatch(digits) and is_id_number(digits):
            reason = "id-number"
        elif sum(ch.isdigit() for ch in digits) >= 11:
            reason = "long-number"
        else:
            mobiles = [m for m in _MOBILE.finditer(digits)]
            if not mobiles:
                continue
            reason = "mobile"
        findings.append(Finding(reason, start, end, digits))
    return findings


def mask_span(digits_text: str) -> str:
    """138****5678: keep the first 3 and last 4 digits of a number, hide the rest."""
    digits = [ch for ch in digits_text if ch.isalnum()]
    if len(digits) <= 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "*" * (len(digits) - 7) + "".join(digits[-4:])


def masked(original: str, findings: list[Finding]) -> str:
    """The text with every number finding replaced by its masked form."""
    out, last = [], 0
    for finding in sorted((f for f in findings if f.reason != "watched-word"), key=lambda f: f.start):
        if finding.start < last:
            continue
        out.append(original[last:finding.start])
        out.append(mask_span(finding.detail))
        last = finding.end
    out.append(original[last:])
    return "".join(out)


@cache
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def word_key(text: str) -> str:
    """How watched words are compared: NFKC, simplified, lower case, no spaces or punctuation."""
    return _PUNCTUATION.sub("", _to_simplified().convert(unicodedata.normalize("NFKC", text)).lower())


def check(original: str, watched: list[tuple[str, str]]) -> CheckResult:
    """Run every check. ``watched`` holds (word key, action) with action block, hold or flag."""
    result = CheckResult(normalised=normalise(original), findings=find_numbers(original))
    result.hold = bool(result.findings)
    key = word_key(original)
    for word, action in watched:
        if word and word in key:
            if action == "block":
                result.blocked_by = word
            elif action == "hold":
                result.hold = True
                result.flags.append(word)
            else:
                result.flags.append(word)
    return result
