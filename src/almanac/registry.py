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

from almanac._docstring import render
from almanac.errors import ConfigError, UnknownNameError, problem

__all__ = [
    "TASKS",
    "ActivationSpec",
    "LossSpec",
    "MetricSpec",
    "Param",
    "Registry",
    "Spec",
    "boolean",
    "choice",
    "instance",
    "integer",
    "normalize_name",
    "per_class",
    "real",
]

TASKS = ("binary", "multiclass", "multilabel", "regression", "segmentation", "adversarial")
PLACEMENTS = ("hidden", "output")
LOSS_EXPECTS = ("logits", "probabilities", "values", "critic_scores")
LOSS_TARGETS = ("class_indices", "binary", "multi_hot", "soft_labels", "real", "mask")
# What a loss applies to its input before comparing it with the target: "softmax" over the class dimension,
# "sigmoid" per unit, "margin" (raw scores against ±1 labels), "exp" (log-rates), or "none".
LOSS_NORMALIZATIONS = ("softmax", "sigmoid", "margin", "exp", "none")
METRIC_NEEDS = ("labels", "scores", "probabilities", "values")


@dataclass(frozen=True)
class Param:
    """The constraint of one hyperparameter, declared with its function (like scikit-learn's ``validate_params``).

    ``kind``: ``"real"`` / ``"integer"`` (in the interval ``low..high``, ends open or closed), ``"bool"``,
    ``"choice"`` (one of ``choices``), ``"per_class"`` (a 1-d sequence or tensor of finite non-negative numbers, one
    per class; with ``number=True`` a single one too), ``"instance"`` (of ``types``). ``optional``: None allowed.
    ``tensor``: a floating tensor allowed as well (a learnable value). Build them with :func:`real`, :func:`integer`,
    :func:`boolean`, :func:`choice`, :func:`per_class`, :func:`instance`.
    """

    kind: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    types: tuple[type, ...] = ()
    optional: bool = False
    tensor: bool = False
    number: bool = False

    def check(self, value: Any, name: str) -> None:
        """Raise :class:`ConfigError` unless ``value`` satisfies the constraint."""
        from almanac import _checks  # registry is imported by _checks' users; keep the import lazy and acyclic

        if value is None and self.optional:
            return
        if self.tensor and _checks.is_tensor(value):
            _checks.check_floating(value, name)
            return
        if self.kind in ("real", "integer"):
            _checks.check_number(value, name, low=self.low, high=self.high, low_open=self.low_open,
                                 high_open=self.high_open, integer=self.kind == "integer")
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise problem(ConfigError, name, "to be True or False", repr(value), f"pass {name}=True or False")
        elif self.kind == "choice":
            _checks.check_choice(value, name, self.choices)
        elif self.kind == "per_class":
            _checks.check_per_class(value, name, number=self.number)
        elif self.kind == "instance" and not isinstance(value, self.types):
            kinds = " or ".join(t.__name__ for t in self.types)
            raise problem(ConfigError, name, f"to be a {kinds}{' or None' if self.optional else ''}",
                          type(value).__name__, f"pass a {kinds}")

    def describe(self) -> str:
        """The constraint in words, for docs and messages."""
        if self.kind in ("real", "integer"):
            what = "a number" if self.kind == "real" else "an integer"
            if (self.low, self.high) != (-math.inf, math.inf):
                left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
                what += f" in {left}{self.low:g}, {self.high:g}{right}"
        elif self.kind == "bool":
            what = "True or False"
        elif self.kind == "choice":
            what = "one of " + ", ".join(map(repr, self.choices))
        elif self.kind == "per_class":
            what = "one non-negative number per class" + (" (or one number)" if self.number else "")
        else:
            what = "a " + " or ".join(t.__name__ for t in self.types)
        return what + (" or None" if self.optional else "") + (" or a tensor" if self.tensor else "")

    def invalid(self) -> tuple[Any, ...]:
        """Values that break the constraint (for the generic tests)."""
        bad: list[Any] = ["text", [1, "a"]] if self.kind != "choice" else ["no-such-choice", 3]
        if self.kind in ("real", "integer"):
            bad += [True, float("nan")]
            if self.low > -math.inf:
                bad.append(self.low - 1 if self.kind == "integer" else self.low - 1.0)
                if self.low_open:
                    bad.append(self.low)
            if self.high < math.inf:
                bad.append(self.high + 1)
            if self.kind == "integer":
                bad.append(1.5)
        elif self.kind == "bool":
            bad += [1, "yes"]
        elif self.kind == "per_class":
            bad += [[[1.0, 2.0]], [1.0, -1.0], [1.0, float("inf")]]
            if not self.number:
                bad.append(2.0)
        if not self.optional:
            bad.append(None)
        return tuple(bad)


def real(low: float = -math.inf, high: float = math.inf, *, low_open: bool = False, high_open: bool = False,
         optional: bool = False, tensor: bool = False) -> Param:
    """A real number in the interval (ends closed unless ``*_open``); an infinite end is always open."""
    return Param("real", low, high, low_open or low == -math.inf, high_open or high == math.inf, optional=optional,
                 tensor=tensor)


def integer(low: float = -math.inf, high: float = math.inf, *, optional: bool = False) -> Param:
    """An integer in [low, high]."""
    return Param("integer", low, high, optional=optional)


def boolean() -> Param:
    """True or False."""
    return Param("bool")


def choice(*choices: Any) -> Param:
    """One of ``choices``."""
    return Param("choice", choices=choices)


