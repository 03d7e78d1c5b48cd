"""The policy model: YAML mapped onto frozen dataclasses validated at load.

A policy names the steps applied to the data (in order), the audits run on the
result and the gate thresholds that decide whether it may be published. Every
error names the key path and the bad value, e.g.
``steps[3].jitter_dates.max_days: must be an integer >= 0, got -2``.

A little over 400 lines on purpose: the sections (audits, gate, the policy) validate
against each other at load (a gate threshold per adversary, uniqueness m values the
audit measures, gates that need microdata), and keeping them in one module keeps those
cross-checks beside the fields they compare.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from policies.aggregates import AggregatesConfig
from policies.files import PolicyFile
from policies.model import ModelConfig
from policies.steps import PseudonymizeUsers, Step, build_step
from publisher.core.adversary import (
    DEFAULT_KNOWN_ITEMS,
    MATCH_MODES,
    Adversary,
    AuditSettings,
)
from publisher.core.errors import BudgetExceededError, PolicyError
from publisher.core.files import SmallFileError, read_small_file
from publisher.core.parsing import canonical_json, strict_yaml
from publisher.core.validation import (
    at_path,
    check_choice,
    check_int,
    check_keys,
    check_number,
    shown,
)

__all__ = [
    "Adversary",
    "AuditSettings",
    "Gate",
    "Policy",
    "UniquenessLimit",
    "check_gate_declared",
    "list_presets",
    "load_policy",
    "parse_policy",
    "preset_text",
]


#: A policy file is read up to this size (real ones are a few hundred bytes).
MAX_POLICY_BYTES = 1 << 20


def parse_audit_settings(config: Any, path: str) -> AuditSettings:
    """Build the audit settings from the policy's ``audits`` mapping (at ``path``)."""
    given = check_keys(path, config, ("targets", "adversaries", "phi", "uniqueness", "posterior"))
    if "adversaries" in given:
        entries = given["adversaries"]
        if not isinstance(entries, list) or not entries:
            raise PolicyError(f"{path}.adversaries: must be a non-empty list")
        given["adversaries"] = tuple(
            Adversary.from_config(a, f"{path}.adversaries[{i}]") for i, a in enumerate(entries)
        )
    if "uniqueness" in given:
        unique = check_keys(f"{path}.uniqueness", given.pop("uniqueness"), ("known_items",))
        ms = unique.get("known_items", list(DEFAULT_KNOWN_ITEMS))
        if not isinstance(ms, list) or not ms:
            raise PolicyError(f"{path}.uniqueness.known_items: must be a non-empty list")
        where = f"{path}.uniqueness"
        given["uniqueness_known_items"] = tuple(
            at_path(where, functools.partial(check_int, "uniqueness", "known_items", m,
                                             minimum=1, maximum=1000))
            for m in ms
        )  # fmt: skip
    return at_path(path, lambda: AuditSettings(**given))


@dataclass(frozen=True, kw_only=True)
class UniquenessLimit:
    """A ceiling on the fraction of released users singled out by m known items.

    Parameters
    ----------
    known_items : int
        The m it applies to (must be one of the uniqueness audit's m values).
    fraction : float
        Highest allowed fraction of unique users, in [0, 1].
    match : {"items", "ratings", "ratings_dates", "items_period"}
        Which matching counts: items alone, with exact ratings, or also dates.
    """

    known_items: int
    fraction: float
    match: str = "ratings"

    def __post_init__(self) -> None:
        check_int("UniquenessLimit", "known_items", self.known_items, minimum=1)
        check_number("UniquenessLimit", "fraction", self.fraction, minimum=0, maximum=1)
        check_choice("UniquenessLimit", "match", self.match, MATCH_MODES)

    def to_dict(self) -> dict[str, Any]:
        """The limit as written in a policy."""
        return {"known_items": self.known_items, "fraction": self.fraction, "match": self.match}


