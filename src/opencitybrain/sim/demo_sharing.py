"""Requests between the demo departments, so the sharing panel opens on real work.

Through the real sharing service, as the departments' staff would file them:

- public security asks for the market regulator's business registrations (无条件共享):
  granted at once;
- public security asks for the transport bureau's ride-hailing vehicles (有条件共享) to
  check operating vehicles at roadside inspections: the transport bureau approves it;
- education asks the health commission for vaccination records (有条件共享), for the
  school-entry check (入学查验): left in the health commission's inbox, its ten
  working days running on the city clock.

Idempotent: a department that already filed a request for a resource files nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from opencitybrain.catalog.search import SearchQuery
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.model import RequestSpec
from opencitybrain.sharing.service import Decision, SharingService


@dataclass(frozen=True, slots=True)
class DemoRequest:
    """One request the demo files: who asks whom for which fields, and what happens."""

    requester: str
    provider: str
    resource_zh: str
    fields: tuple[str, ...]
    purpose: str
    scenario: str
    approve: bool  # the provider approves it (a conditional one); else it waits


DEMO_REQUESTS = (
    DemoRequest(
        "public-security", "market-regulation", "企业登记信息",
        ("uscc", "org_name", "org_type", "founded_on"),
        "核验涉案企业主体信息 / verify companies named in cases", "企业主体核验", approve=False,
    ),
    DemoRequest(
        "public-security", "transport", "网约车运营车辆信息",
        ("plate", "permit_no", "uscc", "name", "mobile"),
        "路面执法核验营运车辆 / check operating vehicles at roadside inspections",
        "营运车辆执法核验", approve=True,
    ),
    DemoRequest(
        "education", "health", "预防接种记录",
        ("name", "id_number", "vaccine", "dose", "vaccinated_on"),
        "入托入学预防接种证查验 / vaccination check at school entry", "入学一件事",
        approve=False,
    ),
)  # fmt: skip


def _staff(department: str) -> Context:
    return Context(
        actor=f"demo:{department}",
        department=department,
        roles=frozenset({"department_staff"}),
        purpose="demo",
    )


async def seed_demo_sharing(sharing: SharingService, catalog: CatalogService) -> int:
    """File the demo requests that are not filed yet; return how many were filed."""
    found = catalog.search(Context.system("demo"), SearchQuery(limit=1000))
    by_name = {(h.resource.department_id, h.resource.spec.name_zh): h.resource for h in found.hits}
    filed = 0
    for d in DEMO_REQUESTS:
        resource = by_name.get((d.provider, d.resource_zh))
        if resource is None:
            continue
        asker = _staff(d.requester)
        if any(r.spec.resource_id == resource.id for r in sharing.requests(asker)):
            continue
        spec = RequestSpec(
            resource_id=resource.id,
            fields=tuple(f for f in d.fields if f in {x.name for x in resource.spec.fields}),
            purpose=d.purpose,
            scenario=d.scenario,
            ends_at=sharing.clock.now() + timedelta(days=365),
        )
        request = await sharing.submit(asker, spec)
        filed += 1
        if d.approve:
            reason = "用于执法核验，范围限于所列信息项 / for enforcement checks, listed fields only"
            await sharing.approve(_staff(d.provider), request.id, Decision(reason=reason))
    return filed
