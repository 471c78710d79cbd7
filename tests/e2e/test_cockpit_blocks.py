"""End-to-end: a resource's rows as a choropleth that drills from the city to a district
and a street on click, and the registry panel's masked lookup and review queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from opencitybrain.catalog.model import DataType, FieldSpec
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.kernel.events import Context
from opencitybrain.registry.model import SourceSpec
from opencitybrain.registry.service import RegistryService
from opencitybrain.sim.population import PEOPLE_TABLES, PopulationSpec, generate, nanchang_like
from tests.e2e.cockpit_page import Page, login, open_page, own_errors
from tests.support import DemoCity

TRANSPORT = Context(actor="u-e2e", department="transport", roles=frozenset({"department_staff"}))

pytestmark = pytest.mark.browser

ARTIFACTS = Path("test-artifacts")
RID = "e2e-blocks-points"
WAIT_MS = 30_000
FIELDS = (
    FieldSpec("id", "编号", DataType.INTEGER, is_identifier=True),
    FieldSpec("lon", "经度", DataType.DECIMAL),
    FieldSpec("lat", "纬度", DataType.DECIMAL),
    FieldSpec("amount", "金额", DataType.DECIMAL),
)


@pytest.fixture
def cockpit(cockpit_url: str) -> Iterator[Page]:
    """A fresh chromium page on the cockpit, asking for the test resource's blocks."""
    yield from open_page(f"{cockpit_url.rstrip('/')}/?blocks={RID}")


def _points(demo_city: DemoCity) -> None:
    """3,000 points around 八一广场 and the old town, as a department's load leaves them."""
    rng = np.random.default_rng(5)
    n = 3000
    table = pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "lon": pa.array(115.90 + rng.normal(0, 0.04, n)),
            "lat": pa.array(28.68 + rng.normal(0, 0.04, n)),
            "amount": pa.array(rng.integers(1, 50, n).astype(float)),
        }
    )
    rows = demo_city.platform.services.get(ResourceRows)  # type: ignore[type-abstract]
    rows.upsert(RID, FIELDS, ["id"], table)  # type: ignore[attr-defined]


def _registry(demo_city: DemoCity) -> str:
    """Build the people registry from a small population; return one golden record's ID."""
    population = generate(nanchang_like(), PopulationSpec(people=500, companies=50, vehicles=250))
    inputs = [
        (SourceSpec.from_mapping(s.as_source()), population.tables[s.source]) for s in PEOPLE_TABLES
    ]
    service = demo_city.platform.services.get(RegistryService)
    service.build("people", inputs)
    build = service.files.current("people")
    assert build is not None
    return str(build.golden["golden_id"][0].as_py())


def test_choropleth_drills_down_and_registry_lookup_follows_grants(
    cockpit: Page, demo_city: DemoCity
) -> None:
    """County blocks on the map, clicks down to a community's grids, a golden record looked up.

    The bureau provides the golden records, so its admin sees one in clear in the cockpit;
    a department without a grant gets the same record masked.
    """
    _points(demo_city)
    some_id = _registry(demo_city)
    page = cockpit.page
    login(page, "admin", demo_city.password("admin"))
    try:
        page.wait_for_function(
            "r => { const b = window.__cockpit.blocks; return b && b.resource === r"
            " && b.level === 'county' && b.painted > 0; }",
            arg=RID,
            timeout=WAIT_MS,
        )
        panel = page.locator("[data-panel='blocks.choropleth']")
        assert panel.is_visible()
        assert page.locator("[data-testid=blocks-legend] i").count() >= 5
        first = page.locator("[data-testid=blocks-top] button").first
        county = first.get_attribute("data-code")
        assert county is not None
        assert len(county) == 6
        first.click()
        page.wait_for_function(
            "c => { const b = window.__cockpit.blocks; return b.within === c"
            " && b.level === 'street' && b.painted > 0; }",
            arg=county,
            timeout=WAIT_MS,
        )
        crumbs = page.locator("[data-testid=blocks-crumbs]").inner_text()
        assert "全市" in crumbs
        street = page.locator("[data-testid=blocks-top] button").first.get_attribute("data-code")
        assert street is not None
        assert street.startswith(county)
        page.locator("[data-testid=blocks-top] button").first.click()
        page.wait_for_function(
            "s => window.__cockpit.blocks.within === s"
            " && window.__cockpit.blocks.level === 'community'"
            " && window.__cockpit.blocks.painted > 0",
            arg=street,
            timeout=WAIT_MS,
        )
        community = page.locator("[data-testid=blocks-top] button").first.get_attribute("data-code")
        assert community is not None
        assert community.startswith(street)
        page.locator("[data-testid=blocks-top] button").first.click()
        page.wait_for_function(  # down to the grid (网格), the last level
            "c => window.__cockpit.blocks.within === c"
            " && window.__cockpit.blocks.level === 'grid'"
            " && window.__cockpit.blocks.painted > 0",
            arg=community,
            timeout=WAIT_MS,
        )
        grid = page.locator("[data-testid=blocks-top] button").first.get_attribute("data-code")
        assert grid is not None
        assert len(grid) == 15
        assert grid.startswith(community)
        page.locator("[data-testid=blocks-crumbs] button[data-code='']").click()
        page.wait_for_function("() => window.__cockpit.blocks.level === 'county'", timeout=WAIT_MS)

        page.fill("[data-testid=registry-code]", some_id)
        page.locator("[data-testid=registry-form] button[type=submit]").click()
        page.wait_for_function("() => window.__cockpit.blocks.lookup !== null", timeout=WAIT_MS)
        shown = page.locator("[data-testid=registry-record]").inner_text()
        assert some_id in shown  # the provider's own record
        service = demo_city.platform.services.get(RegistryService)
        other = service.lookup(TRANSPORT, "people", some_id)["record"]
        assert other["golden_id"] != some_id
        assert other["golden_id"][0] == some_id[0]  # masked: 3***************1X
        page.wait_for_function("() => (window.__cockpit.blocks.review ?? 0) > 0", timeout=WAIT_MS)
        assert own_errors(cockpit.errors, "/api/v1/blocks", "/api/v1/registry") == []
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "cockpit-blocks.png"))