@dataclass(frozen=True, kw_only=True)
class Gate:
    """Risk thresholds that decide whether a release may be published.

    Every threshold is compared with the UPPER end of the 95% Wilson interval of
    the measured rate, so a pass means the data show, with 95% confidence, that the
    rate is below the threshold (a small sample cannot pass a strict gate).

    Parameters
    ----------
    max_reidentification_rate : tuple of (float or None), or None
        Per adversary (in the order of ``audits.adversaries``), the highest
        re-identification rate allowed on the release; None = not gated. A single
        number in the policy applies to every adversary.
    max_unique_fraction : UniquenessLimit or None
        Ceiling on the released users singled out by m known items.
    max_rmse_increase : float or None
        Utility floor: the largest increase of the matrix factorization's holdout RMSE
        (release minus original) allowed; compared as measured (no interval).
    max_decoy_auc : float or None
        Ceiling on the distinguishability audit's ROC AUC (0.5 to 1): how well a
        classifier tells decoys and moved rows from real ones; compared with the upper
        end of its bootstrap interval.
    none : bool
        ``gate: none`` in the policy: the organizer publishes without any threshold, on
        purpose (a policy that releases ratings must say either that or its thresholds).
    """

    max_reidentification_rate: tuple[float | None, ...] | None = None
    max_unique_fraction: UniquenessLimit | None = None
    max_rmse_increase: float | None = None
    max_decoy_auc: float | None = None
    none: bool = False

    def __post_init__(self) -> None:
        for value in self.max_reidentification_rate or ():
            if value is not None:
                check_number("Gate", "max_reidentification_rate", value, minimum=0, maximum=1)
        if self.max_rmse_increase is not None:
            check_number("Gate", "max_rmse_increase", self.max_rmse_increase, minimum=0)
        if self.max_decoy_auc is not None:
            check_number("Gate", "max_decoy_auc", self.max_decoy_auc, minimum=0.5, maximum=1)

    @property
    def active(self) -> bool:
        """Whether any threshold is set."""
        return self.guards_risk or self.max_rmse_increase is not None

    @property
    def guards_risk(self) -> bool:
        """Whether a risk threshold is set (re-identification, uniqueness or decoys)."""
        rates = [v for v in self.max_reidentification_rate or () if v is not None]
        return (
            bool(rates) or self.max_unique_fraction is not None or (self.max_decoy_auc is not None)
        )

    @classmethod
    def from_config(cls, config: Any, path: str, n_adversaries: int) -> Gate:
        """Build from the policy's ``gate`` mapping, or ``none`` (published ungated)."""
        if config == "none":
            return cls(none=True)
        given = check_keys(
            path,
            config,
            (
                "max_reidentification_rate",
                "max_unique_fraction",
                "max_rmse_increase",
                "max_decoy_auc",
            ),
        )
        rate = given.get("max_reidentification_rate")
        if isinstance(rate, list):
            if len(rate) != n_adversaries:
                raise PolicyError(
                    f"{path}.max_reidentification_rate: a list needs one value per adversary "
                    f"({n_adversaries}), got {len(rate)}"
                )
            given["max_reidentification_rate"] = tuple(rate)
        elif rate is not None:
            given["max_reidentification_rate"] = (rate,) * n_adversaries
        if given.get("max_unique_fraction") is not None:
            limit_path = f"{path}.max_unique_fraction"
            limit = check_keys(
                limit_path,
                given["max_unique_fraction"],
                ("known_items", "fraction", "match"),
                required=("known_items", "fraction"),
            )
            given["max_unique_fraction"] = at_path(limit_path, lambda: UniquenessLimit(**limit))
        return at_path(path, lambda: cls(**given))

    def to_dict(self) -> dict[str, Any]:
        """The thresholds (all null for ``gate: none``), as report.json records them."""
        rates = self.max_reidentification_rate
        return {
            "max_reidentification_rate": list(rates) if rates is not None else None,
            "max_unique_fraction": (
                self.max_unique_fraction.to_dict() if self.max_unique_fraction else None
            ),
            "max_rmse_increase": self.max_rmse_increase,
            "max_decoy_auc": self.max_decoy_auc,
        }


