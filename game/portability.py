"""Moving one game between sites: export to a versioned JSON document, import back.

An export holds everything needed to rebuild a game: the theme version it
pinned (with the content hash), the seed and storyteller, where it stood, and
every turn with its hashes. An import trusts none of it: the document is
checked against a schema and replayed through the engine turn by turn, and
only a game whose every state hash and chain hash comes out the same is
written, as a new game of the importing user.
"""

import json
import logging

import jsonschema
from django.db import transaction
from django.utils import timezone

import agents
from agents.engine import STORYTELLERS
from game import metrics
from game.errors import GameError, NotFound, ThemeUnavailable
from game.models import GameSession, Theme, Turn
from game.selectors import (
    MEASURED_RECORD_FIELDS,
    replay_stored,
    session_by_id,
    session_get,
    session_storyteller,
    turn_list,
)
from game.services import SEED_MAX

logger = logging.getLogger(__name__)

FORMAT = "fortress-director/session"
FORMAT_VERSION = 1

# Bounds on what an import will even look at. A built-in theme ends within a
# few dozen turns; these leave room for long custom themes while keeping a
# hostile document from costing more than a second of replay.
MAX_TURNS = 1000
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_RECORDINGS_BYTES = 256 * 1024
MAX_NESTING = 64
MAX_TIMING_ENTRIES = 64
MAX_DURATION_US = 2**53


class DocumentInvalid(GameError):
    """The document is not a well-formed session export this site can read."""

    status = 400
    code = "invalid_document"
    default_message = "The document is not a valid Fortress Director game export."


class ReplayMismatch(GameError):
    """The document's turns do not replay to the hashes it claims."""

    status = 400
    code = "replay_mismatch"
    default_message = "The document's turns do not replay to their recorded hashes."


class ExportForbidden(GameError):
    status = 403
    code = "permission_denied"
    default_message = "Only the game's owner or staff may export it."


# -- the document ------------------------------------------------------------

_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_UUID = {"type": "string", "pattern": "^[0-9a-fA-F-]{32,36}$"}
_TURN = {
    "type": "object",
    "required": ["number", "action", "record", "state_hash", "chain_hash"],
    "additionalProperties": False,
    "properties": {
        "number": {"type": "integer", "minimum": 1, "maximum": MAX_TURNS},
        "action": {"type": "object"},
        "record": {"type": "object"},
        "state_hash": _HASH,
        "chain_hash": _HASH,
        "duration_us": {"type": "integer", "minimum": 0, "maximum": MAX_DURATION_US},
    },
}
DOCUMENT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "format",
        "version",
        "theme",
        "seed",
        "storyteller",
        "status",
        "ending",
        "visibility",
        "parent",
        "turn",
        "head_chain_hash",
        "turns",
    ],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": FORMAT_VERSION},
        "exported_at": {"type": "string", "maxLength": 64},
        "source": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "id": _UUID,
                "created": {"type": "string", "maxLength": 64},
            },
        },
        "theme": {
            "type": "object",
            "required": ["slug", "version", "content_hash"],
            "additionalProperties": False,
            "properties": {
                "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,64}$"},
                "version": {"type": "string", "minLength": 1, "maxLength": 32},
                "content_hash": _HASH,
            },
        },
        "seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX},
        "storyteller": {"enum": [*STORYTELLERS, None]},
        "status": {"enum": list(GameSession.Status.values)},
        "ending": {"type": ["string", "null"], "maxLength": 64},
        "visibility": {"enum": list(GameSession.Visibility.values)},
        "parent": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["id", "fork_turn"],
                    "additionalProperties": False,
                    "properties": {
                        "id": _UUID,
                        "fork_turn": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": MAX_TURNS,
                        },
                    },
                },
            ]
        },
        "turn": {"type": "integer", "minimum": 0, "maximum": MAX_TURNS},
        "head_chain_hash": _HASH,
        "turns": {"type": "array", "maxItems": MAX_TURNS, "items": _TURN},
    },
}


def _strict_validator():
    # JSON Schema counts 3.0 as an integer; the engine does not, and a seed or
    # turn number that only looks whole must be refused here, not later.
    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: type(value) is int
    )
    return jsonschema.validators.extend(base, type_checker=checker)(DOCUMENT_SCHEMA)


_VALIDATOR = _strict_validator()


_KIND_WORDS = {"null": "null", "object": "an object", "array": "a list"}
MAX_ERROR_CHARS = 160


