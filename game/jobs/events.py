"""Pushes a job's progress and its end to the WebSocket group of that job."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def job_group(job_id) -> str:
    """The channel-layer group every watcher of a job joins."""
    hex_id = job_id.hex if hasattr(job_id, "hex") else str(job_id).replace("-", "")
    return f"job.{hex_id}"


def job_publish(job_id, event: dict) -> None:
    """Send one event to a job's watchers.

    The job row is the record; watchers that miss an event read the row when
    they (re)connect, so a failed send is logged and dropped rather than
    allowed to fail the job.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            job_group(job_id), {"type": "job.event", "event": event}
        )
    except Exception:
        logger.exception("event %s of job %s not sent", event.get("type"), job_id)
