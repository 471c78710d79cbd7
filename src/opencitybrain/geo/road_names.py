"""Made-up road names for a city's standard-address book (the pack's roads have none).

A name is a generic place word and a suffix (青山路, 湖滨大道, 金沙街, 书院巷), then, when a
street has more roads than those combinations, the word with an ordinal (青山一路 … 青山九十九路).
The words describe no real road. Names are unique within a street and drawn from a
generator seeded by the street's code, so the same street always names its roads the same.
Names hold no Arabic digits: an address's house number is the first run of digits after the
road's name (``金沙街252号``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ROAD_SUFFIXES", "ROAD_WORDS", "road_names"]

# Words for road names (combined with a suffix: 路, 大道, 街, 巷).
ROAD_WORDS = (
    "青山", "湖滨", "丰和", "文教", "福康", "长春", "朝阳", "迎宾", "解放", "建设",
    "民主", "团结", "胜利", "和平", "光明", "新华", "振兴", "兴业", "创新", "高新",
    "紫荆", "桂花", "樱花", "芙蓉", "玉兰", "梧桐", "银杏", "香樟", "翠竹", "松柏",
    "滨江", "沿河", "临湖", "望湖", "观澜", "碧波", "清泉", "北湖", "南塘", "东岸",
    "西岭", "金沙", "银湾", "水榭", "书院", "学府", "博学", "师范", "工业", "商贸",
    "物流", "科技", "星光", "晨曦", "红旗", "东风", "前进", "友谊", "永安", "太平",
)  # fmt: skip
# 路 three times: most roads are 路, as in real cities.
ROAD_SUFFIXES = ("路", "路", "路", "大道", "街", "巷")

_DIGITS = "零一二三四五六七八九"
MAX_ORDINAL = 99


def _ordinal(k: int) -> str:
    """Return 1..99 in Chinese numerals (一, 十, 十一, 二十, 九十九)."""
    tens, ones = divmod(k, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def road_names(street_code: str, count: int) -> list[str]:
    """Return ``count`` distinct road names for a street, the same for the same code."""
    rng = np.random.default_rng(int(street_code) if street_code.isdigit() else 0)
    combos = rng.permutation(len(ROAD_WORDS) * len(ROAD_SUFFIXES))
    names: list[str] = []
    seen: set[str] = set()
    for c in combos.tolist():
        name = ROAD_WORDS[c // len(ROAD_SUFFIXES)] + ROAD_SUFFIXES[c % len(ROAD_SUFFIXES)]
        if name not in seen:
            seen.add(name)
            names.append(name)
    if count > len(names):
        # Ordinal roads (青山一路, 青山二路 …), each tier in a street-seeded word order.
        for k in range(1, MAX_ORDINAL + 1):
            for w in rng.permutation(len(ROAD_WORDS)).tolist():
                names.append(f"{ROAD_WORDS[w]}{_ordinal(k)}路")
            if len(names) >= count:
                break
    if count > len(names):
        raise ValueError(f"street {street_code} has more roads ({count}) than names")
    return names[:count]
