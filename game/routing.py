"""WebSocket URL map."""

from django.urls import path, re_path

from game.consumers import NoSuchSocket, SessionConsumer
from game.job_consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/sessions/<uuid:session_id>/", SessionConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    # Any other path is refused politely instead of failing the router.
    re_path(r"", NoSuchSocket.as_asgi()),
]