@dataclass(frozen=True, kw_only=True)
class Policy:
    """A declared release policy: steps, audits and gate.

    Parameters
    ----------
    name : str
        Short name, shown in reports.
    description : str
        What the policy is for.
    licence : str
        The licence the released data carries (copied into the datasheet).
    steps : tuple of Step
        Applied in order.
    audits : AuditSettings
    gate : Gate
    aggregates : AggregatesConfig or None
        Differentially private aggregates released beside (or instead of) the data.
    model : ModelConfig or None
        A differentially private recommender model, released instead of the data.
    """

    name: str
    description: str = ""
    licence: str = "unspecified"
    steps: tuple[Step, ...] = ()
    audits: AuditSettings = field(default_factory=AuditSettings)
    gate: Gate = field(default_factory=Gate)
    aggregates: AggregatesConfig | None = None
    model: ModelConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        """The effective policy, secrets excluded, as written into a bundle."""
        out = {
            "name": self.name,
            "description": self.description,
            "licence": self.licence,
            "steps": [{step.name: step.to_config()} for step in self.steps],
            "audits": self.audits.to_dict(),
            "gate": "none" if self.gate.none else self.gate.to_dict(),
            "aggregates": self.aggregates.to_dict() if self.aggregates else None,
        }
        # present only when declared: the digest of every policy without one is unchanged
        if self.model is not None:
            out["model"] = self.model.to_dict()
        return out

    @property
    def releases_microdata(self) -> bool:
        """Whether a ratings table is published (not a DP model or DP aggregates alone)."""
        if self.model is not None:
            return False
        return self.aggregates is None or self.aggregates.microdata

    @property
    def pseudonymizer(self) -> PseudonymizeUsers | None:
        """The ``pseudonymize_users`` step (the one keyed step), None without one."""
        return next((s for s in self.steps if isinstance(s, PseudonymizeUsers)), None)

    def files(self) -> list[PolicyFile]:
        """Every file the policy names, as read at load (:mod:`policies.files`)."""
        out = []
        for section in (self.aggregates, self.model):
            items = section.domain.items if section is not None else None
            if items is not None and items.file is not None:
                out.append(items.file)
        return out

    def noise_sources(self) -> list[str]:
        """The components whose random draws protect (see :attr:`Step.randomized`).

        Examples
        --------
        >>> parse_policy(
        ...     "{name: p, gate: none, steps: [{coarsen_dates: {to: month}}, "
        ...     "{perturb_ratings: {epsilon: 1}}]}"
        ... ).noise_sources()
        ['steps[1].perturb_ratings']
        """
        sources = [f"steps[{k}].{s.name}" for k, s in enumerate(self.steps) if s.randomized]
        if self.aggregates is not None:
            sources.append("aggregates")
        return sources

    def to_yaml(self) -> str:
        """The effective policy as YAML."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form of :meth:`to_dict`."""
        return hashlib.sha256(canonical_json(self.to_dict())).hexdigest()


# --------------------------------------------------------------------- loading
def _safe_yaml(text: str, label: str) -> Any:
    """Safe YAML with no aliases and no key given twice (:func:`strict_yaml`)."""
    return strict_yaml(text, label, PolicyError)


def parse_policy(text: str, label: str = "policy", base: Path | None = None) -> Policy:
    """Parse and validate a policy from YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
    label : str
        Prefix for error messages (the file name or preset name).
    base : Path, optional
        The folder files named in the policy (an item catalogue) are relative to;
        the current folder when None.

    Returns
    -------
    Policy

    Raises
    ------
    PolicyError
        ``label: key.path: problem, got value``.
    """
    data = _safe_yaml(text, label)
    try:
        return _build(data, base)
    except RecursionError:
        raise PolicyError(f"{label}: nested too deeply to be a policy") from None
    except BudgetExceededError as exc:
        raise BudgetExceededError(f"{label}: {exc}") from None
    except PolicyError as exc:
        raise PolicyError(f"{label}: {exc}") from None


def _build(data: Any, base: Path | None = None) -> Policy:
    given = check_keys(
        "policy",
        data,
        ("name", "description", "licence", "steps", "audits", "gate", "aggregates", "model"),
        required=("name",),
    )
    for key in ("name", "description", "licence"):
        if key in given and not isinstance(given[key], str):
            raise PolicyError(f"{key}: must be a string, got {shown(given[key])}")
    if not str(given["name"]).strip():
        raise PolicyError("name: must not be empty")
    steps = given.get("steps") or []
    if not isinstance(steps, list):
        raise PolicyError("steps: must be a list")
    given["steps"] = tuple(build_step(entry, f"steps[{i}]") for i, entry in enumerate(steps))
    given["audits"] = parse_audit_settings(given.get("audits"), "audits")
    declared_gate = given.get("gate")
    given["gate"] = Gate.from_config(declared_gate, "gate", len(given["audits"].adversaries))
    limit = given["gate"].max_unique_fraction
    if limit and limit.known_items not in given["audits"].uniqueness_known_items:
        raise PolicyError(
            f"gate.max_unique_fraction.known_items: {limit.known_items} is not among "
            "audits.uniqueness.known_items"
        )
    if given.get("aggregates") is not None:
        given["aggregates"] = AggregatesConfig.from_config(given["aggregates"], "aggregates", base)
        if not given["aggregates"].microdata:
            _no_microdata_gate(given["gate"])
    if given.get("model") is not None:
        given["model"] = ModelConfig.from_config(given["model"], "model", base)
        _model_only(given)
    names = [s.name for s in given["steps"]]
    if names.count("pseudonymize_users") > 1:
        raise PolicyError("steps: pseudonymize_users may appear only once")
    _check_composition(names)
    policy = Policy(**given)
    check_gate_declared(policy, declared=declared_gate is not None)
    return policy


