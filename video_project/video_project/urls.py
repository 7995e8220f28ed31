from django.urls import include, path

from common.urls import handler400, handler403, handler404, handler500, service_urlpatterns

urlpatterns = [
    *service_urlpatterns,
    path("api/", include("catalog.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