def _in_words(error) -> str:
    """A schema error as a reader wants it: what was expected, and short.

    A choice of forms names the forms; any other message keeps the
    validator's words but does not repeat a long value back in full.
    """
    if error.validator == "oneOf":
        kinds = [alt.get("type") for alt in error.validator_value]
        if all(isinstance(kind, str) for kind in kinds):
            words = [_KIND_WORDS.get(kind, f"a {kind}") for kind in kinds]
            shape = next(
                (alt for alt in error.validator_value if "required" in alt), None
            )
            fields = f" with {', '.join(shape['required'])}" if shape else ""
            return f"must be {' or '.join(words)}{fields}"
    message = error.message
    value = repr(error.instance)
    if len(value) > 40 and value in message:
        # The reason stays whole; only the value it quotes is cut short.
        message = message.replace(value, f"{value[:30]}…(shortened)", 1)
    if len(message) > MAX_ERROR_CHARS:
        message = f"{message[: MAX_ERROR_CHARS - 20]}… (shortened)"
    return message


def _path(parts) -> str:
    out = "document"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def document_parse(raw: bytes | str, *, max_bytes: int = MAX_DOCUMENT_BYTES):
    """Decode the text of an export; DocumentInvalid if it is not plain JSON."""
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise DocumentInvalid(
            f"The document is larger than the {max_bytes} bytes accepted.",
            details={"max_bytes": max_bytes},
        )
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise DocumentInvalid("The document is nested too deeply.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise DocumentInvalid(f"The document is not valid JSON: {exc}") from exc


def _depth(value, limit: int) -> int:
    """How deeply value nests, counting no further than limit + 1."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > limit:
                return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _check_shape(document) -> None:
    """Everything that can be checked without the theme or the engine."""
    if not isinstance(document, dict):
        raise DocumentInvalid("The document must be a JSON object.")
    if document.get("format") != FORMAT:
        raise DocumentInvalid(
            f'This is not a Fortress Director game export (format is not "{FORMAT}").',
            details={"format": ["Unknown format."]},
        )
    version = document.get("version")
    if version != FORMAT_VERSION or type(version) is not int:
        raise DocumentInvalid(
            f"Export format version {version!r} cannot be read here; "
            f"this site reads version {FORMAT_VERSION}.",
            details={"version": [f"Expected {FORMAT_VERSION}."]},
        )
    if _depth(document, MAX_NESTING) > MAX_NESTING:
        raise DocumentInvalid(f"The document nests deeper than {MAX_NESTING} levels.")

    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        where = _path(error.absolute_path)
        message = _in_words(error)
        raise DocumentInvalid(f"{where}: {message}", details={where: [message]})

    turns = document["turns"]
    for expected, turn in enumerate(turns, start=1):
        if turn["number"] != expected:
            raise DocumentInvalid(
                f"Turns must be numbered 1, 2, 3... in order; turn {expected} "
                f"is missing (found turn {turn['number']}).",
                details={"turns": [f"Turn {expected} is missing."]},
            )
        _check_record_extras(turn["record"], expected)
    if document["turn"] != len(turns):
        raise DocumentInvalid(
            f"The document says the game is at turn {document['turn']} but holds "
            f"{len(turns)} turn(s).",
            details={"turn": ["Does not match the number of turns."]},
        )
    if turns and document["head_chain_hash"] != turns[-1]["chain_hash"]:
        raise DocumentInvalid(
            "head_chain_hash is not the chain hash of the last turn.",
            details={"head_chain_hash": ["Does not match the last turn."]},
        )
    parent = document["parent"]
    if parent is not None and parent["fork_turn"] > len(turns):
        raise DocumentInvalid(
            "parent.fork_turn is past the document's last turn.",
            details={"parent.fork_turn": ["Out of range."]},
        )
    if document["status"] == GameSession.Status.ACTIVE and document["ending"]:
        raise DocumentInvalid(
            "An active game cannot have an ending.",
            details={"ending": ["Must be null while the game is active."]},
        )


def _check_record_extras(record: dict, number: int) -> None:
    """The parts of a record the replay does not recompute must still be sane."""
    timings = record.get("timings_us", {})
    if not isinstance(timings, dict) or len(timings) > MAX_TIMING_ENTRIES:
        raise DocumentInvalid(
            f"Turn {number}: timings_us must be an object of at most "
            f"{MAX_TIMING_ENTRIES} entries.",
            details={f"turns[{number - 1}].record.timings_us": ["Bad shape."]},
        )
    for key, value in timings.items():
        if (
            len(key) > 64
            or type(value) is not int
            or not 0 <= value <= (MAX_DURATION_US)
        ):
            raise DocumentInvalid(
                f"Turn {number}: timings_us.{key[:64]} must be a whole number of "
                "microseconds.",
                details={f"turns[{number - 1}].record.timings_us": ["Bad value."]},
            )
    recordings = record.get("recordings", [])
    if not isinstance(recordings, list):
        raise DocumentInvalid(
            f"Turn {number}: recordings must be a list.",
            details={f"turns[{number - 1}].record.recordings": ["Not a list."]},
        )
    size = len(agents.canonical_json(recordings).encode("utf-8"))
    if size > MAX_RECORDINGS_BYTES:
        raise DocumentInvalid(
            f"Turn {number}: recordings take {size} bytes; at most "
            f"{MAX_RECORDINGS_BYTES} are accepted per turn.",
            details={f"turns[{number - 1}].record.recordings": ["Too large."]},
        )


# -- export ------------------------------------------------------------------


def session_export(*, session_id, user) -> dict:
    """The export document of a game its owner (or a staff member) asks for.

    A game the user may not see is missing (404); a public game of someone
    else may be watched but not exported (403).
    """
    if user is not None and user.is_authenticated and user.is_staff:
        return session_document(session_by_id(session_id))
    session = session_get(user=user, session_id=session_id)
    if session.owner_id != user.pk:
        raise ExportForbidden(details={"session": str(session.pk)})
    return session_document(session)


def session_export_for_operator(*, session_id) -> dict:
    """session_export for operators' tools: any game, with no access check."""
    return session_document(session_by_id(session_id))


def session_document(session: GameSession) -> dict:
    """A game as a version-1 export document (plain JSON-ready data)."""
    turns = [
        {
            "number": turn.number,
            "action": turn.action,
            "record": turn.record,
            "state_hash": turn.state_hash,
            "chain_hash": turn.chain_hash,
            "duration_us": turn.duration_us,
        }
        for turn in turn_list(session=session)
    ]
    parent = None
    if session.parent_id is not None and session.fork_turn is not None:
        parent = {"id": str(session.parent_id), "fork_turn": session.fork_turn}
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "source": {"id": str(session.pk), "created": session.created.isoformat()},
        "theme": {
            "slug": session.theme.slug,
            "version": session.theme.version,
            "content_hash": session.theme.content_hash,
        },
        "seed": session.seed,
        "storyteller": session_storyteller(session),
        "status": session.status,
        "ending": session.ending or None,
        "visibility": session.visibility,
        "parent": parent,
        "turn": session.turn_number,
        "head_chain_hash": session.head_chain_hash,
        "turns": turns,
    }


