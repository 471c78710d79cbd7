"""The labelled 12345 sample the text classifier learns from, and its held-out split.

Provenance: ``data/hotline_phrases.json`` holds eight hand-written problem descriptions per
sub-class of the demo city's table, in a caller's words (written for this project; no
third-party text). Each is framed the way hotline operators transcribe calls — an
opener, a place, the problem, sometimes a closing request — so one phrase gives several
differently worded examples. The split is **by phrase**: the last two phrases of every
class are held out, so the test measures how well the classifier reads a description it
has never seen, not how well it remembers framings around phrases it has.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources

HELD_OUT_PER_CLASS = 2
FRAMES_PER_PHRASE = 4

OPENERS = (
    "", "你好，", "我要反映一下，", "您好，我想投诉，", "市民来电反映：", "来电人称",
    "我想问一下，", "麻烦你们管一下，", "喂，", "网友留言：",
)  # fmt: skip
PLACES = (
    "八一大道和中山路路口", "胜利路步行街", "阳明路", "北京西路小区门口", "象山北路",
    "叠山路菜市场旁", "民德路", "洪都中大道", "井冈山大道", "红谷中大道", "丰和大道公交站",
    "庐山南大道", "青山湖大道", "孺子路", "站前路", "抚河北路", "我们小区", "学校门口",
    "家楼下", "地铁站出口",
)  # fmt: skip
CLOSERS = (
    "", "", "，请尽快处理", "，希望有关部门来看看", "，已经好几天了", "，太危险了", "，谢谢",
    "，请派人来", "，都没人管", "。",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled description."""

    text: str
    code: str


@cache
def phrases() -> dict[str, tuple[str, ...]]:
    """Return the hand-written problem descriptions per class code."""
    path = resources.files("opencitybrain.operations").joinpath("data/hotline_phrases.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {code: tuple(items) for code, items in doc["phrases"].items()}


def frame(phrase: str, rng: random.Random) -> str:
    """Return the phrase as an operator might transcribe it: opener, place, problem, close."""
    opener, place, closer = rng.choice(OPENERS), rng.choice(PLACES), rng.choice(CLOSERS)
    where = rng.choice((f"{place}", f"在{place}", f"{place}这边", ""))
    sep = "，" if where else ""
    return f"{opener}{where}{sep}{phrase}{closer}"


def labelled_sample(seed: int = 12345) -> tuple[list[Example], list[Example]]:
    """Return (train, held-out) examples: each phrase framed ``FRAMES_PER_PHRASE`` ways."""
    rng = random.Random(seed)  # noqa: S311 - a fixed, reproducible sample
    train: list[Example] = []
    test: list[Example] = []
    for code, items in sorted(phrases().items()):
        cut = len(items) - HELD_OUT_PER_CLASS
        for i, phrase in enumerate(items):
            out = train if i < cut else test
            out.extend(Example(frame(phrase, rng), code) for _ in range(FRAMES_PER_PHRASE))
    return train, test
