from django.contrib import admin
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from graph.api import StreamifyGraphQLView
from proxy.api import proxy_view
from proxy.schemas import PlatformDocsView, service_schema
from registration.api import SagaDetailView, SagaRegisterView
from resilience.api import circuit_breaker_stats, health
from webui.views import index

from common.health import health as ready
from common.health import live
from common.metrics.exposition import metrics
from common.urls import handler400, handler403, handler404, handler500

urlpatterns = [
    path("", index, name="index"),
    path("health", health, name="health"),
    path("health/ready", ready, name="health-ready"),
    path("health/live", live, name="health-live"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/circuit-breaker/stats", circuit_breaker_stats, name="circuit-breaker-stats"),
    path("graphql", StreamifyGraphQLView.as_view(), name="graphql"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/<str:service>", service_schema, name="service-schema"),
    path("api/docs", PlatformDocsView.as_view(url_name="schema"), name="docs"),
    path("api/saga/register", SagaRegisterView.as_view(), name="saga-register"),
    path("api/saga/<uuid:saga_id>", SagaDetailView.as_view(), name="saga-detail"),
    re_path(r"^api/(?:auth|videos|stream|billing|analytics)(?:/.*)?$", proxy_view, name="proxy"),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