# -- import ------------------------------------------------------------------


def _pinned_theme(ref: dict) -> Theme:
    theme = Theme.objects.filter(slug=ref["slug"], version=ref["version"]).first()
    if theme is None:
        raise ThemeUnavailable(
            f"Theme {ref['slug']} {ref['version']} is not installed here; a game "
            "can only be imported onto the theme version it was played with.",
            details={"theme": ref},
        )
    if theme.content_hash != ref["content_hash"]:
        raise ThemeUnavailable(
            f"Theme {ref['slug']} {ref['version']} here has different content "
            "from the one the game was played with (content hashes differ).",
            details={"theme": ref, "installed_content_hash": theme.content_hash},
        )
    return theme


def _ending_id(data: dict) -> str:
    ending = data.get("ending")
    if isinstance(ending, dict):
        return str(ending.get("id", ""))
    return ending if isinstance(ending, str) else ""


def _computed(record: dict) -> str:
    # Compared as canonical text, not as Python values, so that true for 1 or
    # 1.0 for 1 in a record counts as the difference it is in JSON.
    return agents.canonical_json(
        {k: v for k, v in record.items() if k not in MEASURED_RECORD_FIELDS}
    )


# The words replay_stored uses for a record that differs from the replay's.
RECORD_DIFFERS = "the stored record (story, effects or rulings) differs"


