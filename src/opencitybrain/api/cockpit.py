"""Serve the built cockpit (web/) as static files, with the single-page fallback."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PACKAGED_BUILD = Path(__file__).with_name("cockpit_dist")

_NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>城市大脑驾驶舱未构建</title><body style="font-family:sans-serif;padding:2em">
<h1>驾驶舱尚未构建 / The cockpit is not built</h1>
<p>请运行 <code>make setup</code>（需要 Node.js 与 npm）。/ Run <code>make setup</code>.</p>
<p>API 仍可使用：<a href="/api/v1/docs">/api/v1/docs</a></p></body></html>"""


def mount_cockpit(app: FastAPI, build_dir: Path | None) -> bool:
    """Serve the cockpit at ``/``; return False (and serve a hint page) if it is not built."""
    folder = build_dir or PACKAGED_BUILD
    if (folder / "index.html").is_file():
        app.mount("/", StaticFiles(directory=folder, html=True), name="cockpit")
        return True

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def not_built() -> str:
        return _NOT_BUILT

    return False
