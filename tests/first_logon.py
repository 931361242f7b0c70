"""A first-time logon walked by HTTP, as a new person on a freshly installed portal would
(App. C.1 and C.2: "Forgot/Reset your password?" with the e-mailed OTP, a new password, the
logon, SKIP THIS STEP, ACCEPT, the e-mailed OTP, "Logon Success").

Standard library only, so that `make fresh-check` and `make compose-check` can run it with any
python3 against a portal in a container. The codes are read from the demo outbox
(/demo/outbox/, the one-command demo) or from a Mailpit-style API (the compose demo's mail UI).

    python3 -m tests.first_logon http://127.0.0.1:8000 --user B0123401 \
        --email b0123401@abc-securities.example [--mailpit http://127.0.0.1:8025]
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

OTP_BODY = re.compile(r"One Time Password \(OTP\) for CCASS: (\d{8})")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OUTBOX_MAIL = re.compile(r'<article class="mail">.*?<span>([^<]*)</span>.*?<pre>(.*?)</pre>', re.S)
NEW_PASSWORD = "Fresh(Machine)7check"  # meets the HKEX rule (SPEC.md)


class WalkError(AssertionError):
    pass


class Browser:
    """Cookies, CSRF tokens and redirects, like a browser without JavaScript."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.url = ""
        self.page = ""

    def open(self, path: str, data: dict | None = None) -> str:
        url = path if path.startswith("http") else self.base + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers={"Referer": self.url or url})
        try:
            with self.opener.open(request, timeout=30) as response:
                self.url, self.page = response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            raise WalkError(
                f"{'POST' if body else 'GET'} {url}: HTTP {error.code}\n{error.read().decode()[:2000]}"
            ) from error
        return self.page

    def submit(self, fields: dict) -> str:
        """POST the page's form (to the page's own URL, as the portal's forms do)."""
        token = CSRF.search(self.page)
        if not token:
            raise WalkError(f"no form on {self.url}\n{self.page[:2000]}")
        return self.open(self.url, {"csrfmiddlewaretoken": token.group(1), **fields})

    def expect(self, text: str) -> None:
        if text not in html.unescape(self.page):
            raise WalkError(f"expected {text!r} on {self.url}\n{re.sub(r'<[^>]+>', ' ', self.page)[:3000]}")


class Mailbox:
    """The OTP mails to one address, oldest first: from the demo outbox or a Mailpit-style API."""

    def __init__(self, address: str, outbox: str = "", mailpit: str = ""):
        self.address, self.outbox, self.mailpit = address, outbox, mailpit.rstrip("/")

    def _get(self, url: str) -> str:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode()

    def bodies(self) -> list[str]:
        if self.mailpit:
            listing = json.loads(self._get(f"{self.mailpit}/api/v1/messages?limit=500"))["messages"]
            mine = [m for m in listing if any(t["Address"].lower() == self.address for t in m.get("To") or [])]
            bodies = [json.loads(self._get(f"{self.mailpit}/api/v1/message/{m['ID']}"))["Text"] for m in mine]
            return list(reversed(bodies))  # the API lists newest first
        mails = OUTBOX_MAIL.findall(self._get(self.outbox))
        return [html.unescape(body) for to, body in reversed(mails) if self.address in html.unescape(to).lower()]

    def next_code(self, seen: int, timeout: float = 60.0) -> str:
        """The code of the first mail after the `seen` ones already there."""
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.bodies()
            if len(bodies) > seen:
                match = OTP_BODY.search(bodies[seen])
                if not match:
                    raise WalkError(f"not an OTP mail: {bodies[seen]!r}")
                return match.group(1)
            if time.monotonic() > deadline:
                raise WalkError(f"no new OTP mail to {self.address} within {timeout:.0f}s ({seen} before)")
            time.sleep(0.5)


def first_time_logon(base: str, user_id: str, email: str, mailbox: Mailbox, password: str = NEW_PASSWORD) -> None:
    b = Browser(base)
    log = lambda step: print(f"first logon {user_id} @ {base}: {step}", flush=True)  # noqa: E731

    b.open("/reset/")
    seen = len(mailbox.bodies())
    b.submit({"user_id": user_id})
    b.expect("Please Enter Your One Time Password, Or Request A New One")
    b.submit({"otp": mailbox.next_code(seen)})
    b.expect("Reset Password")
    b.submit({"new_password1": password, "new_password2": password})
    b.expect("Password changed successfully")
    log("password set with the e-mailed OTP")

    b.open("/login/")
    b.submit({"user_id": user_id, "password": password})
    b.expect("ForgeRock Authenticator (OATH)")
    b.submit({"action": "skip"})
    b.expect("Warning")
    seen = len(mailbox.bodies())
    b.submit({})
    b.expect("Please Enter Your One Time Password, Or Request A New One")
    b.submit({"otp": mailbox.next_code(seen)})
    b.expect("Logon Success")
    b.expect(user_id)
    log("Logon Success")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--user", default="B0123401")
    parser.add_argument("--email", default="")
    parser.add_argument("--mailpit", default="", help="a Mailpit-style mail UI; else the demo outbox")
    args = parser.parse_args(argv)
    email = (args.email or f"{args.user.lower()}@abc-securities.example").lower()
    mailbox = Mailbox(email, outbox=args.base.rstrip("/") + "/demo/outbox/", mailpit=args.mailpit)
    try:
        first_time_logon(args.base, args.user, email, mailbox)
    except WalkError as error:
        print(f"first logon {args.user} FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
