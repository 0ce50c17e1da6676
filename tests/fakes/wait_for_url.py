"""`python -m tests.fakes.wait_for_url URL [SECONDS]`: wait until a server answers (for `make test-llm`)."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request


def main() -> int:
    url, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 180
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return 0
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    print(f"{url} did not answer within {seconds:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
