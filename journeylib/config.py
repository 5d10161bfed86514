"""client.yaml and journey templates: safe YAML into typed, validated models.

Unknown keys, wrong types and missing required keys are fatal
:class:`~journeylib.errors.ConfigError` / :class:`~journeylib.errors.TemplateError`
whose message names the key.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journeylib.errors import ConfigError, TemplateError
from journeylib.i18n import LANGUAGES, Language, check_language
from journeylib.paths import check_name, templates_dir

#: The safe loader (plain data only, no Python objects), in libyaml's C version
#: when PyYAML was built with it: about ten times faster on a journey template.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "ActivationConfig",
    "ClientConfig",
    "FirstValueConfig",
    "EngagementConfig",
    "Goal",
    "JourneyTemplate",
    "Milestone",
    "PeriodConfig",
    "PersonaRule",
    "Stage",
    "Touchpoint",
    "load_client_config",
    "load_template",
    "parse_month",
]

_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")


def parse_month(value: Any) -> str:
    """Normalise a month (``YYYY-MM``, a date or any date inside the month) to ``YYYY-MM``.

    Examples:
        >>> parse_month("2024-03-15"), parse_month(dt.date(2024, 1, 31)), parse_month("2024-12")
        ('2024-03', '2024-01', '2024-12')
    """
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    m = _MONTH.match(str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month written YYYY-MM, found {value!r}")
    return f"{m.group(1)}-{m.group(2)}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- templates
class Touchpoint(_Strict):
    """A touchpoint of a stage and the raw events it covers."""

    id: str
    events: list[str]
    label: str | None = None
    kind: Literal["direct", "indirect"] | None = None
    channel: str | None = None
    description: str | None = None
    customer_goal: str | None = None
    company_goal: str | None = None
    customer_does: str | None = None
    company_does: str | None = None
    customer_feels: str | None = None
    desired_outcome: str | None = None
    feeds_into: list[str] = Field(default_factory=list)

    @property
    def display(self) -> str:
        """The label, or the id when there is none."""
        return self.label or self.id


class Stage(_Strict):
    """One stage of a journey template, with its qualitative content."""

    id: str
    label: str
    situation: str | None = None
    phases: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    decisions: list[str] = Field(default_factory=list)
    information_needs: list[str] = Field(default_factory=list)
    emotions: list[str] = Field(default_factory=list)
    pain_points: list[str] = Field(default_factory=list)
    opportunities: list[str] = Field(default_factory=list)
    kpis: list[str] = Field(default_factory=list)
    touchpoints: list[Touchpoint] = Field(default_factory=list)


class JourneyTemplate(_Strict):
    """A journey template: stages in order, each with its touchpoints and their events."""

    id: str | None = None
    label: str | None = None
    description: str | None = None
    source: str | None = None
    stages: list[Stage] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> JourneyTemplate:
        seen: set[str] = set()
        for stage in self.stages:
            if stage.id in seen:
                raise ValueError(f"stage id {stage.id!r} appears twice")
            seen.add(stage.id)
        tps: set[str] = set()
        for tp in self.touchpoints:
            if tp.id in tps:
                raise ValueError(f"touchpoint id {tp.id!r} appears twice")
            tps.add(tp.id)
        return self

    @property
    def stage_ids(self) -> list[str]:
        """Stage ids in journey order."""
        return [s.id for s in self.stages]

    @property
    def touchpoints(self) -> list[Touchpoint]:
        """All touchpoints, in template order."""
        return [tp for s in self.stages for tp in s.touchpoints]

    def stage_of_touchpoint(self) -> dict[str, str]:
        """Touchpoint id → stage id."""
        return {tp.id: s.id for s in self.stages for tp in s.touchpoints}

    def event_map(self) -> dict[str, tuple[str, str]]:
        """Raw event name → (touchpoint id, stage id); the first touchpoint in template order wins."""
        out: dict[str, tuple[str, str]] = {}
        for s in self.stages:
            for tp in s.touchpoints:
                for ev in tp.events:
                    out.setdefault(ev, (tp.id, s.id))
        return out

    def with_event_mapping(self, mapping: dict[str, list[str]]) -> JourneyTemplate:
        """A copy whose touchpoints in ``mapping`` cover exactly the events given there."""
        known = {tp.id for tp in self.touchpoints}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(f"event_mapping names unknown touchpoint {unknown[0]!r}")
        stages = [
            s.model_copy(
                update={
                    "touchpoints": [
                        tp.model_copy(update={"events": list(mapping[tp.id])})
                        if tp.id in mapping
                        else tp
                        for tp in s.touchpoints
                    ]
                }
            )
            for s in self.stages
        ]
        return self.model_copy(update={"stages": stages})


# ---------------------------------------------------------------- client.yaml
class PeriodConfig(_Strict):
    """A closed range of calendar months."""

    start: str | None = None
    end: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _month(cls, v: Any) -> str | None:
        return None if v is None else parse_month(v)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodConfig:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"period.start {self.start} is after period.end {self.end}")
        return self


class ActivationConfig(_Strict):
    """The activation point: an event within a number of days of signup."""

    event: str
    within_days: float = Field(gt=0)


class FirstValueConfig(_Strict):
    """The event that marks an account's first value."""

    event: str


