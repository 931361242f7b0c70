"""`make bench`: the logon benchmark of issue 7 (see docs/benchmarks.md)."""
