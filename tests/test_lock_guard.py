"""The lock installs on the lowest Python the README admits (issue 14; tests/lock_guard.py)."""

from tests.lock_guard import marker_environment, missing_requirements


def entry(name, version, requires=(), extras=()):
    return {
        "metadata": {"name": name, "version": version, "requires_dist": list(requires)},
        "requested_extras": list(extras),
    }


REDIS = entry(
    "redis", "8.1.0", ['async-timeout>=4.0.3; python_full_version < "3.11.3"', 'hiredis>=3; extra == "hiredis"']
)


def test_a_dependency_needed_only_below_3_11_3_is_missing_from_a_lock_made_on_a_newer_3_11():
    assert missing_requirements([REDIS], marker_environment("3.11.7")) == []
    assert missing_requirements([REDIS], marker_environment("3.11.2")) == [
        'redis needs async-timeout>=4.0.3; python_full_version < "3.11.3" (not in the lock)'
    ]
    assert missing_requirements([REDIS, entry("async-timeout", "5.0.1")], marker_environment("3.11.2")) == []


def test_a_locked_version_outside_the_needed_range_is_reported():
    problems = missing_requirements([REDIS, entry("async-timeout", "4.0.2")], marker_environment("3.11.2"))
    assert problems == ['redis needs async-timeout>=4.0.3; python_full_version < "3.11.3", the lock has 4.0.2']


def test_extras_asked_for_by_a_dependent_count():
    celery = entry("celery", "5.7.0", ['kombu[redis]>=5.7; extra == "redis"'], extras=["redis"])
    kombu = entry("kombu", "5.7.0", ['redis>=4.5.2; extra == "redis"'])
    assert missing_requirements([celery, kombu], marker_environment()) == [
        'kombu needs redis>=4.5.2; extra == "redis" (not in the lock)'
    ]
    assert (
        missing_requirements(
            [entry("celery", "5.7.0", ['kombu[redis]>=5.7; extra == "redis"']), kombu], marker_environment()
        )
        == []
    )
