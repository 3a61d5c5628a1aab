"""The anytime search algorithms and measurements as pure, seedable logic (numpy only).

Algorithms return decisions as data (:mod:`.decisions`); the Ray engine carries them out.
Nothing here imports Ray, MLflow or FastAPI. See ``docs/internals.md`` ("search").
"""

from dynas_service.search.decisions import (
    Clone,
    ConfigurationSearch,
    Continue,
    EpochDecision,
    Fresh,
    IndividualResult,
    SlotDecision,
    Suggestion,
    TrialMonitor,
)
from dynas_service.search.evolution import (
    Evolution,
    EvolutionConfig,
    age_penalty,
    fitness,
    tournament_select,
)
from dynas_service.search.grid import AnytimeGridSearch
from dynas_service.search.monitors import (
    DEFAULT_MAX_EPOCHS,
    EarlyStoppingMonitor,
    ProgressiveGrowthMonitor,
)
from dynas_service.search.plot import plot_traces
from dynas_service.search.profile import (
    area_under_expected_quality,
    expected_quality,
    performance_profile,
)
from dynas_service.search.progressive import ProgressiveGrowth
from dynas_service.search.random_search import RandomSearch
from dynas_service.search.space import (
    CategoricalParam,
    FloatParam,
    IntParam,
    Param,
    SearchSpace,
)
from dynas_service.search.trace import PerformanceTrace

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "AnytimeGridSearch",
    "CategoricalParam",
    "Clone",
    "ConfigurationSearch",
    "Continue",
    "EarlyStoppingMonitor",
    "EpochDecision",
    "Evolution",
    "EvolutionConfig",
    "FloatParam",
    "Fresh",
    "IndividualResult",
    "IntParam",
    "Param",
    "PerformanceTrace",
    "ProgressiveGrowth",
    "ProgressiveGrowthMonitor",
    "RandomSearch",
    "SearchSpace",
    "SlotDecision",
    "Suggestion",
    "TrialMonitor",
    "age_penalty",
    "area_under_expected_quality",
    "expected_quality",
    "fitness",
    "performance_profile",
    "plot_traces",
    "tournament_select",
]
