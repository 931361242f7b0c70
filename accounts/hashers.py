"""argon2id with the parameters OWASP and ASVS 5.0 name: m=19 MiB, t=2, p=1.

Django's own defaults (m=100 MiB, p=8) cost more memory per logon than a
2-core portal serving a whole firm at 10:30 can spare; these parameters are
OWASP's first recommended setting. Hashes with other parameters (or PBKDF2)
still verify and are re-hashed with these on the next successful logon.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
