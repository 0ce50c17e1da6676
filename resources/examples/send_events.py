"""Send a conversation to the copilot's push endpoint, as a helpdesk integration would.

    python resources/examples/send_events.py CONVERSATION.jsonl [--url http://127.0.0.1:8787] [--token T]
        [--delay 1.0] [--batch]

Reads a conversation event file (docs/conversation-events.md) and posts its events one by one, ``--delay``
seconds apart (or all in one request with ``--batch``), with ``Authorization: Bearer TOKEN``. The token
is ``--token``, else the ``COPILOT_PUSH_TOKEN`` environment variable, else the ``push-token`` file of the
copilot's data folder (``COPILOT_HOME``, else ~/.local/share/copilot as on Linux). Standard library only, so
it runs anywhere a helpdesk's scripts do. Prints the endpoint's answer to each request; stops at the first
refusal (401: wrong token; 400/422: the event named in the answer).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def default_token() -> str:
    if token := os.environ.get("COPILOT_PUSH_TOKEN", ""):
        return token
    home = os.environ.get("COPILOT_HOME") or str(Path.home() / ".local" / "share" / "copilot")
    path = Path(home).expanduser() / "push-token"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        sys.exit(f"no token: pass --token, set COPILOT_PUSH_TOKEN, or start the copilot once to create {path}")


def post(url: str, token: str, body: object) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{url.rstrip('/')}/events",
        data=json.dumps(body).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="a conversation event file (JSONL)")
    parser.add_argument("--url", default="http://127.0.0.1:8787")
    parser.add_argument("--token", default="")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between two events")
    parser.add_argument("--batch", action="store_true", help="send every event in one request")
    args = parser.parse_args()
    token = args.token or default_token()
    lines = Path(args.file).read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    for body in [events] if args.batch else events:
        status, text = post(args.url, token, body)
        print(status, text)
        if status >= 400:
            return 1
        if not args.batch:
            time.sleep(args.delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
