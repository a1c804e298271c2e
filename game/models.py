"""Stored games: themes, sessions, their turns and turn-submission idempotency keys.

Rows here are written only by ``game.services``; everything else reads them
through ``game.selectors``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Theme(models.Model):
    """One version of a theme pack, stored as the raw data the engine loads."""

    slug = models.SlugField(max_length=64)
    version = models.CharField(max_length=32)
    title = models.CharField(max_length=200, blank=True)
    data = models.JSONField()
    content_hash = models.CharField(max_length=64)
    builtin = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug", "-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "version"], name="theme_unique_slug_version"
            )
        ]
        indexes = [models.Index(fields=["enabled", "slug"])]

    def __str__(self):
        return f"{self.slug} {self.version}"


class GameSession(models.Model):
    """A game: who plays it, which theme version it pinned, and where it stands."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"
        ABANDONED = "abandoned", "Abandoned"

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="games"
    )
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="sessions")
    seed = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    turn_number = models.PositiveIntegerField(default=0)
    state = models.JSONField()
    head_chain_hash = models.CharField(max_length=64)
    ending = models.CharField(max_length=64, blank=True)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forks",
    )
    fork_turn = models.PositiveIntegerField(null=True, blank=True)
    # The language-model voice the game speaks with (game.voices): a profile
    # name from the settings and per-agent overrides; empty for rule-based.
    voice = models.JSONField(default=dict, blank=True)
    # Set when a turn is queued for a worker (game.pending), cleared when a
    # turn commits: while it is set, the next submission must look for an
    # open pending turn; while it is not, none can be open.
    check_pending = models.BooleanField(default=False)
    # Bumped by every write so that a stale writer updates zero rows.
    version = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        permissions = [
            ("intervene", "Can intervene in games as a game master"),
        ]
        indexes = [
            models.Index(fields=["owner", "-updated"]),
            models.Index(fields=["visibility", "status"]),
        ]

    def __str__(self):
        return f"{self.theme.slug} game {self.id} (turn {self.turn_number})"


class Turn(models.Model):
    """One resolved turn: the action taken and the engine's full record of it."""

    session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="turns"
    )
    number = models.PositiveIntegerField()
    action = models.JSONField()
    record = models.JSONField()
    state_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    duration_us = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "number"], name="turn_unique_session_number"
            )
        ]

    def __str__(self):
        return f"turn {self.number} of {self.session_id}"


class IdempotencyKey(models.Model):
    """A client-chosen key for a turn submission, with the response it produced."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200)
    session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    fingerprint = models.CharField(max_length=64)
    turn = models.ForeignKey(
        Turn, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    response_status = models.PositiveSmallIntegerField(default=201)
    response_body = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="idempotency_unique_user_key"
            )
        ]
        indexes = [models.Index(fields=["created"])]

    def __str__(self):
        return f"{self.key} -> {self.session_id}"


class Job(models.Model):
    """A piece of background work: what was asked, how far it got, what it gave.

    Written only by ``game.jobs.services``; the Celery task that runs a job is
    handed its id and claims the row before doing anything.
    """

    class Kind(models.TextChoices):
        SIMULATION = "simulation", "Simulation"
        ABANDON_IDLE = "abandon_idle", "Abandon idle games"
        PURGE_IDEMPOTENCY_KEYS = "purge_idempotency_keys", "Purge idempotency keys"
        FLUSH_TOKENS = "flush_tokens", "Flush expired tokens"
        PRUNE_JOBS = "prune_jobs", "Prune old jobs"
        FAIL_LOST_TURNS = "fail_lost_turns", "Give up lost pending turns"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["kind", "state"]),
            models.Index(fields=["state", "finished"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.id} ({self.state})"


class PendingTurn(models.Model):
    """A submitted turn that a worker is resolving, because models word it.

    At most one is open (queued or running) per game, which is what keeps a
    second submission out meanwhile. Written only by ``game.pending``.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    OPEN = (State.QUEUED, State.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="pending_turns"
    )
    number = models.PositiveIntegerField(help_text="The turn it will become.")
    action = models.JSONField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    agent = models.CharField(
        max_length=32, blank=True, help_text="The agent asking its model now."
    )
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    turn = models.ForeignKey(
        Turn, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(state__in=["queued", "running"]),
                name="pending_turn_one_open_per_session",
            )
        ]
        indexes = [models.Index(fields=["state", "started"])]

    def __str__(self):
        return f"pending turn {self.number} of {self.session_id} ({self.state})"
