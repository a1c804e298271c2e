"""How many sockets watch each game, kept in the cache for every server to share.

The count rises as a watcher joins and falls as one leaves. A server that
dies cannot lower it for its own watchers, so each count also lapses a few
hours after it last changed; the figure is a guide for people, not a
measure anything depends on.
"""

from django.core.cache import cache

WATCHERS_SECONDS = 6 * 3600


def _key(session_id) -> str:
    return f"watchers:{session_id}"


def watchers_join(session_id) -> int:
    """Count one more watcher; the new count."""
    key = _key(session_id)
    cache.add(key, 0, timeout=WATCHERS_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        # Lapsed between the add and the incr.
        cache.set(key, 1, timeout=WATCHERS_SECONDS)
        count = 1
    cache.touch(key, timeout=WATCHERS_SECONDS)
    return count


def watchers_leave(session_id) -> int:
    """Count one watcher fewer (never below zero); the new count."""
    key = _key(session_id)
    try:
        count = cache.decr(key)
    except ValueError:
        return 0
    if count < 0:
        cache.set(key, 0, timeout=WATCHERS_SECONDS)
        return 0
    cache.touch(key, timeout=WATCHERS_SECONDS)
    return count


def watchers_count(session_id) -> int:
    return max(int(cache.get(_key(session_id)) or 0), 0)
