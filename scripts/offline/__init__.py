"""The offline engine: the real program under Pulumi's mock runtime, every registration recorded.

One engine serves the ``preview`` CLI and the tests (unit, stacks and policy tiers).
"""

from scripts.offline.engine import Recording, Registration, run_program, synthesize
from scripts.offline.project import StackConfig, StackFileError, load_stack_config

__all__ = [
    "Recording",
    "Registration",
    "StackConfig",
    "StackFileError",
    "load_stack_config",
    "run_program",
    "synthesize",
]
