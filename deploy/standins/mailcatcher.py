"""Stand-in for Mailpit in `make compose-check`: SMTP on :1025 keeps every message in memory;
:8025 serves a page listing them and the part of Mailpit's API that tests/first_logon.py reads
(GET /api/v1/messages, newest first; GET /api/v1/message/<ID>)."""

import email
import html
import json
import threading
import uuid
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

MESSAGES: list[dict] = []
LOCK = threading.Lock()


class Keep:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(("plain",))
        with LOCK:
            MESSAGES.insert(
                0,
                {
                    "ID": uuid.uuid4().hex,
                    "From": {"Address": envelope.mail_from},
                    "To": [{"Address": rcpt} for rcpt in envelope.rcpt_tos],
                    "Subject": str(msg["Subject"] or ""),
                    "Text": body.get_content() if body else "",
                },
            )
        return "250 Message accepted for delivery"


class Web(BaseHTTPRequestHandler):
    def _send(self, status, content_type, body: str):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with LOCK:
            messages = list(MESSAGES)
        path = self.path.split("?", 1)[0]
        if path == "/api/v1/messages":
            listing = [{k: m[k] for k in ("ID", "From", "To", "Subject")} for m in messages]
            return self._send(200, "application/json", json.dumps({"total": len(listing), "messages": listing}))
        if path.startswith("/api/v1/message/"):
            found = [m for m in messages if m["ID"] == path.rsplit("/", 1)[1]]
            if found:
                return self._send(200, "application/json", json.dumps(found[0]))
            return self._send(404, "application/json", "{}")
        if path == "/":
            rows = "".join(
                f"<article><h2>{html.escape(m['Subject'])}</h2><p>to {html.escape(', '.join(t['Address'] for t in m['To']))}</p>"
                f"<pre>{html.escape(m['Text'])}</pre></article>"
                for m in messages
            )
            return self._send(
                200,
                "text/html; charset=utf-8",
                f"<!doctype html><title>Mail</title><h1>Mail</h1>{rows or '<p>No mail yet.</p>'}",
            )
        self._send(404, "text/plain", "not found")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Controller(Keep(), hostname="0.0.0.0", port=1025).start()
    print("mail catcher: SMTP on :1025, web on :8025", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8025), Web).serve_forever()
