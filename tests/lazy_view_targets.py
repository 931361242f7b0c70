"""Views for tests/test_web_worker.py's LazyView tests: a decorated function view, a class-based and an async one."""

from django.http import HttpResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def exempt(request, value=""):
    return HttpResponse(f"exempt {value}")


class_based = View.as_view()


async def asynchronous(request):
    return HttpResponse("async")
