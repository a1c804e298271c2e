"""URL map of the REST API, mounted under /api/v1/."""

from django.urls import path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from game.api import views
from game.api.auth import RefreshView, SignInView, SignOutView, VerifyView
from game.api.catalogue import FunctionListView
from game.api.jobs import JobDetailView, JobListView, SimulationStartView
from game.api.portability import SessionExportView, SessionImportView

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="api-register"),
    path("auth/token/", SignInView.as_view(), name="api-token"),
    path("auth/token/refresh/", RefreshView.as_view(), name="api-token-refresh"),
    path("auth/logout/", SignOutView.as_view(), name="api-logout"),
    path("auth/token/verify/", VerifyView.as_view(), name="api-token-verify"),
    path("auth/me/", views.MeView.as_view(), name="api-me"),
    path("themes/", views.ThemeListView.as_view(), name="api-themes"),
    path("sessions/", views.SessionListView.as_view(), name="api-sessions"),
    path(
        "sessions/<uuid:session_id>/",
        views.SessionDetailView.as_view(),
        name="api-session",
    ),
    path(
        "sessions/<uuid:session_id>/turns/",
        views.TurnListView.as_view(),
        name="api-turns",
    ),
    path(
        "sessions/<uuid:session_id>/turns/<int:number>/",
        views.TurnDetailView.as_view(),
        name="api-turn",
    ),
    path(
        "sessions/<uuid:session_id>/pending/<uuid:pending_id>/",
        views.PendingTurnView.as_view(),
        name="api-pending-turn",
    ),
    path(
        "sessions/<uuid:session_id>/fork/",
        views.SessionForkView.as_view(),
        name="api-session-fork",
    ),
    path(
        "sessions/<uuid:session_id>/undo/",
        views.SessionUndoView.as_view(),
        name="api-session-undo",
    ),
    path(
        "sessions/<uuid:session_id>/verify/",
        views.SessionVerifyView.as_view(),
        name="api-session-verify",
    ),
    path(
        "sessions/<uuid:session_id>/export/",
        SessionExportView.as_view(),
        name="api-session-export",
    ),
    path("sessions/import/", SessionImportView.as_view(), name="api-session-import"),
    path("functions/", FunctionListView.as_view(), name="api-functions"),
    path("simulations/", SimulationStartView.as_view(), name="api-simulations"),
    path("jobs/", JobListView.as_view(), name="api-jobs"),
    path("jobs/<uuid:job_id>/", JobDetailView.as_view(), name="api-job"),
    path("ws-tickets/", views.WsTicketView.as_view(), name="api-ws-tickets"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path(
        "redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"
    ),
    # Last, so that a mistyped API path gets a JSON 404, not an HTML page;
    # [\s\S], not ".", so that a path with an (encoded) line break is caught
    # too, and not the (?s) flag, which Django cannot reverse.
    re_path(r"^[\s\S]*$", views.UnknownEndpointView.as_view(), name="api-unknown"),
]
