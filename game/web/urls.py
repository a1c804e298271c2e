"""URL names of the browser pages; settings refer to login, lobby and landing."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("lobby/", views.lobby, name="lobby"),
    path("games/new/", views.game_create, name="game_create"),
    path("games/<uuid:session_id>/", views.game, name="game"),
    path("games/<uuid:session_id>/screen/", views.game_screen, name="game_screen"),
    path("games/<uuid:session_id>/turn/", views.game_turn, name="game_turn"),
    path("games/<uuid:session_id>/order/", views.game_order, name="game_order"),
    path(
        "games/<uuid:session_id>/order-text/",
        views.game_order_text,
        name="game_order_text",
    ),
    path("games/<uuid:session_id>/replay/", views.game_replay, name="game_replay"),
    path("games/<uuid:session_id>/fork/", views.game_fork, name="game_fork"),
    path("games/<uuid:session_id>/undo/", views.game_undo, name="game_undo"),
    path(
        "games/<uuid:session_id>/visibility/",
        views.game_visibility,
        name="game_visibility",
    ),
]
