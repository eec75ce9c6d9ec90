"""Names, specs and the per-family registry.

A function and its :class:`Spec` are declared in one place, with the ``register`` decorator of its family's
:class:`Registry`::

    @REGISTRY.register(summary="...", formula="...", output_range=(0.0, math.inf), ...)
    def relu(x): ...

The spec's ``name`` is the function's name and its ``params`` are read from the signature (every parameter with
a default), so a function and its spec cannot drift apart.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from almanac.errors import ConfigError, UnknownNameError, problem

__all__ = [
    "TASKS",
    "ActivationSpec",
    "LossSpec",
    "MetricSpec",
    "Registry",
    "Spec",
    "normalize_name",
]

TASKS = ("binary", "multiclass", "multilabel", "regression", "segmentation", "adversarial")
PLACEMENTS = ("hidden", "output")
LOSS_EXPECTS = ("logits", "probabilities", "values", "critic_scores")
LOSS_TARGETS = ("class_indices", "binary", "multi_hot", "soft_labels", "real", "mask")
# What a loss applies to its input before comparing it with the target: "softmax" over the class dimension,
# "sigmoid" per unit, "margin" (raw scores against ±1 labels), "exp" (log-rates), or "none".
LOSS_NORMALIZATIONS = ("softmax", "sigmoid", "margin", "exp", "none")
METRIC_NEEDS = ("labels", "scores", "probabilities", "values")


def normalize_name(name: str) -> str:
    """Canonical spelling of a user-given name: lower case, ``-`` and spaces as ``_``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _require(value: Any, allowed: tuple[str, ...], what: str, spec_name: str) -> None:
    if value not in allowed:
        raise ConfigError(f"spec `{spec_name}`: {what} must be one of {allowed}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Spec:
    """Facts about one function, shared by the three families."""

    name: str
    family: str
    summary: str
    formula: str
    aliases: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True, kw_only=True)
class ActivationSpec(Spec):
    """Spec of an activation. ``elementwise`` is False for the ones that mix a dimension (softmax, glu, ...)."""

    output_range: tuple[float, float]
    monotonic: bool
    smooth: bool
    zero_centered: bool
    placement: frozenset[str]
    saves_for_backward: str
    elementwise: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "placement", frozenset(self.placement))
        for where in self.placement:
            _require(where, PLACEMENTS, "placement", self.name)


@dataclass(frozen=True, kw_only=True)
class LossSpec(Spec):
    """Spec of a loss: what it expects as input and target, and what it is good for."""

    expects: str
    target: str
    tasks: tuple[str, ...]
    normalization: str | Mapping[str, str]
    robust_to_outliers: bool = False
    for_imbalance: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.expects, LOSS_EXPECTS, "expects", self.name)
        _require(self.target, LOSS_TARGETS, "target", self.name)
        for task in self.tasks:
            _require(task, TASKS, "tasks", self.name)
        if isinstance(self.normalization, str):
            _require(self.normalization, LOSS_NORMALIZATIONS, "normalization", self.name)
        else:
            object.__setattr__(self, "normalization", MappingProxyType(dict(self.normalization)))
            if "task" not in self.params:
                raise ConfigError(f"spec `{self.name}`: a normalization per task needs a `task` parameter")
            for value in self.normalization.values():
                _require(value, LOSS_NORMALIZATIONS, "normalization", self.name)

    def normalization_for(self, params: Mapping[str, Any] | None = None) -> str:
        """The normalisation the loss applies to its input when called with ``params`` (defaults filled in).

        ``from_logits=False`` (probabilities in) and ``log_input=False`` (rates in) turn it off.

        >>> from almanac import losses
        >>> losses.spec("focal").normalization_for({"task": "multiclass"})
        'softmax'
        """
        merged = {**self.params, **(params or {})}
        if merged.get("from_logits", True) is False or merged.get("log_input", True) is False:
            return "none"
        if isinstance(self.normalization, str):
            return self.normalization
        return self.normalization[merged["task"]]


@dataclass(frozen=True, kw_only=True)
class MetricSpec(Spec):
    """Spec of a validation metric."""

    tasks: tuple[str, ...]
    needs: str
    higher_is_better: bool
    range: tuple[float, float] = (-math.inf, math.inf)
    differentiable: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.needs, METRIC_NEEDS, "needs", self.name)
        for task in self.tasks:
            _require(task, TASKS, "tasks", self.name)


S = TypeVar("S", bound=Spec)


@dataclass(frozen=True)
class _Entry(Generic[S]):
    spec: S
    function: Callable[..., Any]
    factory: Callable[..., Any]
    factory_params: tuple[str, ...]


def _signature_params(function: Callable[..., Any]) -> dict[str, Any]:
    """Every parameter of ``function`` that has a default, in order: the hyperparameters."""
    return {
        p.name: p.default
        for p in inspect.signature(function).parameters.values()
        if p.default is not inspect.Parameter.empty
    }


