"""Pinyin readings, computed in a short-lived process of its own (app/experts/pinyin.py
runs it) so that pypinyin's dictionaries (about 56 MB) never load into a web worker.

Reads a JSON list of texts on stdin; writes, for each, a list of syllables, each a list
of readings: every reading of a name's first character when it is a surname with several
(SURNAME_READINGS), the usual one elsewhere.
"""

import json
import re
import sys

from pypinyin import Style, lazy_pinyin, pinyin

CJK = re.compile(r"[\u3400-\u9fff]")
# Surnames with several readings, and how they are read as surnames (pypinyin's usual
# reading is often another). Names starting with one are found by every reading, the
# surname's first, so names sort as people say them. Other characters keep their usual
# reading only: pypinyin also lists rare ones (王 as yu) that would fill a tap's list.
SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
                    "覃": "qin", "盖": "ge", "乐": "yue", "缪": "miao", "尉": "yu", "员": "yun", "种": "chong",
                    "翟": "zhai", "柏": "bai", "召": "shao", "繁": "po", "秘": "bi", "万": "wan", "纪": "ji",
                    "长": "chang", "重": "chong", "沈": "shen", "薄": "bo", "参": "can", "宿": "su", "折": "she"}


def readings(text: str, every_first_reading: bool) -> list[list[str]]:
    syllables = []
    chinese = "".join(CJK.findall(text))
    usual = iter(lazy_pinyin(chinese, style=Style.NORMAL))
    for index, part in enumerate(re.findall(r"[\u3400-\u9fff]|[A-Za-z]+", text)):
        if CJK.fullmatch(part):
            common = next(usual)
            if index == 0 and every_first_reading and part in SURNAME_READINGS:
                first = SURNAME_READINGS[part]
                every = pinyin(part, style=Style.NORMAL, heteronym=True)[0]
                options = [first] + [r for r in [common, *every] if r != first]
                options = list(dict.fromkeys(options))
            else:
                options = [common]
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
