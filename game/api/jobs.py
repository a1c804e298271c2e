"""Background jobs over REST, for game masters: start a simulation, read jobs.

Staff only. A simulation answers 202 at once with the queued job; its
progress and report are read here or streamed from /ws/jobs/<id>/.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.engine import STORYTELLERS
from agents.policies import POLICIES
from game.api.serializers import ErrorResponse, StrictSerializer, WholeNumberField
from game.jobs import selectors, services
from game.models import Job
from game.services import SEED_MAX

ERRORS = {
    400: OpenApiResponse(ErrorResponse, description="Invalid input."),
    401: OpenApiResponse(ErrorResponse, description="Not authenticated."),
    403: OpenApiResponse(ErrorResponse, description="Not a game master."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorResponse, description="No such job.")}


class SimulationInput(StrictSerializer):
    theme = serializers.CharField(max_length=64, help_text="Theme slug.")
    policy = serializers.ChoiceField(choices=POLICIES, default="random")
    games = WholeNumberField(
        min_value=1, max_value=services.SIMULATION_MAX_GAMES, default=200
    )
    seed = WholeNumberField(
        min_value=0, max_value=SEED_MAX, default=1, help_text="The first game's seed."
    )
    storyteller = serializers.ChoiceField(
        choices=STORYTELLERS,
        required=False,
        allow_null=True,
        help_text="Leave out for the theme's own.",
    )


class JobFilterInput(serializers.Serializer):
    """The list's filters; an unknown kind or state is refused, not ignored."""

    kind = serializers.ChoiceField(choices=Job.Kind.choices, required=False)
    state = serializers.ChoiceField(choices=Job.State.choices, required=False)


class ProgressOutput(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class JobOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Job.Kind.choices)
    state = serializers.ChoiceField(choices=Job.State.choices)
    parameters = serializers.DictField()
    progress = ProgressOutput()
    error = serializers.CharField(help_text="Why the job failed, or empty.")
    requested_by = serializers.CharField(allow_null=True)
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    result = serializers.DictField(
        allow_null=True,
        required=False,
        help_text="A simulation's report and balance checks, once it succeeded.",
    )


class SimulationStartView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=SimulationInput,
        responses={202: JobOutput, **ERRORS},
        summary="Queue a batch simulation of one theme by one policy",
        description="Answers at once; follow the job at `/api/v1/jobs/<id>/` "
        "or `/ws/jobs/<id>/`.",
        tags=["jobs"],
    )
    def post(self, request):
        serializer = SimulationInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.simulation_start(
            requested_by=request.user,
            theme_slug=data["theme"],
            policy=data["policy"],
            games=data["games"],
            seed=data["seed"],
            storyteller=data.get("storyteller"),
        )
        # With no broker the job has already run by now; show it as it stands.
        job = selectors.job_get(job_id=job.pk)
        response = Response(selectors.job_view(job), status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v1/jobs/{job.pk}/"
        return response


class JobListView(GenericAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = JobOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=Job.Kind.values),
            OpenApiParameter("state", str, enum=Job.State.values),
        ],
        responses={200: JobOutput(many=True), **ERRORS},
        summary="Background jobs, newest first (without their results)",
        tags=["jobs"],
    )
    def get(self, request):
        # As plain data: from a QueryDict, DRF would take ?state= (blank) as
        # leaving the filter out.
        filters = JobFilterInput(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        jobs = selectors.job_list(
            kind=filters.validated_data.get("kind"),
            state=filters.validated_data.get("state"),
        )
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(
            [selectors.job_view(job, with_result=False) for job in page]
        )


class JobDetailView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={200: JobOutput, **ERRORS, **NOT_FOUND},
        summary="One job: its progress, and its result once finished",
        tags=["jobs"],
    )
    def get(self, request, job_id):
        return Response(selectors.job_view(selectors.job_get(job_id=job_id)))
