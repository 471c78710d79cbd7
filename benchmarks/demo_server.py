"""Serve a fresh demo city in its own process.

``python -m benchmarks.demo_server DIR PORT [DB_URL]``.

Prints the operator's password on the first line of stdout once the server is ready, so
the benchmark (another process, like a real client) can sign in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from tests.support import build_demo_city


def main() -> None:
    """Build the demo city in DIR (database DB_URL if given) and serve it on 127.0.0.1:PORT."""
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    city = build_demo_city(data_dir, sys.argv[3] if len(sys.argv) > 3 else None)
    city.platform.freeze_heap = True  # as `citybrain serve` does
    config = uvicorn.Config(
        city.app, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    print(city.password("operator"), flush=True)
    server.run()


if __name__ == "__main__":
    main()
