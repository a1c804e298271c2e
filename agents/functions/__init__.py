"""The safe functions, registered on import; `REGISTRY` maps names to entries."""

from agents.functions import (  # noqa: F401  (importing registers them)
    anomalies,
    combat,
    crafting,
    diplomacy,
    economy,
    environment,
    fates,
    finale,
    hazards,
    morale,
    npcs,
    structures,
    upkeep,
    utility,
)
from agents.functions.context import Ctx
from agents.functions.hazards import HAZARD_ORDER
from agents.functions.registry import REGISTRY, Arg, SafeFunction, arg_problem
from agents.functions.upkeep import UPKEEP_ORDER

__all__ = [
    "HAZARD_ORDER",
    "REGISTRY",
    "UPKEEP_ORDER",
    "Arg",
    "Ctx",
    "SafeFunction",
    "arg_problem",
]