class EngagementConfig(_Strict):
    """Weights of events in the engagement score."""

    weights: dict[str, float]


HealthComponent = Literal["usage_trend", "breadth", "support_load", "nps", "mrr_trend"]
#: The components of the account health score (analytics.md §10), in the order they are shown.
HEALTH_COMPONENTS: tuple[str, ...] = get_args(HealthComponent)


class HealthConfig(_Strict):
    """Weights of the five components of the account health score.

    Keys are among :data:`HEALTH_COMPONENTS`; a component left out weighs 0
    (as an event left out of ``engagement.weights``). Weights are finite, not
    negative, and at least one is above 0. Without a ``health`` key every
    component weighs 1.
    """

    weights: dict[HealthComponent, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default_factory=lambda: dict.fromkeys(HEALTH_COMPONENTS, 1.0)
    )

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, v: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in v.values()):
            raise ValueError("at least one weight above 0")
        return v


class Range(_Strict):
    """A numeric range used by persona rules; both bounds inclusive."""

    min: float | None = None
    max: float | None = None


class PersonaRule(_Strict):
    """A persona and the rule over accounts columns that assigns it (first match wins)."""

    id: str
    label: str | None = None
    description: str | None = None
    match: dict[str, Range | list[str | int | float] | str | int | float] = Field(
        default_factory=dict
    )
    goals: list[str] = Field(default_factory=list)
    challenges: list[str] = Field(default_factory=list)
    buying_behaviour: str | None = None
    preferred_channels: list[str] = Field(default_factory=list)

    @field_validator("match")
    @classmethod
    def _known_columns(cls, v: dict[str, Any]) -> dict[str, Any]:
        allowed = {"industry", "company_size", "country", "role", "acquisition_channel", "name"}
        for key in v:
            if key not in allowed:
                raise ValueError(
                    f"match on unknown accounts column {key!r} (use one of {sorted(allowed)})"
                )
        return v


class Milestone(_Strict):
    """A milestone: an event that marks progress along the journey."""

    id: str
    event: str
    label: str | None = None
    description: str | None = None


class Goal(_Strict):
    """A SMART goal on a catalogue metric."""

    id: str
    metric: str
    target: float
    deadline: dt.date
    baseline: float | None = None
    label: str | None = None
    description: str | None = None
    segment: dict[str, str] | None = None
    start: dt.date | None = None


class ClientConfig(_Strict):
    """The typed content of a client's ``client.yaml``."""

    client: str
    journey: str
    currency: str = "USD"
    timezone: str = "UTC"
    language: Language = "en"
    pdf: bool = False
    period: PeriodConfig | None = None
    gross_margin: float = Field(default=1.0, gt=0, le=1)
    activation: ActivationConfig | None = None
    first_value: FirstValueConfig | None = None
    engagement: EngagementConfig | None = None
    health: HealthConfig = Field(default_factory=HealthConfig)
    branded_terms: list[str] = Field(default_factory=list)
    personas: list[PersonaRule] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)
    event_mapping: dict[str, list[str]] = Field(default_factory=dict)
    attribution_window_days: int = Field(default=90, gt=0)
    description: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as UTC or Europe/Berlin)"
            ) from None
        return v

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v: Any) -> Any:
        if v not in LANGUAGES:
            raise ValueError(f"a language code, one of {', '.join(LANGUAGES)}")
        return v

    @field_validator("client")
    @classmethod
    def _nonempty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the client's display name is empty")
        return v


