"""Load a few thousand real-looking rows into three demo resources, some of them bad.

Each resource's provider loads a generated CSV through the real load path, so the demo
shows reports and quarantines as a department would see them: a few rows carry a wrong
check character, a malformed plate or mobile number, an impossible date or a repeated
key. Deterministic (fixed seeds); a resource that already has rows is left alone.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import date, timedelta

from opencitybrain.catalog.load_model import FileSource, LoadFormat, LoadOptions, LoadReport
from opencitybrain.catalog.loading import LoadService
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.search import SearchQuery
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from opencitybrain.sim.population.codes import ric_check_char, uscc_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌宇浩然欣怡子涵梓轩"
# Nanchang's districts (GB/T 2260): 东湖 西湖 青云谱 青山湖 新建 红谷滩.
COUNTIES = ("360102", "360103", "360104", "360111", "360112", "360113")
SERIAL = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
VACCINES = ("乙肝疫苗", "卡介苗", "脊灰疫苗", "百白破疫苗", "麻腮风疫苗", "乙脑减毒活疫苗")
PLATFORMS = ("滴滴出行", "曹操出行", "T3出行", "享道出行")
ORG_TYPES = ("有限责任公司", "股份有限公司", "个人独资企业", "合伙企业")
DISTRICTS = ("东湖区", "西湖区", "青山湖区", "红谷滩区")
TRADES = ("科技", "商贸", "餐饮管理", "建筑工程", "物流", "文化传媒", "医药", "农业开发")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _citizen_id(rng: random.Random, born: date) -> str:
    first17 = f"{rng.choice(COUNTIES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + ric_check_char(first17)


def _uscc(rng: random.Random) -> str:
    org = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    first17 = f"91{rng.choice(COUNTIES)}{org}"
    return first17 + uscc_check_char(first17)


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def _plate(rng: random.Random) -> str:
    if rng.random() < 0.3:  # small new-energy vehicle: D or F, then one letter/digit, 4 digits
        return f"赣A{rng.choice('DF')}{rng.choice(SERIAL)}{rng.randrange(10**4):04d}"
    return "赣A" + "".join(rng.choice(SERIAL) for _ in range(5))


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def vehicles(rng: random.Random, n: int) -> bytes:
    """Return ride-hailing vehicles (网约车) as CSV, with about 2% bad rows."""
    rows = []
    for i in range(n):
        row = [_plate(rng), f"赣{360100 + i:06d}", _uscc(rng), _name(rng), _mobile(rng)]
        if i % 97 == 5:
            row[0] = row[0][:3] + "O" + row[0][4:]  # no letter O in a serial
        if i % 131 == 7:
            row[4] = row[4][:9]  # a mobile number cut short
        if i % 173 == 11:
            row[2] = row[2][:17] + ("0" if row[2][17] != "0" else "1")  # wrong check char
        rows.append(row)
    return _csv(["plate", "permit_no", "uscc", "name", "mobile"], rows)


def vaccinations(rng: random.Random, n: int) -> bytes:
    """Return vaccination records (预防接种) as CSV with Chinese headers, a few bad."""
    rows = []
    children = [
        (_name(rng), date(2019, 1, 1) + timedelta(days=rng.randrange(1800)))
        for _ in range(n // 3 + 1)
    ]
    for i in range(n):
        name, born = children[i // 3]
        rng_id = random.Random(f"{name}{born}")  # noqa: S311 - the same child, the same ID
        id_number = _citizen_id(rng_id, born)
        given = born + timedelta(days=30 * (i % 3) + rng.randrange(20))
        row = [
            name,
            id_number,
            VACCINES[(i // 3) % len(VACCINES)],
            str(i % 3 + 1),
            given.isoformat(),
        ]
        if i % 211 == 3:
            row[4] = f"{given.year}-02-30"  # no such day
        if i % 157 == 9:
            row[1] = id_number[:17] + ("1" if id_number[17] != "1" else "2")
        rows.append(row)
    return _csv(["姓名", "公民身份号码", "疫苗名称", "剂次", "接种日期"], rows)


def businesses(rng: random.Random, n: int) -> bytes:
    """Return business registrations (企业登记) as CSV; a few repeat an earlier code."""
    rows: list[list[str]] = []
    for i in range(n):
        founded = date(1995, 1, 1) + timedelta(days=rng.randrange(10_000))
        name = f"南昌{rng.choice(TRADES)}{_name(rng)[1:]}{rng.choice(ORG_TYPES)}"
        row = [_uscc(rng), name, rng.choice(ORG_TYPES), _name(rng),
               f"{rng.randrange(10, 50_000) / 10:.1f}", founded.isoformat(),
               f"南昌市{rng.choice(DISTRICTS)}{rng.randrange(1, 999)}号",
               f"{rng.choice(TRADES)}相关业务"]  # fmt: skip
        if i % 250 == 17 and rows:
            row[0] = rows[-1][0]  # the same code twice in one file
        if i % 180 == 4:
            row[4] = "约一百万"  # not a number
        rows.append(row)
    header = ["uscc", "org_name", "org_type", "legal_representative", "registered_capital",
              "founded_on", "domicile", "business_scope"]  # fmt: skip
    return _csv(header, rows)


# (department, resource name, generator, rows, key)
DEMO_LOADS: tuple[
    tuple[str, str, Callable[[random.Random, int], bytes], int, tuple[str, ...]], ...
] = (
    ("transport", "网约车运营车辆信息", vehicles, 2000, ("plate",)),
    ("health", "预防接种记录", vaccinations, 3000, ("id_number", "vaccine", "dose")),
    ("market-regulation", "企业登记信息", businesses, 1500, ()),
)


async def seed_demo_rows(
    loader: LoadService, rows: ResourceRows, catalog: CatalogService
) -> list[tuple[str, LoadReport]]:
    """Load the demo rows into resources that have none; return (name, report) per load."""
    ctx = Context.system("demo-seed")
    found = catalog.search(ctx, SearchQuery(limit=1000))
    by_name = {(h.resource.department_id, h.resource.spec.name_zh): h.resource for h in found.hits}
    done = []
    for seed, (dept, name, make, n, key) in enumerate(DEMO_LOADS):
        resource = by_name.get((dept, name))
        if resource is None or rows.count(resource.id) > 0:
            continue
        data = make(random.Random(20261122 + seed), n)  # noqa: S311 - demo data
        source = FileSource(f"{resource.slug}.csv", data, LoadFormat.CSV)
        report = await loader.load(ctx, resource.id, source, LoadOptions(key=key))
        done.append((name, report))
    return done
