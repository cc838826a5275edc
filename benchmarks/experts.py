"""How the expert directory's per-tap search scales: 50 experts against 5,000.

Builds two SQLite databases through the real services (skills and experts saved in one
batch each, so search keys are what a save writes), then times, in one run and one
process, what a kiosk asks on each tap of the letter pad: the `#expert-list` fragment for
"s", then "sf", then "shuf", and a full name's initials. Prints medians and the ratio
5,000 / 50 (target: at most 1.5).

Run: .venv/bin/python benchmarks/experts.py [--rounds 400]
"""

import random
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from app.experts import services
from app.experts.demo import SKILLS
from benchmarks.common import analyze, community_path, kiosk_client, median_ms, new_app, rounds

SIZES = (50, 5_000)
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊"
            "秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单解仇朴区查")
GIVEN = "伟芳娜敏静秀英丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国海燕志春生晓东文淑珍红玉梅德子涵雨桐宏凤"
TAPS = ("s", "sf", "shuf", "zjg")


def build(directory: Path, experts: int):
    app = new_app(directory)
    rng = random.Random(experts)
    with app.app_context():
        skill_ids = [skill.id for skill in services.save_skills(SKILLS)]
        names = set()
        while len(names) < experts:
            names.add(rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))))
        names.discard("张建国")
        names = ["张建国"] + sorted(names)[:experts - 1]  # one known name, found by its initials in both sizes
        services.save_experts([(None, services.ExpertData(
            name=name, mobile=f"139{number:08d}", display_name=name,
            skill_ids=rng.sample(skill_ids, rng.choice((1, 2))),
            consent_on=date(2026, 1, 1), consent_scope="称呼和技能"))
            for number, name in enumerate(names)])
        analyze()
    return app


def main() -> None:
    rounds_per_figure = rounds()
    headers = {"HX-Request": "true", "HX-Target": "expert-list", "Accept-Language": "zh-CN"}
    with tempfile.TemporaryDirectory() as tmp:
        apps = {size: build(Path(tmp) / str(size), size) for size in SIZES}
        clients = {size: kiosk_client(app) for size, app in apps.items()}
        found = {}
        for size in SIZES:  # warm up: templates compiled, connections opened; count the cards
            for tap in TAPS:
                median_ms(clients[size], f"/experts/?q={tap}", headers, 200, 20)
                page = clients[size].get(community_path(f"/experts/?q={tap}"), headers=headers).get_data(as_text=True)
                found[size, tap] = page.count('class="expert-card"')
        samples = {(size, tap): [] for size in SIZES for tap in TAPS}
        for _ in range(4):  # alternate so both sizes see the same machine noise
            for size in SIZES:
                for tap in TAPS:
                    samples[size, tap].append(median_ms(clients[size], f"/experts/?q={tap}", headers, 200,
                                                        rounds_per_figure // 4))

    print(f"Expert search, one tap = the #expert-list fragment (at most {services.PAGE_SIZE} cards), median of "
          f"{rounds_per_figure} requests each, in-process test client, as an enrolled kiosk")
    print(f"{'taps':<8} {'50 experts ms':>14} {'cards':>6} {'5,000 experts ms':>17} {'cards':>6} {'ratio':>7}")
    worst = 0.0
    for tap in TAPS:
        small, large = (statistics.median(samples[size, tap]) for size in SIZES)
        worst = max(worst, large / small)
        print(f"{tap:<8} {small:>14.3f} {found[SIZES[0], tap]:>6} {large:>17.3f} {found[SIZES[1], tap]:>6} "
              f"{large / small:>7.2f}")
    print(f"worst ratio: {worst:.2f} (target at most 1.5)")


if __name__ == "__main__":
    main()
