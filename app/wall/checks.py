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
_MOBILE = re.compile(r"1[3-9]\d{9}")
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)
_YEAR = re.compile(r"(?:19|20)\d\d")
# Times and dates stand on their own: they never join the digits around them.
_TIME_OR_DATE = re.compile(
    r"(?<!\d)(?<!\d[:.\-/])(?:"
    r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
    r"|(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r")(?![:.\-/]?\d)"
)


@dataclass
class Finding:
    """A number or word in the original text, with where it stands."""

    reason: str          # "mobile", "id-number", "long-number", "split-number", "watched-word"
    start: int
    end: int
    detail: str = ""
    # Where each digit of the number was written: (start, end) in the original text.
    spans: list[tuple[int, int]] = field(default_factory=list, repr=False)


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
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return "mobile", 2
    if len(digits) == 11 and _MOBILE.fullmatch(digits):
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


def _run_findings(run: list[_Group]) -> list[Finding]:
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
    # Runs of 11 or more digits written as one number (a bank card, a landline with
    # extension): only digits and a number's separators, not lists of years.
    i = 0
    while i < len(run):
        j = i
        while j + 1 < len(run) and run[j + 1].gap == "number" and len(run[j + 1].digits) >= 3:
            j += 1
        part = [g for k, g in enumerate(run[i:j + 1], i) if k not in taken]
        count = sum(ch.isdigit() for g in part for ch in g.digits)
        if (len(part) == j - i + 1 and count >= 11
                and not (len(part) > 1 and all(_YEAR.fullmatch(g.digits) for g in part))):
            findings.append(_finding("long-number", part))
        i = j + 1
    return findings


def find_numbers(original: str) -> list[Finding]:
    """Mobile numbers, ID numbers (valid checksum) and runs of 11+ digits, however written:
    any separators, letters or number words between the digits, any script's digits."""
    units = _units(original)
    _break_times_and_dates(units)
    findings = [finding for run in _runs(units) for finding in _run_findings(run)]
    return sorted(findings, key=lambda f: f.start)


def _masked_digits(count: int) -> list[bool]:
    """Which digits of a number stay visible: the first 3 and the last 4 (none when short)."""
    if count <= 7:
        return [False] * count
    return [k < 3 or k >= count - 4 for k in range(count)]


def mask_span(digits_text: str) -> str:
    """138****5678: keep the first 3 and last 4 digits of a number, hide the rest."""
    digits = [ch for ch in digits_text if ch.isalnum()]
    return "".join(ch if shown else "*" for ch, shown in zip(digits, _masked_digits(len(digits))))


def masked(original: str, findings: list[Finding], offset: int = 0) -> str:
    """The text with every number finding replaced by its masked form.

    ``findings`` may come from a longer text this one is part of, starting at ``offset``
    (the fields of one card, checked together): each field shows its own part masked.
    """
    end = offset + len(original)
    replacements = []
    for finding in findings:
        if finding.reason in ("watched-word",) or not finding.spans:
            continue
        shown = ([False] * len(finding.spans) if finding.reason == "split-number"
                 else _masked_digits(len(finding.spans)))
        mine = [(span, finding.detail[k] if shown[k] else "*")
                for k, span in enumerate(finding.spans) if offset <= span[0] < end]
        if not mine:
            continue
        text = "".join(char for _, char in mine)
        # Several digits may come from one word ("eight"): it is replaced once.
        replacements.append((mine[0][0][0] - offset, mine[-1][0][1] - offset, text))
    out, last = [], 0
    for start, stop, text in sorted(replacements):
        if start < last:
            continue
        out.append(original[last:start])
        out.append(text)
        last = stop
    out.append(original[last:])
    return "".join(out)


# How the fields of one card, or cards one after another, are put together to be checked
# as they are read: a number split between them is still one number.
SHOWN_TOGETHER = "\n"


def together(parts: list[str]) -> str:
    """The parts as they are read one after another (empty fields show nothing)."""
    return SHOWN_TOGETHER.join(part for part in parts if part)


def masked_parts(parts: list[str], findings: list[Finding]) -> list[str]:
    """Each part masked where a finding in ``together(parts)`` touches it."""
    out, start = [], 0
    for part in parts:
        out.append(masked(part, findings, start))
        if part:
            start += len(part) + len(SHOWN_TOGETHER)
    return out


def numbers_across(earlier: list[str], parts: list[str]) -> list[Finding]:
    """Numbers that only appear when ``parts`` is read next to ``earlier`` (before or after
    it), as findings in ``together(parts)``: "split-number", every digit of them hidden
    (the earlier text may already show the number's start)."""
    new_length = len(together(parts))
    before = together(earlier)
    for joined, offset in ((earlier + parts, len(before) + len(SHOWN_TOGETHER) if before else 0),
                           (parts + earlier[::-1], 0)):
        found = []
        for finding in find_numbers(together(joined)):
            mine = [(s - offset, e - offset) for s, e in finding.spans if offset <= s < offset + new_length]
            if mine and len(mine) < len(finding.spans):
                found.append(Finding("split-number", mine[0][0], mine[-1][1], "", mine))
        if found:
            return found
    return []


def _overlaps(finding: Finding, others: list[Finding]) -> bool:
    return any(finding.start < other.end and other.start < finding.end for other in others)


def with_split(findings: list[Finding], split: list[Finding]) -> list[Finding]:
    """A text's own findings and its split numbers; where both cover a digit, the split
    number (all hidden) wins."""
    return [finding for finding in findings if not _overlaps(finding, split)] + split


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
