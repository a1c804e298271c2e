"""Top-level URL map: browser pages, the REST API, admin and probes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("game.api.urls")),
    path("", include("game.ops.urls")),
    path("", include("game.web.urls")),
]