def _read_yaml(path: Path, error: type[ConfigError] | type[TemplateError]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(
            "file not found",
            where=path,
            expected="a YAML file",
            found="nothing",
            fix="create it (see templates/client.yaml)"
            if error is ConfigError
            else "check the template name or path",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(
            "cannot read file",
            where=path,
            found=type(exc).__name__,
            fix="check the file is UTF-8 text",
        ) from None
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error(
            "not valid YAML",
            where=where,
            found=str(problem),
            fix="correct the YAML syntax at that line",
        ) from None


def _first_error(exc: ValidationError) -> tuple[str, str, str]:
    """(dotted key, expected, found) of the first pydantic error."""
    err = exc.errors()[0]
    # a bad mapping key is located at "<key>.[key]": name the key itself
    key = ".".join(str(p) for p in err["loc"] if p != "[key]") or "(top level)"
    kind = err["type"]
    found = err.get("input")
    if kind == "extra_forbidden":
        return key, "no such key", f"unknown key {key!r}"
    if kind == "missing":
        return key, "a value", "the key is missing"
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
    found_txt = f"{found!r}" if not isinstance(found, dict | list) else type(found).__name__
    return key, msg, found_txt


def load_client_config(path: str | Path) -> ClientConfig:
    r"""Read a ``client.yaml`` safely into a :class:`ClientConfig`.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "client.yaml"
        >>> _ = p.write_text("client: Acme\njourney: saas_5_stage\n")
        >>> load_client_config(p).currency
        'USD'
    """
    path = Path(path)
    raw = _read_yaml(path, ConfigError)
    if not isinstance(raw, dict):
        raise ConfigError(
            "client.yaml must be a mapping of keys",
            where=path,
            expected="keys such as client: and journey:",
            found=type(raw).__name__ if raw is not None else "an empty file",
            fix="start from templates/client.yaml",
        )
    try:
        return ClientConfig.model_validate(raw)
    except ValidationError as exc:
        key, expected, found = _first_error(exc)
        if expected == "no such key":
            raise ConfigError(
                f"unknown key '{key}'",
                where=f"{path}: {key}",
                expected="only the keys documented in templates/client.yaml",
                found=found,
                fix="remove or rename the key (check its spelling)",
            ) from None
        if expected == "a value":
            raise ConfigError(
                f"missing required key '{key}'",
                where=f"{path}: {key}",
                expected="a value",
                found="the key is missing",
                fix=f"add '{key}:' to client.yaml",
            ) from None
        raise ConfigError(
            f"bad value for '{key}'",
            where=f"{path}: {key}",
            expected=expected,
            found=found,
            fix=f"correct '{key}' in client.yaml",
        ) from None


def load_template(
    ref: str, *, client_dir: str | Path | None = None, language: str = "en"
) -> JourneyTemplate:
    """Load a journey template by name (``templates/journeys/NAME.yaml``) or by path.

    A path (anything with a slash or ending in ``.yaml``) is resolved relative
    to ``client_dir``; a name may not leave ``templates/journeys/``. For a name
    and a ``language`` other than English, the translation
    ``templates/journeys/<language>/NAME.yaml`` is read when it exists (same
    ids, translated words), else the English template.

    Examples:
        >>> [s.id for s in load_template("saas_5_stage").stages]
        ['awareness', 'consideration', 'conversion', 'retention', 'advocacy']
    """
    language = check_language(language)
    if "/" in ref or ref.endswith((".yaml", ".yml")):
        base = Path(client_dir) if client_dir is not None else Path.cwd()
        path = Path(ref) if Path(ref).is_absolute() else base / ref
    else:
        try:
            check_name(ref, kind="template")
        except Exception as exc:
            raise TemplateError(
                "not a valid template name",
                where=f"journey: {ref}",
                expected="a template name from templates/journeys/ or a path such as ./my_journey.yaml",
                found=repr(ref),
                fix="use a template name or a path relative to the client folder",
            ) from exc
        journeys = templates_dir() / "journeys"
        path = journeys / f"{ref}.yaml"
        if not path.is_file():
            # the English files name the templates; the language folders only translate them
            known = sorted(p.stem for p in journeys.glob("*.yaml") if p.is_file())
            raise TemplateError(
                "unknown journey template",
                where=f"journey: {ref}",
                expected=f"one of {', '.join(known)}",
                found=repr(ref),
                fix="use one of those names in client.yaml, or a path such as ./my_journey.yaml",
            )
        translated = journeys / language / f"{ref}.yaml"
        if language != "en" and translated.is_file():
            path = translated
    raw = _read_yaml(path, TemplateError)
    if not isinstance(raw, dict):
        raise TemplateError(
            "a template must be a mapping with a 'stages' list",
            where=path,
            found=type(raw).__name__,
            fix="see templates/journeys/saas_5_stage.yaml",
        )
    try:
        return JourneyTemplate.model_validate(raw)
    except ValidationError as exc:
        key, expected, found = _first_error(exc)
        raise TemplateError(
            f"bad template key '{key}'",
            where=f"{path}: {key}",
            expected=expected,
            found=found,
            fix="correct the template (see templates/journeys/saas_5_stage.yaml)",
        ) from None
