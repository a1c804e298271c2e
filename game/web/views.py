"""Browser pages: landing, sign-up, lobby, the game screen and turn submission.

Views parse the request, call a service or selector, and render; game rules
live in the engine and writes in ``game.services``.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.planner import FREE_TEXT_CHARS
from game import selectors, services
from game.errors import GameError, GameOver, NotFound, StaleTurn, TurnPending
from game.models import GameSession
from game.voices import voice_default, voice_profiles
from game.watchers import watchers_count

from .forms import (
    ChoiceForm,
    ForkForm,
    NewGameForm,
    SignupForm,
    TurnForm,
    order_action,
)

CHART_WIDTH = 200
CHART_HEIGHT = 60


@require_GET
def landing(request):
    return render(request, "landing.html")


# Service error details name "password"; the form calls that field password1.
_SIGNUP_FIELDS = {"username": "username", "password": "password1"}


def _attach_errors(form, exc):
    """Show a service's field errors beside the fields they concern."""
    placed = False
    for key, problems in exc.details.items():
        field = _SIGNUP_FIELDS.get(key)
        if field and isinstance(problems, list):
            for problem in problems:
                form.add_error(field, str(problem))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("lobby")

    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except GameError as exc:
            _attach_errors(form, exc)
        else:
            login(request, user, backend="game.accounts.AnyCaseUsernameBackend")
            messages.success(request, f"Welcome, commander {user.get_username()}.")
            return redirect("lobby")

    status = 400 if form.is_bound else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


PUBLIC_GAMES_SHOWN = 20


def _lobby_page(request, form, status=200):
    watchable = selectors.session_list_public().exclude(owner=request.user)
    games = selectors.session_list_for_user(user=request.user)
    record = selectors.session_record_for_user(user=request.user)
    # Filters come from the query string; an unknown value shows everything.
    shown_status = request.GET.get("status", "")
    if shown_status in GameSession.Status.values:
        games = games.filter(status=shown_status)
    else:
        shown_status = ""
    shown_theme = request.GET.get("theme", "")
    if shown_theme in {row["slug"] for row in record}:
        games = games.filter(theme__slug=shown_theme)
    else:
        shown_theme = ""
    context = {
        "form": form,
        "themes": form.themes,
        "games": games,
        "record": record,
        "statuses": GameSession.Status.choices,
        "shown_status": shown_status,
        "shown_theme": shown_theme,
        "public_games": watchable[:PUBLIC_GAMES_SHOWN],
    }
    return render(request, "game/lobby.html", context, status=status)


def _new_game_form(data=None):
    themes = list(selectors.theme_list())
    form = NewGameForm(
        data,
        themes=themes,
        voices=sorted(voice_profiles()),
        default_voice=voice_default(),
    )
    form.themes = themes
    return form


@login_required
@require_GET
def lobby(request):
    return _lobby_page(request, _new_game_form())


@login_required
@require_POST
def game_create(request):
    form = _new_game_form(request.POST)
    if not form.is_valid():
        return _lobby_page(request, form, status=400)

    try:
        session = services.session_create(
            owner=request.user,
            theme_slug=form.cleaned_data["theme"],
            seed=form.cleaned_data["seed"],
            storyteller=form.cleaned_data["storyteller"] or None,
            voice=form.chosen_voice(),
        )
    except GameError as exc:
        form.add_error(None, exc.message)
        return _lobby_page(request, form, status=exc.status)

    return redirect("game", session_id=session.id)


