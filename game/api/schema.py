"""The error responses any operation can give, documented in one place.

A drf-spectacular postprocessing hook: after each view has documented its
own answers, every operation also gets the errors that come from the
framework rather than from the view, in the API's one error shape, unless
the view already documents that status:

- 400 where it takes a request body or query parameters: a body that is not
  valid JSON or form data, or a field or parameter that is not valid;
- 415 where it takes a request body: one in a media type it does not parse;
- 401 where it reads credentials: a missing, expired or forged token;
- 429 everywhere: every operation is throttled.
"""

from copy import deepcopy

ERROR_RESPONSE = {"$ref": "#/components/schemas/ErrorResponse"}
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def _error(description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": ERROR_RESPONSE}},
        **extra,
    }


MALFORMED = _error("A malformed body, or a field or parameter that is not valid.")
UNSUPPORTED = _error("The body is in a media type this operation does not accept.")
UNAUTHENTICATED = _error("No credentials, or a token that is expired or not valid.")
THROTTLED = _error(
    "Too many requests; wait the seconds given in details.retry_after.",
    headers={
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer"},
        }
    },
)


def _reads_credentials(operation: dict) -> bool:
    # drf-spectacular lists a security requirement for every authentication
    # class the view has; a view without any has none (or only {}).
    return any(requirement for requirement in operation.get("security", []))


def _has_query(operation: dict) -> bool:
    return any(p.get("in") == "query" for p in operation.get("parameters", []))


def document_common_errors(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            common = {"429": THROTTLED}
            if "requestBody" in operation or _has_query(operation):
                common["400"] = MALFORMED
            if "requestBody" in operation:
                common["415"] = UNSUPPORTED
            if _reads_credentials(operation):
                common["401"] = UNAUTHENTICATED
            for status, response in common.items():
                # A copy each, so that no renderer writes them as aliases.
                responses.setdefault(status, deepcopy(response))
    return result
