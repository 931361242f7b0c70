"""Run a function from N threads at once, each with its own database connection."""

import threading

from django.db import close_old_connections, connection


def run_concurrently(n: int, target) -> list:
    barrier = threading.Barrier(n)
    results = []

    def run():
        close_old_connections()
        barrier.wait()
        try:
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