def check_gate_declared(policy: Policy, *, declared: bool = True) -> None:
    """Refuse a policy that releases ratings with no risk threshold and no ``gate: none``.

    A release of ratings is published only when someone meant it: with thresholds on its
    risk, or with an explicit ``gate: none`` (say so on purpose). Checked at load and again
    by ``release`` for a Policy built in Python.

    Raises
    ------
    PolicyError
        Naming ``gate`` and both ways out.
    """
    if policy.releases_microdata and not policy.gate.none and not policy.gate.guards_risk:
        what = "no risk threshold" if declared else "no gate"
        raise PolicyError(
            f"gate: the policy sets {what}, so a release would be published whatever its "
            "risk; set max_reidentification_rate (or max_unique_fraction, max_decoy_auc), "
            "or write 'gate: none' to publish without one on purpose"
        )


def _check_composition(names: list[str]) -> None:
    """Refuse step orders that break a guarantee a step states.

    ``insert_ratings`` copies real rating values into decoys. Before ``perturb_ratings``,
    one true value would then be released several times with independent noise, and
    the per-rating epsilon randomized response states would no longer hold (measured:
    stated 1, actual 2.12). After it, decoys copy noisy values: post-processing, safe.
    """
    if "perturb_ratings" not in names:
        return
    last_noise = max(k for k, name in enumerate(names) if name == "perturb_ratings")
    for k, name in enumerate(names[:last_noise]):
        if name == "insert_ratings":
            raise PolicyError(
                f"steps[{k}].insert_ratings: decoys copy real rating values, so before "
                f"steps[{last_noise}].perturb_ratings one value would be released several "
                "times with independent noise and its epsilon would not hold; move "
                "insert_ratings after perturb_ratings"
            )


def _model_only(given: dict[str, Any]) -> None:
    """A model release publishes no ratings table: no steps shape one, no gate measures one."""
    if given["steps"]:
        raise PolicyError(
            "steps: a model release (model:) publishes no ratings table, so steps would "
            "shape nothing; remove them (the model is computed from the original ratings)"
        )
    aggregates = given.get("aggregates")
    if aggregates is not None and aggregates.microdata:
        raise PolicyError(
            "model: a model release publishes no ratings table; set aggregates.microdata: "
            "false to release the aggregates beside the model"
        )
    _no_microdata_gate(given["gate"], "model: is declared")


def _no_microdata_gate(gate: Gate, why: str = "aggregates.microdata is false") -> None:
    """Without microdata nothing is attacked or measured, so a gate on it cannot decide."""
    gated = {
        "max_reidentification_rate": any(
            v is not None for v in gate.max_reidentification_rate or ()
        ),
        "max_unique_fraction": gate.max_unique_fraction is not None,
        "max_rmse_increase": gate.max_rmse_increase is not None,
    }
    for key, present in gated.items():
        if present:
            raise PolicyError(
                f"gate.{key}: {why}, so no ratings are released to measure; remove this threshold"
            )


def list_presets() -> list[str]:
    """Names of the policies shipped with the package."""
    folder = resources.files("policies") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def preset_text(name: str) -> str:
    """The YAML text of a shipped preset."""
    if name not in list_presets():
        raise PolicyError(f"no preset named {shown(name)}; presets: {', '.join(list_presets())}")
    return (resources.files("policies") / "presets" / f"{name}.yaml").read_text(encoding="utf-8")


def load_policy(source: str | Path) -> Policy:
    """Load a policy from a file path or a preset name.

    A path that exists wins over a preset of the same name.

    Raises
    ------
    PolicyError
        For a missing file, an unknown preset or an invalid policy.
    """
    path = Path(source)
    if path.is_file():
        try:
            text = read_small_file(path, MAX_POLICY_BYTES).decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError(f"{path}: not valid UTF-8") from None
        except SmallFileError as exc:
            if exc.kind == "size":
                message = f"{path}: larger than {MAX_POLICY_BYTES:,} bytes; not a policy"
            else:
                message = f"{path}: cannot read ({exc.detail or exc.kind})"
            raise PolicyError(message) from None
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read ({exc.strerror})") from None
        return parse_policy(text, str(path), path.parent)
    if str(source) in list_presets():
        return parse_policy(preset_text(str(source)), f"preset {source}")
    raise PolicyError(
        f"{source}: no such policy file or preset (presets: {', '.join(list_presets())})"
    )
