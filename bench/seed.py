"""Create the benchmark's people, and time the password hasher.

Run with the site's settings (DJANGO_SETTINGS_MODULE and DATABASE_URL set):

    python -m bench.seed portal OUT.json --users N --email-users M
    python -m bench.seed peer OUT.json --users N
    python -m bench.seed hashtime OUT.json [--rounds R] [--parallel P]

Every person has the same password, hashed once with the configured hasher
(argon2id m=19 MiB, t=2, p=1) and the hash copied: verifying it costs what
verifying any hash with these parameters costs, and seeding stays fast.
The output lists each User ID with the base32 TOTP secret its "phone" (pyotp) uses.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from base64 import b32encode
from binascii import unhexlify

import django

PASSWORD = "Correct(Horse)9battery"  # meets the HKEX password rule
BIG_FIRM = "Q00001"  # the 10,000-profile firm of the User Profile Listing
SMALL_FIRM = "Q00002"  # the same listing with 100 profiles: the query count must not change


def _setup() -> None:
    django.setup()


def _one_hash() -> str:
    from django.contrib.auth.hashers import get_hasher

    return get_hasher().encode(PASSWORD, get_hasher().salt())


# -- the portal -----------------------------------------------------------------------


def seed_portal(users: int, email_users: int, listing_profiles: int) -> dict:
    from django.db import transaction

    from accounts import user_ids
    from accounts.models import OtpChannel, Participant, Role, User
    from ccass_portal import clock
    from otp.models import AuthenticatorDevice

    encoded = _one_hash()
    now = clock.now()
    per_firm = len(user_ids.USER_SUFFIXES)

    def person(participant, user_id, *, role=Role.USER, channel=OtpChannel.APP, password=True):
        return User(
            user_id=user_id,
            participant=participant,
            role=role,
            surname="BENCH",
            other_names="USER",
            email=f"{user_id.lower()}@bench.example",
            password=encoded if password else "!",
            password_changed_at=now if password else None,
            otp_channel=channel if password else "",
            twofa_set_up_at=now if password else None,
        )

    def with_app(people) -> list[dict]:
        out = []
        for user in people:
            device = AuthenticatorDevice.new_for(user)
            device.confirmed = True
            device.save()
            out.append({"user_id": user.user_id, "key": device.base32_key})
        return out

    def firm(participant_id: str, name: str, max_users: int) -> Participant:
        return Participant.objects.create(
            participant_id=participant_id, name=name, clearing_house="HKSCC", max_users=max_users
        )

    # App users (the logons), e-mail users, the lockout target: B00001, B00002, ... (1,268 User IDs a firm).
    total = users + email_users + 1
    people = []
    for n in range(total):
        f, i = divmod(n, per_firm)
        if i == 0:
            participant = firm(f"B{f + 1:05d}", f"BENCH SECURITIES {f + 1}", per_firm + 9)
        people.append(person(participant, participant.participant_id + user_ids.USER_SUFFIXES[i]))
    for user in people[users : users + email_users]:
        user.otp_channel = OtpChannel.EMAIL
    with transaction.atomic():
        User.objects.bulk_create(people)
        app_people = with_app(people[:users])
        lockout = with_app(people[-1:])[0]

    # Two firms for the User Profile Listing. A real firm holds at most 1,268 User IDs
    # (6-character prefix + 2), so the 10,000 profiles have synthetic 8-character IDs;
    # the listing selects by participant, never by ID shape.
    listing = {}
    with transaction.atomic():
        for participant_id, count, letter in ((BIG_FIRM, listing_profiles, "Z"), (SMALL_FIRM, 100, "Y")):
            participant = firm(participant_id, f"LISTING FIRM {count}", count + 10)
            das = [
                person(participant, participant_id + "X1", role=Role.DA_MAKER),
                person(participant, participant_id + "X2", role=Role.DA_MAKER),
                person(participant, participant_id + "Y1", role=Role.DA_CHECKER),
            ]
            profiles = [person(participant, f"{letter}{n:07d}", password=False) for n in range(count - len(das))]
            User.objects.bulk_create(das + profiles, batch_size=2000)
            listing[participant_id] = {"profiles": count, "das": with_app(das)}
    return {
        "password": PASSWORD,
        "users": app_people,
        "email_users": [{"user_id": u.user_id, "email": u.email} for u in people[users : users + email_users]],
        "lockout_user": lockout,
        "listing": listing,
    }


# -- the peer -------------------------------------------------------------------------


def seed_peer(users: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp.util import random_hex

    User = get_user_model()
    encoded = _one_hash()
    people = [User(username=f"user{n:05d}", password=encoded) for n in range(users)]
    out = []
    with transaction.atomic():
        User.objects.bulk_create(people)
        devices = []
        for user in User.objects.order_by("id"):
            key = random_hex(20)
            devices.append(TOTPDevice(user=user, name="default", confirmed=True, key=key))
            out.append({"user_id": user.username, "key": b32encode(unhexlify(key)).decode()})
        TOTPDevice.objects.bulk_create(devices)
    return {"password": PASSWORD, "users": out}


# -- the hasher -----------------------------------------------------------------------


def _time_verifies(args) -> tuple[float, float, int]:
    encoded, rounds = args
    _setup()
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    hasher.verify(PASSWORD, encoded)  # warm
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        assert hasher.verify(PASSWORD, encoded)
    return time.perf_counter() - wall, time.process_time() - cpu, rounds


def hashtime(rounds: int, parallel: int) -> dict:
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    encoded = _one_hash()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        hasher.encode(PASSWORD, hasher.salt())
    encode_wall, encode_cpu = time.perf_counter() - wall, time.process_time() - cpu
    alone = _time_verifies((encoded, rounds))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(parallel) as pool:
        together = pool.map(_time_verifies, [(encoded, rounds)] * parallel)
    return {
        "algorithm": hasher.algorithm,
        "params": {
            "memory_cost_kib": hasher.memory_cost,
            "time_cost": hasher.time_cost,
            "parallelism": hasher.parallelism,
        },
        "rounds": rounds,
        "encode_ms": 1000 * encode_wall / rounds,
        "encode_cpu_ms": 1000 * encode_cpu / rounds,
        "verify_ms": 1000 * alone[0] / rounds,
        "verify_cpu_ms": 1000 * alone[1] / rounds,
        "parallel": parallel,
        "verify_cpu_ms_parallel": 1000 * sum(r[1] for r in together) / sum(r[2] for r in together),
        "verify_ms_parallel": 1000 * sum(r[0] for r in together) / sum(r[2] for r in together),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["portal", "peer", "hashtime"])
    parser.add_argument("out")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--email-users", type=int, default=40)
    parser.add_argument("--listing-profiles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    _setup()
    started = time.perf_counter()
    if args.what == "portal":
        result = seed_portal(args.users, args.email_users, args.listing_profiles)
    elif args.what == "peer":
        result = seed_peer(args.users)
    else:
        result = hashtime(args.rounds, args.parallel)
    result["seconds"] = time.perf_counter() - started
    with open(args.out, "w") as f:
        json.dump(result, f)
    print(f"bench.seed {args.what}: {result['seconds']:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccass_portal.settings")
    main()