def _replay(document: dict, theme: Theme):
    """Replay the document's turns; returns the final engine state.

    Raises ReplayMismatch at the first turn whose action cannot be played or
    whose hashes or record differ from what the engine computes.
    """
    storyteller = document["storyteller"]
    # replay_stored reads the theme, seed and storyteller off a session; this
    # one is never saved and stands in for the game being imported.
    probe = GameSession(
        theme=theme,
        seed=document["seed"],
        state={"director": {"profile": storyteller}} if storyteller else {},
    )
    turns = [
        Turn(
            number=item["number"],
            action=item["action"],
            record=item["record"],
            state_hash=item["state_hash"],
            chain_hash=item["chain_hash"],
        )
        for item in document["turns"]
    ]
    try:
        opening, replayed = replay_stored(probe, turns)
    except (agents.ActionError, ValueError, KeyError, TypeError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise ReplayMismatch(
            f"The game's opening cannot be rebuilt: {message}",
            details={"first_bad_turn": 0, "problems": [message]},
        ) from exc

    for item in replayed:
        problems = list(item.problems)
        if (
            item.outcome is not None
            and _computed(item.turn.record) != _computed(item.outcome.record)
            and RECORD_DIFFERS not in problems
        ):
            problems.append(RECORD_DIFFERS)
        if problems:
            raise ReplayMismatch(
                f"Turn {item.number} does not replay: {problems[0]}. "
                "Nothing was imported.",
                details={"first_bad_turn": item.number, "problems": problems},
            )

    if not turns and document["head_chain_hash"] != opening.hash:
        raise ReplayMismatch(
            "head_chain_hash is not the hash of the game's opening state. "
            "Nothing was imported.",
            details={"first_bad_turn": 0, "problems": ["opening hash differs"]},
        )
    return replayed[-1].outcome.state if replayed else opening


def _check_outcome(document: dict, data: dict) -> None:
    """The document's status and ending must be what the replay arrived at."""
    ended = data.get("status", "active") != "active"
    status = document["status"]
    if ended and status != GameSession.Status.ENDED:
        raise ReplayMismatch(
            f'The game ends at its last turn, but the document says "{status}".',
            details={"status": [f"Expected {GameSession.Status.ENDED}."]},
        )
    if not ended and status == GameSession.Status.ENDED:
        raise ReplayMismatch(
            "The document says the game ended, but its turns do not end it.",
            details={"status": ["The replayed game is still going."]},
        )
    ending = _ending_id(data)
    if (document["ending"] or "") != ending:
        raise ReplayMismatch(
            f"The document's ending {document['ending']!r} is not the one its "
            f"turns reach ({ending or None!r}).",
            details={"ending": [f"Expected {ending or None!r}."]},
        )


def _linked_parent(document: dict, owner, theme: Theme):
    """The game this one was forked from, when it is here and the owner may see it.

    A fork's parent id means something only on the site it came from; the
    link is kept only if a visible game with that id shares this game's theme
    version, seed, storyteller and chain up to the fork turn.
    """
    ref = document["parent"]
    if ref is None:
        return None, None
    try:
        parent = session_get(user=owner, session_id=ref["id"])
    except NotFound:
        return None, None
    at = ref["fork_turn"]
    if (
        parent.theme_id != theme.pk
        or parent.seed != document["seed"]
        or session_storyteller(parent) != document["storyteller"]
        or parent.turn_number < at
    ):
        return None, None
    if at > 0:
        theirs = (
            turn_list(session=parent)
            .filter(number=at)
            .values_list("chain_hash", flat=True)
            .first()
        )
        if theirs != document["turns"][at - 1]["chain_hash"]:
            return None, None
    return parent, at


def session_import(*, owner, document) -> GameSession:
    """Check and replay an export document, then store it as a new game of owner.

    Everything is checked before anything is written: the document's shape,
    the theme version (slug, version and content hash must match a stored
    theme), and every turn's action, record, state hash and chain hash against
    a replay through the engine. The new game gets its own id and continues
    from where the document's game stood.
    """
    _check_shape(document)
    theme = _pinned_theme(document["theme"])
    limit = theme.data.get("turn_limit")
    if isinstance(limit, int) and len(document["turns"]) > limit:
        raise DocumentInvalid(
            f"The document holds {len(document['turns'])} turns; theme "
            f"{theme.slug} {theme.version} ends by turn {limit}.",
            details={"turns": [f"At most {limit} turns."]},
        )
    final = _replay(document, theme)
    data = final.data
    _check_outcome(document, data)

    turns = document["turns"]
    head = turns[-1]["chain_hash"] if turns else final.hash
    with transaction.atomic():
        parent, fork_turn = _linked_parent(document, owner, theme)
        session = GameSession.objects.create(
            owner=owner,
            theme=theme,
            seed=document["seed"],
            state=data,
            turn_number=len(turns),
            head_chain_hash=head,
            status=document["status"],
            ending=_ending_id(data),
            visibility=document["visibility"],
            parent=parent,
            fork_turn=fork_turn,
        )
        Turn.objects.bulk_create(
            Turn(
                session=session,
                number=item["number"],
                action=item["action"],
                record=item["record"],
                state_hash=item["state_hash"],
                chain_hash=item["chain_hash"],
                duration_us=item.get("duration_us", 0),
            )
            for item in turns
        )
    metrics.SESSIONS_CREATED.inc()
    source = (document.get("source") or {}).get("id", "-")
    logger.info(
        "session %s imported for %s from export of %s (%s turns)",
        session.pk,
        owner.pk,
        source,
        len(turns),
    )
    return GameSession.objects.select_related("theme", "owner").get(pk=session.pk)
