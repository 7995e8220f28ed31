"""The middleware only Django's admin needs, run only for the admin.

Every other route is a JSON API authenticated by tokens: sessions, CSRF cookies, the messages
framework and `request.user` from a session would be work on every request for nothing.
"""

from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

ADMIN_PREFIX = "/admin"
ADMIN_STACK = (
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


class AdminMiddleware:
    """Send /admin/ requests through `ADMIN_STACK` (with its view hooks: CSRF), others past it."""

    def __init__(self, get_response):
        self.get_response = get_response
        handler = get_response
        self.view_hooks = []
        for path in reversed(ADMIN_STACK):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self.view_hooks.insert(0, middleware.process_view)
            handler = convert_exception_to_response(middleware)
        self.admin_handler = handler

    def __call__(self, request):
        if is_admin(request):
            return self.admin_handler(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not is_admin(request):
            return None
        for hook in self.view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None


def is_admin(request) -> bool:
    path = request.path_info
    return path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/")
