"""Request body parsers for the API."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested too deeply to decode.

    Python's decoder gives up on very deep nesting with a RecursionError,
    which would otherwise escape as a server error.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from exc
