"""The client's address behind the reverse proxy (accounts/client.py; docs/security.md,
"Reverse proxy"): X-Forwarded-For is believed only from a configured proxy."""

import pytest
from django.test import RequestFactory, override_settings

from accounts.audit import Event, record
from accounts.client import client_address
from accounts.models import AuditEvent

rf = RequestFactory()


def request(remote, forwarded=None, real_ip=None):
    headers = {}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    if real_ip is not None:
        headers["HTTP_X_REAL_IP"] = real_ip
    return rf.get("/", REMOTE_ADDR=remote, **headers)


@override_settings(PORTAL_TRUSTED_PROXIES=[])
def test_without_trusted_proxies_a_forged_header_is_ignored():
    assert client_address(request("198.51.100.7", forwarded="203.0.113.9", real_ip="203.0.113.9")) == "198.51.100.7"


@override_settings(PORTAL_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_stranger_reaching_the_web_directly_cannot_name_another_address():
    assert client_address(request("198.51.100.7", forwarded="203.0.113.9")) == "198.51.100.7"


@override_settings(PORTAL_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_through_the_proxy_the_address_nginx_saw_is_the_client():
    # nginx appends the address it saw: what the client wrote before it stays to the left.
    assert client_address(request("10.1.2.3", forwarded="203.0.113.9, 198.51.100.7")) == "198.51.100.7"
    assert client_address(request("10.1.2.3", forwarded="198.51.100.7, 10.9.9.9")) == "198.51.100.7"
    assert client_address(request("10.1.2.3", real_ip="198.51.100.7")) == "198.51.100.7"


@override_settings(PORTAL_TRUSTED_PROXIES=["127.0.0.1"])
def test_a_garbled_header_from_the_proxy_falls_back_to_what_is_proved():
    assert client_address(request("127.0.0.1", forwarded="not-an-address")) == "127.0.0.1"
    assert client_address(request("127.0.0.1", forwarded="198.51.100.7, bogus, 127.0.0.1")) == "127.0.0.1"
    assert client_address(request("127.0.0.1")) == "127.0.0.1"


@pytest.mark.django_db
@override_settings(PORTAL_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_the_audit_trail_records_the_forwarded_client():
    record(Event.LOGON_FAILURE, request=request("10.1.2.3", forwarded="198.51.100.7"))
    record(Event.LOGON_FAILURE, request=request("198.51.100.8", forwarded="203.0.113.9"))
    assert list(AuditEvent.objects.order_by("id").values_list("source_ip", flat=True)) == [
        "198.51.100.7",
        "198.51.100.8",
    ]
