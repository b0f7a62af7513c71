"""A local SMTP mail sink for development (scripts/mail.sh): accepts every message on a
loopback port and keeps each one as an .eml file in a folder, sending nothing on.

    python scripts/mail_sink.py --port 2525 --dir .data/mail

Open the files with any mail client, or read them as text. Built on aiosmtpd, the
maintained asyncio SMTP server (the standard library's smtpd is gone since Python 3.12).
"""

import argparse
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlFolder:
    """aiosmtpd handler: each message DATA becomes <unix-ns>-<recipient>.eml, written whole."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        first = (envelope.rcpt_tos or ["unknown"])[0]
        safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in first)[:80]
        path = self.folder / f"{time.time_ns()}-{safe}.eml"
        tmp = path.with_suffix(".part")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(path)  # readers never see half a message
        print(f"mail to {', '.join(envelope.rcpt_tos)} -> {path}", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", default=".data/mail")
    args = parser.parse_args()
    controller = Controller(EmlFolder(Path(args.dir)), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink on {args.host}:{args.port}, messages in {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
