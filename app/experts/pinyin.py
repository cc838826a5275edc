"""Search keys from pinyin: what a resident may tap on the A–Z pad to find a name or skill.

For 张三 the keys include z, zs, zhs, zhangs, zhangsan; for 书法: s, sf, sh, shf, shuf,
shufa. A surname with several readings is found by each (曾: zeng and ceng; 单: shan, dan,
chan; the list is pinyin_worker.SURNAME_READINGS); ü may be typed v or u (吕: lv, lu). The readings
come from pypinyin in a separate process (pinyin_worker.py): web workers never load it.
"""

import json
import subprocess
import sys
from itertools import product
from pathlib import Path

from .. import lengths

WORKER = Path(__file__).with_name("pinyin_worker.py")
# A stored key is as long as the search pad takes.
MAX_KEY = lengths.SEARCH
MAX_SYLLABLES = 6
_INITIALS = ("zh", "ch", "sh")


def readings(names: list[str], terms: list[str] = ()) -> tuple[list, list]:
    """Syllable readings of names (every reading of the first character) and other terms."""
    if not names and not terms:
        return [], []
    # Run by path, not as app.experts.pinyin_worker: importing the package would load the
    # whole web app first (half a second per save).
    done = subprocess.run([sys.executable, str(WORKER)], check=True, capture_output=True,
                          input=json.dumps({"names": list(names), "terms": list(terms)}).encode(), timeout=60)
    answer = json.loads(done.stdout)
    return answer["names"], answer["terms"]


def _spellings(syllable: str) -> set[str]:
    """ü is written v by pypinyin; residents may tap u."""
    return {syllable, syllable.replace("v", "u")}


def _starts(syllable: str) -> set[str]:
    """How a syllable may be typed before the next one: its first letter, zh/ch/sh, or whole."""
    starts = {syllable[:1], syllable}
    if syllable[:2] in _INITIALS:
        starts.add(syllable[:2])
    return starts


def keys(syllables: list[list[str]]) -> set[str]:
    """Every tap string that finds this term: whole syllables, initials or a mix, the last
    one typed in part (zhangs, zs, shuf)."""
    found = set()
    syllables = syllables[:MAX_SYLLABLES]
    for reading in product(*[sorted({s for option in options for s in _spellings(option)}) for options in syllables]):
        reading = [syllable for syllable in reading if syllable]
        for count in range(1, len(reading) + 1):
            heads = [sorted(_starts(syllable)) for syllable in reading[:count - 1]]
            last = reading[count - 1]
            for head in product(*heads):
                prefix = "".join(head)
                for end in range(1, len(last) + 1):
                    key = prefix + last[:end]
                    if len(key) <= MAX_KEY:
                        found.add(key)
    return found


def sort_key(syllables: list[list[str]]) -> str:
    """The list order: syllables joined by "0", which sorts before every letter in byte order
    and in language-aware collations alike (a space is ignored by some: li wen after lin)."""
    return "0".join(options[0] for options in syllables)[:80]