def _session_or_404(request, session_id):
    try:
        return selectors.session_get(user=request.user, session_id=session_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _chart(name, values):
    """An SVG polyline of one series, scaled into the chart box."""
    low, high = min(values), max(values)
    span = (high - low) or 1
    steps = max(len(values) - 1, 1)
    points = " ".join(
        f"{i * CHART_WIDTH // steps},{CHART_HEIGHT - (v - low) * CHART_HEIGHT // span}"
        for i, v in enumerate(values)
    )
    return {
        "name": name,
        "points": points,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "first": values[0],
        "last": values[-1],
        "low": low,
        "high": high,
        "turns": len(values),
    }


def _charts(view, opening, records):
    """One chart per named quantity, from the opening numbers to the last turn."""
    names = {item["id"]: item["name"] for item in view["metrics"]}
    names.update({item["id"]: item["name"] for item in view["stockpiles"]})
    names.update(
        {
            "structures": "Defences (total)",
            "enemy_strength": "Enemy strength",
            "tension": "Tension",
        }
    )
    charts = []
    for key, name in names.items():
        values = [opening.get(key)]
        values += [record.get("metrics", {}).get(key) for record in records]
        if values and all(isinstance(value, int) for value in values):
            charts.append(_chart(name, values))
    return charts


def _trends(session, records) -> dict:
    """Each number's change over the last turn played (empty before the first)."""
    if not records:
        return {}
    latest = records[-1].get("metrics") or {}
    if len(records) > 1:
        before = records[-2].get("metrics") or {}
    else:
        before = selectors.session_opening_snapshot(session)
    return {
        key: value - before[key]
        for key, value in latest.items()
        if isinstance(value, int) and isinstance(before.get(key), int)
    }


def _screen_context(request, session):
    data = selectors.session_view(session)
    view = data["view"]
    records = [turn.record for turn in selectors.turn_list(session=session)]
    context = {
        "session": session,
        "meta": data,
        "view": view,
        "log": records[::-1],
        "is_owner": session.owner_id == request.user.pk,
        "pending": data["pending"],
        "abandoned": session.status == GameSession.Status.ABANDONED,
        "free_text_max": FREE_TEXT_CHARS,
        "trends": _trends(session, records),
    }
    if view.get("ending"):
        opening = selectors.session_opening_snapshot(session)
        context["charts"] = _charts(view, opening, records)
    return context


@login_required
@require_GET
def game(request, session_id):
    session = _session_or_404(request, session_id)
    context = _screen_context(request, session)
    # The page's own socket joins once it loads; until then, who else is here.
    context["watchers"] = watchers_count(session.id)
    return render(request, "game/play.html", context)


@login_required
@require_GET
def game_screen(request, session_id):
    """The swappable part of the game page, fetched by the live-update script."""
    session = _session_or_404(request, session_id)
    return render(request, "game/_screen.html", _screen_context(request, session))


@login_required
@require_POST
def game_turn(request, session_id):
    form = ChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the three options to give an order.")
        return redirect("game", session_id=session_id)

    action = {"type": "choose", "option": form.cleaned_data["option"]}
    return _submit(request, session_id, action, form.cleaned_data["expected_turn"])


@login_required
@require_POST
def game_order(request, session_id):
    """A direct order in place of the scene's options."""
    session = _session_or_404(request, session_id)
    form = TurnForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The order form was incomplete; nothing was done.")
        return redirect("game", session_id=session_id)

    orders = selectors.session_view(session)["view"].get("orders") or []
    function = request.POST.get("function", "")
    try:
        action = order_action(request.POST, orders)
    except ValueError as exc:
        return _order_refused(request, session, function, f"Not given: {exc}")

    return _submit(
        request,
        session_id,
        action,
        form.cleaned_data["expected_turn"],
        on_refused=lambda reason: _order_refused(
            request, session, function, f"Not given: {reason}"
        ),
    )


def _order_refused(request, session, function: str, message: str):
    """The game page again, the refusal beside the order and its values kept."""
    session.refresh_from_db()
    context = _screen_context(request, session)
    context["watchers"] = watchers_count(session.id)
    orders = context["view"].get("orders") or []
    context["order_error"] = {
        "known": any(order["function"] == function for order in orders),
        "function": function,
        "message": message,
        "values": {
            key.removeprefix("arg_"): value
            for key, value in request.POST.items()
            if key.startswith("arg_")
        },
    }
    return render(request, "game/play.html", context, status=400)


@login_required
@require_POST
def game_order_text(request, session_id):
    """Orders in the player's own words, read by the planner."""
    form = TurnForm(request.POST)
    text = request.POST.get("text", "").strip()
    if not form.is_valid() or not text:
        messages.error(request, "Write the orders to give; nothing was done.")
        return redirect("game", session_id=session_id)
    action = {"type": "free_text", "text": text}
    return _submit(request, session_id, action, form.cleaned_data["expected_turn"])


@login_required
@require_POST
def game_visibility(request, session_id):
    """Open a game to spectators, or close it again."""
    visibility = request.POST.get("visibility", "")
    try:
        session = services.session_set_visibility(
            session_id=session_id, user=request.user, visibility=visibility
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GameError as exc:
        messages.error(request, exc.message)
    else:
        if session.visibility == session.Visibility.PUBLIC:
            messages.success(request, "Anyone signed in can now watch this siege.")
        else:
            messages.success(request, "This siege is private again.")
    return redirect("game", session_id=session_id)


def _branch(request, session_id, make, notice):
    """Run a fork-making service and open the new game, or explain the refusal."""
    try:
        session = make()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GameError as exc:
        messages.error(request, f"No new game was started: {exc.message}")
        return redirect("game", session_id=session_id)
    messages.success(request, notice(session))
    return redirect("game", session_id=session.id)


@login_required
@require_POST
def game_fork(request, session_id):
    """Start a new game of one's own from this game as it stood after a turn."""
    form = ForkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a turn of the chronicle to branch from.")
        return redirect("game", session_id=session_id)
    return _branch(
        request,
        session_id,
        lambda: services.session_fork(
            session_id=session_id, user=request.user, at_turn=form.cleaned_data["turn"]
        ),
        lambda session: (
            f"A new branch of the siege starts after turn "
            f"{session.fork_turn}. The original game is unchanged."
        ),
    )


@login_required
@require_POST
def game_undo(request, session_id):
    """Take back the last turn by starting a new game one turn earlier."""
    return _branch(
        request,
        session_id,
        lambda: services.session_undo(session_id=session_id, user=request.user),
        lambda session: (
            f"Turn {session.fork_turn + 1} was taken back: this new "
            f"game resumes at turn {session.fork_turn}. The original game is unchanged."
        ),
    )


def _submit(request, session_id, action, expected_turn, on_refused=None):
    """Play the action and go back to the game, with a notice if it was refused.

    ``on_refused(reason)``, when given, answers a refusal by the Judge or the
    engine instead of the notice.
    """
    try:
        result = services.turn_submit(
            session_id=session_id,
            user=request.user,
            action=action,
            expected_turn=expected_turn,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except TurnPending:
        messages.info(
            request, "Your last orders are still being carried out; wait for them."
        )
    except StaleTurn as exc:
        if exc.current_turn > expected_turn:
            text = (
                f"The siege had already moved on to turn {exc.current_turn}, so "
                "that order was not given. Here is the situation now."
            )
        else:
            text = (
                "That order came from a page that does not match the siege "
                f"(it stands at turn {exc.current_turn}); nothing was done. "
                "Here is the situation now."
            )
        messages.warning(request, text)
    except GameOver:
        messages.info(request, "This siege is over; no more orders can be given.")
    except GameError as exc:
        # The Judge words its reasons for the turn record ("precondition:
        # the stores are empty"); a player only needs the part after the kind.
        reason = exc.message.removeprefix("precondition: ")
        if on_refused is not None:
            return on_refused(reason)
        messages.error(request, f"That order cannot be given now: {reason}")
    else:
        if result.status == 202:
            _pending_notice(request, result.payload["pending"]["id"])

    return redirect("game", session_id=session_id)


def _pending_notice(request, pending_id):
    """Say what became of a turn sent to a worker (it may be done already)."""
    pending = selectors.pending_by_id(pending_id)
    if pending.state == pending.State.FAILED:
        messages.error(request, f"Those orders were not carried out: {pending.error}")
    elif pending.state != pending.State.DONE:
        messages.info(
            request, "Your orders are being carried out; this page follows them."
        )


@login_required
@require_GET
def game_replay(request, session_id):
    """Step through a game turn by turn, each state rebuilt by replaying it.

    Owners may replay their games, and anyone signed in a public one; the
    page never plays anything, so it is the same for everyone.
    """
    session = _session_or_404(request, session_id)
    inspected = selectors.session_inspect(session)
    states, turns = inspected["states"], inspected["turns"]
    last = len(states) - 1
    try:
        number = int(request.GET.get("turn", "0"))
    except ValueError:
        number = 0
    number = min(max(number, 0), last)
    while number > 0 and states[number] is None:
        # Past a turn that no longer replays there is no state to show.
        number -= 1

    records = [turn.record for turn, _ in turns]
    shown = records[:number]
    meta = selectors.session_meta(session)
    context = {
        "session": session,
        "meta": meta,
        "view": selectors.state_view(session, states[number]),
        "number": number,
        "last": last,
        "record": records[number - 1] if number else None,
        "trends": _trends(session, shown),
        "broken": [turn.number for turn, problems in turns if problems],
        "is_owner": session.owner_id == request.user.pk,
    }
    return render(request, "game/replay.html", context)
