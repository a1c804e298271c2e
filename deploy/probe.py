"""Container health check: GET a probe path on the local server, exit 0 on 200.

Used by the image's HEALTHCHECK and the compose file. A plain request to
127.0.0.1 would be refused by Django's host check in production, so the
request names the first host the site accepts (DJANGO_ALLOWED_HOSTS), and says
it came through the TLS proxy so that an HTTPS redirect cannot answer first.
Standard library only: it runs before anything else in the image is trusted.
"""

import http.client
import os
import sys

DEFAULT_PORT = 8000
TIMEOUT_SECONDS = 4


def probe_host(allowed_hosts: str) -> str:
    """The first concrete name in a DJANGO_ALLOWED_HOSTS value."""
    for entry in allowed_hosts.split(","):
        name = entry.strip()
        if not name or name == "*":
            continue
        # ".example.com" allows the domain and its subdomains.
        return name.lstrip(".")
    return "localhost"


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    port = int(argv[2]) if len(argv) > 2 else DEFAULT_PORT
    host = probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request(
            "GET", path, headers={"Host": host, "X-Forwarded-Proto": "https"}
        )
        status = connection.getresponse().status
    except OSError as exc:
        print(f"{path}: no answer ({exc})", file=sys.stderr)
        return 1
    finally:
        connection.close()

    if status != 200:
        print(f"{path}: HTTP {status} (Host: {host})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
