"""Model surgery: resizing parameters together with their optimizer state, and the
network-level grow/prune steps of dynamic auto-sizing."""

from dynas_service.nn.surgery.grow_prune import grow, prune
from dynas_service.nn.surgery.optimizer_state import (
    append_along,
    reset_moments,
    resize_parameter,
    select_along,
)

__all__ = ["append_along", "grow", "prune", "reset_moments", "resize_parameter", "select_along"]
