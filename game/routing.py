"""WebSocket URL map."""

from django.urls import path, re_path

from game.consumers import NoSuchSocket, SessionConsumer

websocket_urlpatterns = [
    path("ws/sessions/<uuid:session_id>/", SessionConsumer.as_asgi()),
    # Any other path is refused politely instead of failing the router.
    re_path(r"", NoSuchSocket.as_asgi()),
]