class Registry(Generic[S]):
    """The names of one family: canonical names, aliases, specs, pure functions and object factories.

    ``default_factory(name, **params)`` builds the object ``get`` returns (an ``nn.Module`` for activations and
    losses, a streaming metric for metrics); one entry may register its own factory instead.

    ``refused`` maps keyword names that no function of the family takes, but that users coming from another library
    will try, to the fix to give (the losses refuse PyTorch's ``weight=``): passing one to a registered function or
    to ``get`` raises :class:`ConfigError` with that fix instead of a raw ``TypeError``.

    ``call(function, args, kwargs)``, when given, runs every call of a registered function (the family's shared
    rules: the losses' ``validate=`` keyword and low precision); ``common_params`` (name → default) are the keywords
    it takes for every function of the family, accepted by ``get`` too.
    """

    def __init__(self, family: str, spec_type: type[S], default_factory: Callable[..., Any] | None = None,
                 refused: Mapping[str, str] | None = None,
                 call: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None,
                 common_params: Mapping[str, Any] | None = None):
        self.family = family
        self.spec_type = spec_type
        self.default_factory = default_factory
        self.refused: Mapping[str, str] = MappingProxyType(dict(refused or {}))
        self.call = call
        self.common_params: Mapping[str, Any] = MappingProxyType(dict(common_params or {}))
        self._entries: dict[str, _Entry[S]] = {}
        self._aliases: dict[str, str] = {}

    # -- declaring -------------------------------------------------------------------------------------------
    def register(
        self,
        *,
        factory: Callable[..., Any] | None = None,
        factory_params: tuple[str, ...] = (),
        **facts: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator that declares a function and its spec. ``facts`` are the spec's fields.

        ``factory_params`` names options that only the object accepts (``learnable=True`` of ``get("silu")``).
        """

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            name = facts.pop("name", function.__name__)
            params = facts.pop("params", None)
            spec = self.spec_type(
                name=name,
                family=self.family,
                params=_signature_params(function) if params is None else params,
                **facts,
            )
            function = self._guarded(function)
            self.add(spec, function, factory=factory, factory_params=factory_params)
            return function

        return decorate

    def _guarded(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` behind the family's ``call`` and the check of the refused keywords (nothing if neither)."""
        if not self.refused and self.call is None:
            return function
        refused, hook = self.refused, self.call

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs and refused:
                self._refuse(kwargs, refused)
            return function(*args, **kwargs) if hook is None else hook(function, args, kwargs)

        return call

    def _refuse(self, params: Mapping[str, Any], refused: Mapping[str, str] | None = None) -> None:
        for key, fix in (refused if refused is not None else self.refused).items():
            if key in params:
                raise problem(ConfigError, key, f"not to be passed to a {self.family}", f"{key}={params[key]!r}", fix)

    def add(
        self,
        spec: S,
        function: Callable[..., Any],
        *,
        factory: Callable[..., Any] | None = None,
        factory_params: tuple[str, ...] = (),
    ) -> None:
        """Add one function and its spec. Names and aliases must be new."""
        for key in (spec.name, *spec.aliases):
            if key in self._entries or key in self._aliases:
                raise ConfigError(f"{self.family} name `{key}` is registered twice")
            if key != normalize_name(key):
                raise ConfigError(f"{self.family} name `{key}` is not snake_case")
        self._entries[spec.name] = _Entry(spec, function, factory or self.default_factory, factory_params)
        for alias in spec.aliases:
            self._aliases[alias] = spec.name

    @property
    def package(self) -> str:
        """The package that exports this registry: ``almanac.losses`` for the ``loss`` family."""
        return f"almanac.{self.family}{'es' if self.family.endswith('s') else 's'}"

    # -- looking up ------------------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """The canonical name of ``name`` or an alias of it; raises :class:`UnknownNameError` otherwise."""
        if not isinstance(name, str):
            raise UnknownNameError(f"expected a {self.family} name (a string), got {type(name).__name__}")
        key = normalize_name(name)
        if key in self._entries:
            return key
        if key in self._aliases:
            return self._aliases[key]
        close = difflib.get_close_matches(key, [*self._entries, *self._aliases], n=4, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "none is close"
        raise UnknownNameError(
            f"unknown {self.family} {name!r} — {hint} See {self.package}.names() for all "
            f"{len(self._entries)} names"
        )

    def spec(self, name: str) -> S:
        return self._entries[self.resolve(name)].spec

    def function(self, name: str) -> Callable[..., Any]:
        return self._entries[self.resolve(name)].function

    def names(self) -> list[str]:
        return sorted(self._entries)

    def specs(self) -> list[S]:
        return [self._entries[n].spec for n in self.names()]

    def get(self, name: str, **params: Any) -> Any:
        """Build the object of ``name`` with ``params``; unknown parameters raise :class:`ConfigError`."""
        entry = self._entries[self.resolve(name)]
        self._refuse(params)
        allowed = (*entry.spec.params, *entry.factory_params, *self.common_params)
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ConfigError(
                f"expected parameters of {self.family} `{entry.spec.name}` among {list(allowed) or 'none'}, "
                f"got {unknown} — see {self.package}.spec({entry.spec.name!r}).params"
            )
        if entry.factory is None:
            raise ConfigError(f"{self.family} `{entry.spec.name}` has no object form")
        return entry.factory(entry.spec.name, **params)

    def __contains__(self, name: object) -> bool:
        try:
            self.resolve(name)  # type: ignore[arg-type]
        except UnknownNameError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
