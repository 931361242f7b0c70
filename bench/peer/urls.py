from django.http import HttpResponse
from django.urls import include, path
from django_otp.decorators import otp_required
from two_factor.urls import urlpatterns as tf_urls


@otp_required
def success(request):
    return HttpResponse(f"<!DOCTYPE html><title>Logged on</title><p>Welcome {request.user.get_username()}</p>")


def ping(request):
    """The cheapest Django page: the whole middleware stack, no template, no database."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("ping/", ping),
    path("", include(tf_urls)),
    path("success/", success, name="success"),
]
