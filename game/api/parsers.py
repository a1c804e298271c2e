"""Request body parsers for the API."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _has_lone_surrogate(value) -> bool:
    """Whether a decoded JSON value holds text that is not valid Unicode.

    JSON may spell half of a surrogate pair on its own ("\\ud800"); Python
    decodes it into a string that cannot be encoded again, which would fail
    later, deep in hashing or storage, as a server error.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what would fail later as a server error.

    Python's decoder gives up on very deep nesting with a RecursionError, and
    accepts lone surrogates that no later step can encode; both are refused
    here as malformed bodies.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from exc
        if _has_lone_surrogate(data):
            raise ParseError("JSON parse error - the body holds invalid Unicode text.")
        return data
