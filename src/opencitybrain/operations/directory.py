"""Who covers a region: the grid workers a dispatch names when the grid has one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opencitybrain.accounts.model import Role
from opencitybrain.accounts.service import AccountService
from opencitybrain.kernel.events import Context


class GridWorkers:
    """Map region codes (county … grid) to the grid worker who covers them."""

    def __init__(
        self,
        by_region: dict[str, str] | None = None,
        loader: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.by_region = dict(by_region or {})
        self._loader = loader

    def assign(self, region_code: str, user_id: str) -> None:
        """Make ``user_id`` the worker of a region (the most specific region wins)."""
        self.by_region[region_code] = user_id

    def worker_for(self, region_codes: Sequence[str]) -> str | None:
        """Return the worker of the most specific region that has one."""
        table = {**(self._loader() if self._loader else {}), **self.by_region}
        for code in sorted(region_codes, key=len, reverse=True):
            if code in table:
                return table[code]
        return None


def workers_from_accounts(accounts: AccountService) -> Callable[[], dict[str, str]]:
    """Return a loader: each active grid worker covers their department's region."""

    def load() -> dict[str, str]:
        regions = {d.id: d.region_code for d in accounts.departments()}
        out: dict[str, str] = {}
        for user in sorted(accounts.users(Context.system("operations")), key=lambda u: u.id):
            region = regions.get(user.department_id)
            if region and user.is_active and Role.GRID_WORKER in user.roles:
                out.setdefault(region, user.id)
        return out

    return load
