"""Pinyin readings, computed in a short-lived process of its own (app/directory/pinyin.py
runs it) so that pypinyin's dictionaries (about 56 MB) never load into a web worker.

Reads a JSON list of texts on stdin; writes, for each, a list of syllables, each a list
of readings: every reading of the first character of a name, the usual one elsewhere.
"""

import json
import re
import sys

from pypinyin import Style, lazy_pinyin, pinyin

CJK = re.compile(r"[\u3400-\u9fff]")


def readings(text: str, every_first_reading: bool) -> list[list[str]]:
    syllables = []
    chinese = "".join(CJK.findall(text))
    usual = iter(lazy_pinyin(chinese, style=Style.NORMAL))
    for index, part in enumerate(re.findall(r"[\u3400-\u9fff]|[A-Za-z]+", text)):
        if CJK.fullmatch(part):
            common = next(usual)
            options = [common]
            if index == 0 and every_first_reading:
                options += [r for r in pinyin(part, style=Style.NORMAL, heteronym=True)[0] if r != common]
            syllables.append(options)
        else:
            syllables.append([part.lower()])
    return syllables


def main() -> None:
    request = json.load(sys.stdin)
    json.dump({"names": [readings(text, True) for text in request.get("names", [])],
               "terms": [readings(text, False) for text in request.get("terms", [])]}, sys.stdout)


if __name__ == "__main__":
    main()
