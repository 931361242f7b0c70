"""The peer: a minimal Django site whose logon is django-two-factor-auth's login wizard.

Same Django, same argon2id hasher class (accounts.hashers, m=19 MiB, t=2, p=1),
same database server and same gunicorn settings as the portal, so the benchmark
can set the portal's cost per logon beside a well-known 2FA logon's.
"""
