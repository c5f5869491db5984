"""`make tornet`: the deployment behind an onion on a private Tor network, until Ctrl-C.

Prints the onion address and the SOCKS port, e.g. for
`curl --socks5-hostname 127.0.0.1:PORT http://ADDRESS/` or Chromium with
`--proxy-server=socks5://127.0.0.1:PORT`.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.tornet.network import TornetError
from tests.tornet.stack import running


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # SIGTERM (a closed terminal, `timeout`) stops everything as Ctrl-C does; the tors would
    # exit by themselves anyway (__OwningControllerProcess), gunicorn and HAProxy would not.
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="tornet-") as tmp:
        try:
            with running(Path(tmp)) as stack:
                print(f"onion:      http://{stack.network.onion}/")
                print(f"admin ssh:  {stack.network.hostname('admin-ssh')} (client key needed)")
                print(f"socks port: 127.0.0.1:{stack.network.socks_port}")
                print(f"up in {stack.seconds:.0f} s; steps: {stack.network.timings}")
                print(f"files:      {tmp}  (Ctrl-C stops everything)", flush=True)
                while True:
                    time.sleep(3600)
        except TornetError as error:
            print(f"tornet: error: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
    return 0  # type: ignore[unreachable]  # serving ends only by Ctrl-C (above) or an error


if __name__ == "__main__":
    sys.exit(main())
