"""Personal data in one place: what residents type about themselves (names, mainland
mobile numbers, codes), the personal numbers in any free text however they are written
(mobiles, ID numbers, long runs of digits such as bank cards), and how each is masked.

The masking rule, the same on every screen and in the audit log:

- A number of 11 digits or more shows its first 3 and last 4 digits; every other digit
  becomes one *: 138****5678, 110***********002X, 622************0123.
- A shorter number (a landline or a code in a staff note), and the part of a number that
  is split over several texts (fields of one card, posts one after another), show none
  of their digits: the rest of it may be readable elsewhere.
- A name shows its first and last character and hides the rest (张*明, 欧**娜); a name of
  two characters shows its first (张*), a name of one character stays as it is (王); a
  name of several Latin words shows the first letter of each word (J*** S****).

The text as written is kept; numbers are read from it character by character, so that
full-width digits, spaces, letters and Chinese numerals no longer hide one.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from stdnum.cn import ric

from . import lengths
from .errors import Refused
from .i18n import lazy_gettext as _l

MOBILE = re.compile(r"1[3-9]\d{9}")

# The masking rule for numbers, as in the module's docstring.
SHOW_FIRST, SHOW_LAST = 3, 4
SHOWN_FROM = 11  # a number needs this many digits before any of them show
# A run of this many digits counts as personal though it is no mobile or ID number (a bank
# card, a landline with its extension); shorter runs are order and room numbers.
LONG_RUN = 11

# Chinese numerals as people write phone numbers: 幺 and 两 are spoken forms of 1 and 2.
CHINESE_DIGITS = str.maketrans({
    "〇": "0", "零": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2", "贰": "2",
    "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6",
    "七": "7", "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9", "勾": "9",
})
# English number words, as in "one three eight": a word made only of these reads as digits.
NUMBER_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_NUMBER_WORD = re.compile("|".join(NUMBER_WORDS))
# Letters that stand in for digits when written against them: O for 0, l and I for 1.
LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})
# Separators that also join the parts of one long number (a bank card, a landline).
NUMBER_SEPARATORS = set(" -.·•_/")
MAX_TIGHT_GAP = 4      # separators between two groups of digits of one number
MAX_LOOSE_LETTERS = 4  # letters hidden between groups ("139abc0077")
MAX_LOOSE_GAP = 8
_YEAR = re.compile(r"(?:19|20)\d\d")
# Times and dates stand on their own: they never join the digits around them.
_TIME_OR_DATE = re.compile(
    r"(?<!\d)(?<!\d[:.\-/])(?:"
    r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
    r"|(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r")(?![:.\-/]?\d)"
)
# A masked number as it shows: digits (or an ID's X) around a run of stars.
_MASKED_NUMBER = re.compile(r"[\dXx]*\*{2,}[\dXx]*")


@dataclass
class Finding:
    """A number in a text, with where it stands."""

    reason: str          # "mobile", "id-number", "long-number"; the wall adds "split-number"
    start: int
    end: int
    detail: str = ""     # the number's digits, without any +86
    # Where each digit of the number was written: (start, end) in the text.
    spans: list[tuple[int, int]] = field(default_factory=list, repr=False)
    # Only part of the number stands in this text: none of its digits show.
    partial: bool = False


# --- finding numbers -----------------------------------------------------------------------

@dataclass
class _Unit:
    kind: str            # "digit", "x", "word" (Latin letters), "sep", "other" (breaks numbers)
    text: str
    start: int
    end: int


def _units(original: str) -> list[_Unit]:
    """The text as digits, letters and separators, each pointing back at the original.

    Every character is normalised on its own (NFKC can change a string's length), any
    script's decimal digits count, and so do Chinese numerals.
    """
    units: list[_Unit] = []
    for index, char in enumerate(original):
        for piece in unicodedata.normalize("NFKC", char).translate(CHINESE_DIGITS):
            digit = unicodedata.decimal(piece, None)
            if digit is not None:
                kind, piece = "digit", str(digit)
            elif piece.isascii() and piece.isalpha():
                kind = "word"
            elif unicodedata.category(piece)[0] in "LN":
                kind = "other"
            else:  # spaces, punctuation, symbols, zero-width and format characters, emoji parts
                kind = "sep"
            if kind == "word" and units and units[-1].kind == "word" and units[-1].end >= index:
                units[-1].text += piece
                units[-1].end = index + 1
            else:
                units.append(_Unit(kind, piece, index, index + 1))
    return _read_letters(units)


def _read_letters(units: list[_Unit]) -> list[_Unit]:
    """Number words become digits; O, l and I written against digits become 0 and 1; an X
    after digits may end an ID number."""
    out: list[_Unit] = []
    for unit in units:
        word = unit.text.lower()
        if unit.kind == "word" and _NUMBER_WORD.sub("", word) == "":
            out.extend(_Unit("digit", NUMBER_WORDS[w], unit.start, unit.end) for w in _NUMBER_WORD.findall(word))
        else:
            out.append(unit)
    for i, unit in enumerate(out):
        if unit.kind != "word":
            continue
        if unit.text in ("X", "x") and _after_digits(out, i):
            unit.kind = "x"
        elif not unit.text.translate(LOOKALIKES).strip("01") and _next_to_digits(out, i):
            out[i] = _Unit("digit", unit.text.translate(LOOKALIKES), unit.start, unit.end)
    result = []
    for unit in out:  # a look-alike word of several letters gives several digits
        if unit.kind == "digit" and len(unit.text) > 1:
            result.extend(_Unit("digit", ch, unit.start, unit.end) for ch in unit.text)
        else:
            result.append(unit)
    return result


def _after_digits(units: list[_Unit], index: int) -> bool:
    """Whether a digit comes just before this unit, with at most a short gap of separators."""
    for back in range(index - 1, max(index - 2 - MAX_TIGHT_GAP, -1), -1):
        if units[back].kind != "sep":
            return units[back].kind == "digit"
    return False


def _next_to_digits(units: list[_Unit], index: int) -> bool:
    """Whether a digit stands right before or after this unit, or one separator away."""
    for step in (-1, 1):
        k = index + step
        if 0 <= k < len(units) and units[k].kind == "sep":
            k += step
        if 0 <= k < len(units) and units[k].kind == "digit":
            return True
    return False


def _break_times_and_dates(units: list[_Unit]) -> None:
    flat = "".join(u.text if u.kind in ("digit", "sep") and len(u.text) == 1 else "a" for u in units)
    for match in _TIME_OR_DATE.finditer(flat):
        for unit in units[match.start():match.end()]:
            unit.kind = "other"


@dataclass
class _Group:
    digits: str
    spans: list[tuple[int, int]]
    gap: str = ""        # before this group: "", "tight", "number" (a long number's separator), "loose"


def _runs(units: list[_Unit]) -> list[list[_Group]]:
    """Groups of digits, and how each is joined to the one before; a run ends where letters,
    Chinese text or a long gap come between."""
    runs: list[list[_Group]] = []
    run: list[_Group] = []
    gap: list[_Unit] = []
    for unit in units:
        if unit.kind in ("digit", "x") and not gap and run and not run[-1].digits.endswith("X"):
            run[-1].digits += unit.text.upper()
            run[-1].spans.append((unit.start, unit.end))
            continue
        if unit.kind == "digit" or (unit.kind == "x" and run):
            kind = _gap_kind(gap) if run else ""
            if run and kind is None:
                runs.append(run)
                run = []
                kind = ""
            run.append(_Group(unit.text, [(unit.start, unit.end)], kind))
            gap = []
        elif run:
            if unit.kind == "other":
                runs.append(run)
                run, gap = [], []
            else:
                gap.append(unit)
    if run:
        runs.append(run)
    return runs


def _gap_kind(gap: list[_Unit]) -> str | None:
    letters = sum(len(u.text) for u in gap if u.kind in ("word", "x"))
    length = sum(len(u.text) for u in gap)
    if not letters:
        if length == 1 and gap[0].text in NUMBER_SEPARATORS:
            return "number"
        return "tight" if length <= MAX_TIGHT_GAP else None
    return "loose" if letters <= MAX_LOOSE_LETTERS and length <= MAX_LOOSE_GAP else None


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


def _personal(digits: str) -> tuple[str, int] | None:
    """("mobile" or "id-number", digits of any +86 prefix) when these digits are one."""
    if "X" in digits[:-1]:
        return None
    if len(digits) == 18 and digits[:17].isdigit() and is_id_number(digits):
        return "id-number", 0
    if len(digits) == 13 and digits.startswith("86") and MOBILE.fullmatch(digits[2:]):
        return "mobile", 2
    if len(digits) == 11 and MOBILE.fullmatch(digits):
        return "mobile", 0
    return None


def _joined(groups: list[_Group]) -> tuple[str, list[tuple[int, int]]]:
    """The digits of these groups as one number; an X ends a number only at its end, in
    the middle it is a letter between digits."""
    digits, spans = "", []
    for k, group in enumerate(groups):
        end = len(group.digits) if k == len(groups) - 1 else len(group.digits.rstrip("X"))
        digits += group.digits[:end]
        spans += group.spans[:end]
    return digits, spans


def _finding(reason: str, groups: list[_Group], skip: int = 0) -> Finding:
    digits, spans = _joined(groups)
    return Finding(reason, spans[0][0], spans[-1][1], digits[skip:], spans[skip:])


def _run_findings(run: list[_Group], shortest_run: int) -> list[Finding]:
    findings, taken, i = [], set(), 0
    while i < len(run):
        best = None
        for j in range(i, len(run)):
            digits = _joined(run[i:j + 1])[0]
            if len(digits) > 18:
                break
            found = _personal(digits)
            if found:
                best = (j, *found)
        if best:
            j, reason, skip = best
            findings.append(_finding(reason, run[i:j + 1], skip))
            taken.update(range(i, j + 1))
            i = j + 1
        else:
            i += 1
    # Runs of digits written as one number (a bank card, a landline with extension): only
    # digits and a number's separators, not lists of years.
    i = 0
    while i < len(run):
        j = i
        while j + 1 < len(run) and run[j + 1].gap == "number" and len(run[j + 1].digits) >= 3:
            j += 1
        part = [g for k, g in enumerate(run[i:j + 1], i) if k not in taken]
        count = sum(ch.isdigit() for g in part for ch in g.digits)
        if (len(part) == j - i + 1 and count >= shortest_run
                and not (len(part) > 1 and all(_YEAR.fullmatch(g.digits) for g in part))):
            findings.append(_finding("long-number", part))
        i = j + 1
    return findings


def find_numbers(text: str, *, shortest_run: int = LONG_RUN) -> list[Finding]:
    """Mobile numbers, ID numbers (valid checksum) and runs of ``shortest_run`` digits or
    more, however written: any separators, letters or number words between the digits,
    any script's digits."""
    units = _units(text)
    _break_times_and_dates(units)
    findings = [finding for run in _runs(units) for finding in _run_findings(run, shortest_run)]
    return sorted(findings, key=lambda f: f.start)


# --- masking -------------------------------------------------------------------------------

def _shown(count: int) -> list[bool]:
    """Which of a number's digits show: the first 3 and the last 4, from 11 digits up."""
    if count < SHOWN_FROM:
        return [False] * count
    return [k < SHOW_FIRST or k >= count - SHOW_LAST for k in range(count)]


def mask_number(number: str) -> str:
    """A number by the masking rule, its separators dropped: 138 1234 5678 → 138****5678."""
    digits = [char for char in number.upper() if char.isdecimal() or char == "X"]
    return "".join(char if shown else "*" for char, shown in zip(digits, _shown(len(digits))))


def mask_numbers_in_text(text: str, findings: list[Finding] | None = None, *, offset: int = 0) -> str:
    """The text with every number in it masked where it stands, by the masking rule.

    Without ``findings`` the text's own numbers are found. ``findings`` may come from a
    longer text this one is part of, starting at ``offset`` (the fields of one card,
    checked together): each field shows its own part of a number masked.
    """
    if findings is None:
        findings = find_numbers(text)
    end = offset + len(text)
    replacements = []
    for finding in findings:
        shown = [False] * len(finding.spans) if finding.partial else _shown(len(finding.spans))
        mine = [(span, finding.detail[k] if shown[k] else "*")
                for k, span in enumerate(finding.spans) if offset <= span[0] < end]
        if not mine:
            continue
        # Several digits may come from one word ("eight"): it is replaced once.
        replacements.append((mine[0][0][0] - offset, mine[-1][0][1] - offset, "".join(char for _, char in mine)))
    out, last = [], 0
    for start, stop, masked in sorted(replacements):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(masked)
        last = stop
    out.append(text[last:])
    return "".join(out)


def mask_name(name: str) -> str:
    """A name by the masking rule: 张三丰 → 张*丰, 张三 → 张*, John Smith → J*** S****."""
    name = " ".join((name or "").split())
    if not name:
        return ""
    if re.search(r"[\u3400-\u9fff]", name):
        name = name.replace(" ", "")  # 李 四 is 李四: one name, masked as one
    if " " in name:
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split(" "))
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def highlight_numbers(text: str) -> Markup:
    """The text escaped, each masked number in it (138****5678) marked for a moderator's eye."""
    return Markup(_MASKED_NUMBER.sub(lambda match: f"<mark>{match.group(0)}</mark>", str(escape(text))))


# --- what residents type -------------------------------------------------------------------

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
    if len(name) > lengths.NAME:
        raise Refused(_l("A name has at most %(n)d characters.", n=lengths.NAME), "name")
    if any(char.isdigit() for char in name):
        raise Refused(_l("A name has no digits in it."), "name")
    return name


def normalise_code(text: str) -> str:
    return re.sub(r"\D", "", text or "")
