"""A tiny SMTP server (aiosmtpd) that writes every message it accepts to DIR/NNNN.eml."""

import argparse
import asyncio
import itertools
from pathlib import Path

from aiosmtpd.controller import Controller

_counter = itertools.count(1)


class SaveToFolder:
    def __init__(self, folder: Path):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        n = next(_counter)
        tmp = self.folder / f".{n:06d}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / f"{n:06d}.eml")  # appears whole or not at all
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    controller = Controller(SaveToFolder(Path(args.dir)), hostname="127.0.0.1", port=args.port)
    controller.start()
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
