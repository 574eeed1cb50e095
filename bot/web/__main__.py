"""Run the portal: python -m bot.web --port 8080."""

from __future__ import annotations

import argparse
import os

from bot.privacy.retention import attach_purge_schedule
from bot.web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", 8080)))
    args = parser.parse_args()
    app = create_app()
    attach_purge_schedule(app)  # retention periods: bot/privacy/retention.py
    app.run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
