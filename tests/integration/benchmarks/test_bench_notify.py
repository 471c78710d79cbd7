"""The notifications benchmark runs on tiny sizes and every notification arrives."""

from __future__ import annotations

from benchmarks.__main__ import main
from benchmarks.bench_notify import GROUP
from benchmarks.harness import Harness


def test_notify_benchmark_delivers_every_notification() -> None:
    harness = main(["notify", "--quick"])
    groups = {fig.group for fig in harness.figures}
    assert f"{GROUP} · SQLite" in groups
    for group in groups:
        check(harness, group)


def check(harness: Harness, group: str) -> None:
    """Check one store's figures: all delivered, every figure against its baseline."""
    figures = {fig.name: fig for fig in harness.figures if fig.group == group}
    assert figures["delivered"].value == 100, figures["delivered"].note
    for phase in ("PATCHes", "batches"):
        notified = figures[f"notifications of {phase}, 2 subscriptions"]
        assert notified.value > 0
        assert notified.baseline == "receiver floor: direct POSTs"
        assert harness.get(group, notified.baseline).value > 0
    assert figures["batch update, 2 subscriptions"].value > 0
    assert figures["PATCH, 2 subscriptions"].baseline == "PATCH, no subscription"
    assert figures["update → notification, 2 subscriptions"].value > 0
