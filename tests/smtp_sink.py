"""A tiny SMTP server (aiosmtpd) that writes every message it accepts to DIR/NNNNNN.eml.

With ``--delay SECONDS`` it is a slow mail server: once a message's DATA has
arrived it marks DIR/NNNNNN.receiving, waits, then stores the message and only
then answers 250. The fault tests kill a worker while it waits there (a send in
progress) and read the marker to know when. A message whose sender went away
meanwhile is still stored, as a real MTA that got the whole DATA would deliver it.
"""

import argparse
import asyncio
import itertools
from pathlib import Path

from aiosmtpd.controller import Controller

_counter = itertools.count(1)


class SaveToFolder:
    def __init__(self, folder: Path, delay: float = 0.0):
        self.folder = folder
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        n = next(_counter)
        if self.delay:
            marker = self.folder / f"{n:06d}.receiving"
            marker.touch()
            await asyncio.sleep(self.delay)
            marker.unlink(missing_ok=True)
        tmp = self.folder / f".{n:06d}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / f"{n:06d}.eml")  # appears whole or not at all
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before accepting each message")
    args = parser.parse_args()
    controller = Controller(SaveToFolder(Path(args.dir), args.delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
