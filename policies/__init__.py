"""What is done to the data: the YAML policy model and the anonymization / noise steps.

Depends on ``publisher.core`` only (the Ratings table, the Adversary, errors, parameter
checks); never on ``audits``.
"""

from policies.schema import (
    Gate,
    Policy,
    list_presets,
    load_policy,
    parse_policy,
    preset_text,
)
from policies.steps import STEPS, Step, build_step
from publisher.core.adversary import Adversary, AuditSettings
from publisher.core.validation import ParameterError, ParameterTypeError

__all__ = [
    "STEPS",
    "Adversary",
    "AuditSettings",
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