def per_class(*, number: bool = False, optional: bool = True) -> Param:
    """A 1-d sequence or tensor of finite non-negative numbers, one per class (``number``: or one number)."""
    return Param("per_class", optional=optional, number=number)


def instance(*types: type, optional: bool = True) -> Param:
    """An instance of one of ``types``."""
    return Param("instance", types=types, optional=optional)


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
    constraints: Mapping[str, Param] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "constraints", MappingProxyType(dict(self.constraints)))
        unknown = set(self.constraints) - set(self.params)
        if unknown:
            raise ConfigError(f"spec `{self.name}`: constraints on {sorted(unknown)}, which are not parameters")

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Raise :class:`ConfigError` for a value in ``params`` that breaks its declared constraint."""
        constraints = self.constraints
        for key, value in params.items():
            rule = constraints.get(key)
            if rule is not None:
                rule.check(value, key)


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
    rules: Callable[[Mapping[str, Any]], None] | None
    unchecked: Callable[..., Any]  # ``function`` without the checks of its keywords (``function`` itself if none)


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

    ``require_constraints``: every hyperparameter must declare its :class:`Param` constraint.

    ``call(function, args, kwargs)``, when given, runs every call of a registered function (the family's shared
    rules: the losses' ``validate=`` keyword and low precision); ``common_params`` (name → default) are the keywords
    it takes for every function of the family, accepted by ``get`` too.
    """

    def __init__(self, family: str, spec_type: type[S], default_factory: Callable[..., Any] | None = None,
                 refused: Mapping[str, str] | None = None,
                 call: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None,
                 common_params: Mapping[str, Any] | None = None, require_constraints: bool = False):
        self.family = family
        self.spec_type = spec_type
        self.default_factory = default_factory
        self.refused: Mapping[str, str] = MappingProxyType(dict(refused or {}))
        self.call = call
        self.common_params: Mapping[str, Any] = MappingProxyType(dict(common_params or {}))
        self.require_constraints = require_constraints
        self._entries: dict[str, _Entry[S]] = {}
        self._aliases: dict[str, str] = {}

    # -- declaring -------------------------------------------------------------------------------------------
    def register(
        self,
        *,
        factory: Callable[..., Any] | None = None,
        factory_params: tuple[str, ...] = (),
        rules: Callable[[Mapping[str, Any]], None] | None = None,
        **facts: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator that declares a function and its spec. ``facts`` are the spec's fields, ``constraints``
        (name → :class:`Param`) among them: one per hyperparameter, enforced by the registry in ``get`` and on every
        call of the returned function (the keywords passed; defaults are valid by construction).

        ``rules(params)`` checks what involves several parameters at once (all of them, defaults filled in).
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
            missing = [p for p in spec.params if p not in spec.constraints and p not in self.common_params]
            if self.require_constraints and missing:
                raise ConfigError(f"spec `{name}`: declare the constraints of {missing}")
            function.__doc__ = render(function.__doc__, spec)  # the formula and references from the spec
            guarded = self._guarded(function, spec, rules)
            self.add(spec, guarded, factory=factory, factory_params=factory_params, rules=rules,
                     unchecked=self._hooked(function))
            return guarded

        return decorate

    def _guarded(self, function: Callable[..., Any], spec: S,
                 rules: Callable[[Mapping[str, Any]], None] | None) -> Callable[..., Any]:
        """``function`` behind the checks of its keywords (refused ones, declared constraints, rules) and the
        family's ``call`` (nothing if none applies)."""
        if not self.refused and self.call is None and not spec.constraints and rules is None:
            return function
        refused, hook, defaults = self.refused, self.call, spec.params

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                if refused:
                    self._refuse(kwargs, refused)
                spec.check_params(kwargs)
                if rules is not None:
                    rules({**defaults, **kwargs})
            return function(*args, **kwargs) if hook is None else hook(function, args, kwargs)

        return call

    def _hooked(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` behind the family's ``call`` only: its keywords are not checked."""
        hook = self.call
        if hook is None:
            return function

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            return hook(function, args, kwargs)

        return call

    def check_params(self, name: str, params: Mapping[str, Any], bound: Mapping[str, Any] | None = None) -> None:
        """Check ``params`` of ``name`` against its declared constraints and rules (ConfigError); ``bound``: values
        already checked that ``params`` override, for the rules."""
        entry = self._entries[self.resolve(name)]
        self._refuse(params)
        entry.spec.check_params(params)
        if entry.rules is not None:
            entry.rules({**entry.spec.params, **(bound or {}), **params})

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
        rules: Callable[[Mapping[str, Any]], None] | None = None,
        unchecked: Callable[..., Any] | None = None,
    ) -> None:
        """Add one function and its spec. Names and aliases must be new. ``unchecked``: the function without the
        checks of its keywords (see :meth:`unchecked`), ``function`` itself if not given."""
        for key in (spec.name, *spec.aliases):
            if key in self._entries or key in self._aliases:
                raise ConfigError(f"{self.family} name `{key}` is registered twice")
            if key != normalize_name(key):
                raise ConfigError(f"{self.family} name `{key}` is not snake_case")
        self._entries[spec.name] = _Entry(spec, function, factory or self.default_factory, factory_params, rules,
                                          unchecked or function)
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

    def unchecked(self, name: str) -> Callable[..., Any]:
        """The function of ``name`` without the per-call checks of its keywords (the family's ``call`` kept), for
        an object that checked its bound parameters once, with :meth:`check_params`, when it was built."""
        return self._entries[self.resolve(name)].unchecked

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
        entry.spec.check_params(params)
        if entry.rules is not None:
            entry.rules({**entry.spec.params, **params})
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
