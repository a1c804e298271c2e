"""Streams a background job's progress and result to staff at /ws/jobs/<id>/.

Authentication is the site's WebSocket middleware (session cookie or ticket);
this consumer only admits active staff. On joining, a watcher gets the job as
it stands, result included once it has one, so a client that reconnects
misses nothing that matters. The socket is read-only.
"""

from channels.db import database_sync_to_async

from game.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, ReadOnlySocket
from game.errors import NotFound
from game.jobs import selectors
from game.jobs.events import job_group

CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _job_message(kind: str, job_id):
    """The job as it stands, as a message: {"type", "job": id, "state", ...}."""
    try:
        view = selectors.job_view(selectors.job_get(job_id=job_id))
    except NotFound:
        return None
    return {"type": kind, "job": view.pop("id"), **view}


class JobConsumer(ReadOnlySocket):
    group = None
    streams = "a job's progress"

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not (user.is_active and user.is_staff):
            await self.close(code=CLOSE_FORBIDDEN)
            return

        self.job_id = self.scope["url_route"]["kwargs"]["job_id"]
        # Join before reading the row, so that an event sent between the read
        # and the join cannot be lost.
        self.group = job_group(self.job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        hello = await _job_message("hello", self.job_id)
        if hello is None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.close(code=CLOSE_NOT_FOUND)
            return

        await self.admit()
        await self.send_json(hello)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

    async def job_event(self, event):
        message = event["event"]
        if message.get("type") == "finished":
            # The event only says the job ended; the row has the result.
            message = await _job_message("finished", self.job_id) or message
        await self.send_json(message)
