"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fortress_site.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from game.routing import websocket_urlpatterns  # noqa: E402
from game.ws_auth import (  # noqa: E402
    SiteOriginValidator,
    TicketOrSessionAuthMiddleware,
)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SiteOriginValidator(
            TicketOrSessionAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything loaded so far lives as long as the process. The URL map (and
# with it every view module) is loaded now rather than on the first request,
# then all of it is moved out of the cyclic garbage collector's sight, so
# that its full collections stop walking these objects again and again.
get_resolver().url_patterns  # noqa: B018
gc.freeze()
