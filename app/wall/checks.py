"""The wall's own checks on a post, beside the personal numbers app.people finds and
masks: the fields of a card read together, a number split over one device's posts,
watched words.

The resident's text is kept as written; check() also gives a normalised copy of it, in
which full-width characters and Chinese numerals are plain digits.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from ..people import CHINESE_DIGITS, Finding, find_numbers, mask_numbers_in_text

_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


@dataclass
class CheckResult:
    normalised: str
    findings: list[Finding] = field(default_factory=list)
    blocked_by: str | None = None
    hold: bool = False
    flags: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return sorted({finding.reason for finding in self.findings} | {f"word:{flag}" for flag in self.flags})


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), then Chinese numerals to digits."""
    return unicodedata.normalize("NFKC", text).translate(CHINESE_DIGITS)


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
        out.append(mask_numbers_in_text(part, findings, offset=start))
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
                found.append(Finding("split-number", mine[0][0], mine[-1][1], "", mine, partial=True))
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
