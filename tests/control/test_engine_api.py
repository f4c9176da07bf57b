"""The real Engine and the control tests' FakeEngine both provide what control calls
(:class:`~distill_live.control.engine_api.EngineLike`): every member of the protocol, of the
same kind (method or property), with parameters of the same names, kinds and order, a default
wherever the protocol has one, and nothing extra that a protocol call could not fill. A change
to either side that makes them drift apart fails here, not in a live session."""

from __future__ import annotations

import inspect
from typing import Any, Protocol

import pytest

from distill_live.control.engine_api import EngineLike
from distill_live.engine.engine import Engine
from tests.control.helpers import FakeEngine


def _protocol_members(proto: type) -> dict[str, Any]:
    own = {n: v for n, v in vars(proto).items() if not n.startswith("_")}
    assert own, f"{proto.__name__} declares no members"
    return own


def _compatible(name: str, want: inspect.Signature, got: inspect.Signature) -> list[str]:
    """Why ``got`` cannot stand in for ``want`` (empty if it can)."""
    problems: list[str] = []
    w = [p for p in want.parameters.values() if p.name != "self"]
    g = [p for p in got.parameters.values() if p.name != "self"]
    for i, wp in enumerate(w):
        if i >= len(g):
            problems.append(f"{name}: lacks parameter {wp.name!r}")
            continue
        gp = g[i]
        if gp.name != wp.name and wp.kind is not inspect.Parameter.POSITIONAL_ONLY:
            problems.append(f"{name}: parameter {i + 1} is {gp.name!r}, the protocol's {wp.name!r}")
        if gp.kind is not wp.kind:
            problems.append(
                f"{name}: {gp.name!r} is {gp.kind.description}, not {wp.kind.description}"
            )
        if wp.default is not inspect.Parameter.empty and gp.default is inspect.Parameter.empty:
            problems.append(f"{name}: {gp.name!r} needs a default, as in the protocol")
    for gp in g[len(w) :]:
        if gp.default is inspect.Parameter.empty and gp.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            problems.append(f"{name}: extra parameter {gp.name!r} has no default")
    return problems


def _drift(proto: type, cls: type) -> list[str]:
    problems: list[str] = []
    for name, member in _protocol_members(proto).items():
        try:
            impl = inspect.getattr_static(cls, name)
        except AttributeError:
            problems.append(f"{name}: missing")
            continue
        if isinstance(member, property):
            if not isinstance(impl, property):
                problems.append(f"{name}: the protocol has a property, got {type(impl).__name__}")
            continue
        if not inspect.isfunction(impl):
            problems.append(f"{name}: the protocol has a method, got {type(impl).__name__}")
            continue
        problems += _compatible(name, inspect.signature(member), inspect.signature(impl))
    return problems


@pytest.mark.parametrize("cls", [Engine, FakeEngine], ids=lambda c: c.__name__)
def test_engine_and_fake_satisfy_engine_like(cls: type) -> None:
    assert _drift(EngineLike, cls) == []


def test_the_check_sees_a_drift() -> None:
    class Proto(Protocol):
        def set(self, name: str, value: object, source: str = ...) -> Any: ...

        @property
        def params(self) -> Any: ...

        def stats(self) -> Any: ...

    class Drifted:
        def set(self, param: str, value: object, source: str) -> Any: ...

        def params(self) -> Any: ...

    assert _drift(Proto, Drifted) == [
        "set: parameter 1 is 'param', the protocol's 'name'",
        "set: 'source' needs a default, as in the protocol",
        "params: the protocol has a property, got function",
        "stats: missing",
    ]


def _typed(engine: Engine, fake: FakeEngine) -> list[EngineLike]:
    """Never called: mypy checks here that both are structurally EngineLike."""
    return [engine, fake]


def test_runtime_checkable_isinstance() -> None:
    fake = FakeEngine()
    try:
        assert isinstance(fake, EngineLike)
        assert _typed.__name__ == "_typed"  # mypy checks its body: both are EngineLike
    finally:
        fake.close()
