"""Pagination for the API's lists: limit and offset, refused when malformed."""

from rest_framework import exceptions, pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit and offset, with a 400 for a value that is not a number.

    DRF itself quietly falls back to the first page of the default size for
    `limit=ten` or `offset=-1`; like the input serializers' refusal of an
    unknown field, a mistyped page is a clear error here instead.
    """

    def get_limit(self, request):
        limit = self._number(request, self.limit_query_param, minimum=1)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit) if self.max_limit else limit

    def get_offset(self, request):
        offset = self._number(request, self.offset_query_param, minimum=0)
        return 0 if offset is None else offset

    @staticmethod
    def _number(request, name, *, minimum):
        values = request.query_params.getlist(name)
        if not values:
            return None
        value = values[0]
        if len(values) > 1 or not (value.isascii() and value.isdigit()):
            raise exceptions.ValidationError(
                {name: [f"Give it once, as a whole number from {minimum}."]}
            )
        number = int(value)
        if number < minimum:
            raise exceptions.ValidationError(
                {name: [f"Ensure this value is at least {minimum}."]}
            )
        return number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        minimum = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimum[parameter["name"]]
        return parameters
