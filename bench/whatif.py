"""CPU per logon other than hashing, in one process, for the portal as it is and with the
changes docs/benchmarks.md recommends (bench/whatif_settings.py). Needs a seeded database:

    python -m bench.whatif SEED.json --offset I [--logons K]   (env: the portal's, REDIS_URL set)

Each variant runs in its own process: K complete logons through django.test.Client (one
client, cookies cleared per logon), CPU time (process_time) less K argon2id verifies
timed in the same process just before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ["", "no_health_checks", "quiet_logs", "cache_sessions", "cache_sessions,no_health_checks,quiet_logs"]


def one(seed_path: str, offset: int, k: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth.hashers import get_hasher

    from bench import inproc
    from bench.inproc import _client, portal_logon

    inproc.CAPTURE = False

    seed = json.loads(Path(seed_path).read_text())
    people = seed["users"][offset : offset + k + 2]
    hasher = get_hasher()
    encoded = hasher.encode(seed["password"], hasher.salt())
    for person in people[:2]:
        portal_logon(_client(), person, seed["password"])  # warm
    cpu = time.process_time()
    for _ in range(10):
        hasher.verify(seed["password"], encoded)
    verify = (time.process_time() - cpu) / 10
    cpu = time.process_time()
    for person in people[2:]:
        portal_logon(_client(), person, seed["password"])
    per_logon = (time.process_time() - cpu) / k
    return {"cpu_ms": per_logon * 1000, "verify_ms": verify * 1000, "non_hash_ms": (per_logon - verify) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seed")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--logons", type=int, default=30)
    parser.add_argument("--variant", default=None)
    parser.add_argument("--variants", default="|".join(VARIANTS), help="'|'-separated; '' is the portal as it is")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, variants interleaved; the least CPU is kept")
    args = parser.parse_args()
    if args.variant is not None:
        print(json.dumps(one(args.seed, args.offset, args.logons)))
        return
    results: dict[str, dict] = {}
    offset = args.offset
    for _ in range(args.repeat):
        for variant in args.variants.split("|"):
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.whatif_settings", "BENCH_WHATIF": variant}
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.whatif",
                    args.seed,
                    "--offset",
                    str(offset),
                    "--logons",
                    str(args.logons),
                    "--variant",
                    variant,
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            offset += args.logons + 2
            got = json.loads(done.stdout.strip().splitlines()[-1])
            name = variant or "as is"
            if name not in results or got["non_hash_ms"] < results[name]["non_hash_ms"]:
                results[name] = got
            print(f"{name:45s} {got}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
