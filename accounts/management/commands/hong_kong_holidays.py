"""`manage.py hong_kong_holidays`: write accounts/hong_kong_holidays.py, the table of Hong Kong public
holidays a web worker reads, from the `holidays` package (the source of truth; docs/decisions.md,
"Hong Kong public holidays: a committed table"). Run it after upgrading `holidays` or to cover more
years; tests/accounts/test_hong_kong_holidays.py fails while the table differs from `holidays`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

import accounts
from accounts.service_hours import holidays_of

TABLE = Path(accounts.__file__).resolve().parent / "hong_kong_holidays.py"
FIRST_YEAR = 2020  # before the portal's launch (2023): the demo clock may go back a little
LAST_YEAR = 2050


def render(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> str:
    from importlib.metadata import version

    years = "\n".join(
        f'    {year}: "{" ".join(day.strftime("%m%d") for day in holidays_of(year))}",'
        for year in range(first, last + 1)
    )
    return f'''"""Hong Kong public holidays {first}-{last}, as `holidays` {version("holidays")} lists them (categories
"public" and "optional"), for accounts/service_hours.py: a web worker reads this table instead of
loading `holidays` (3.6 MiB). Written by `manage.py hong_kong_holidays`; do not edit by hand."""

FIRST_YEAR = {first}
LAST_YEAR = {last}
# Each year's holidays as MMDD.
DAYS = {{
{years}
}}
'''


class Command(BaseCommand):
    help = "Write accounts/hong_kong_holidays.py from the holidays package."

    def add_arguments(self, parser):
        parser.add_argument("--first", type=int, default=FIRST_YEAR)
        parser.add_argument("--last", type=int, default=LAST_YEAR)

    def handle(self, *args, first: int, last: int, **options):
        TABLE.write_text(render(first, last))
        self.stdout.write(f"{TABLE}: Hong Kong public holidays {first}-{last}")
