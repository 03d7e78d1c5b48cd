"""What is done to the data: the YAML policy model and the anonymization / noise steps.

Depends on ``publisher.ratings`` (and ``publisher.errors``) only; never on ``audits``.
"""

from policies.schema import (
    Adversary,
    AuditConfig,
    Gate,
    Policy,
    list_presets,
    load_policy,
    parse_policy,
    preset_text,
)
from policies.steps import STEPS, Step, build_step
from policies.validation import ParameterError, ParameterTypeError

__all__ = [
    "STEPS",
    "Adversary",
    "AuditConfig",
    "Gate",
    "ParameterError",
    "ParameterTypeError",
    "Policy",
    "Step",
    "build_step",
    "list_presets",
    "load_policy",
    "parse_policy",
    "preset_text",
]
