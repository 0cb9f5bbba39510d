"""What a check sees: one resource (:class:`Subject`) or the whole stack
(:class:`StackContext`), its inputs always read through :mod:`rules.read`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, proxy
from pulumi_policy.proxy import UnknownValueError

from rules import read
from rules.read import Node


@dataclass
class Subject:
    """What a resource check sees: the resource's type, inputs (a :class:`read.Node`), URN,
    name, options and provider (its inputs a node too)."""

    resource_type: str
    props: Node
    urn: str
    name: str
    opts: Any
    provider: Any = None


def unproxy(value: Any) -> Any:
    """Plain values from ``pulumi_policy``'s unknown-checking proxies (sentinels kept)."""
    if isinstance(value, proxy._DictProxy):  # pyright: ignore[reportPrivateUsage]
        return {k: unproxy(v) for k, v in value["__target"].items()}
    if isinstance(value, proxy._ListProxy):  # pyright: ignore[reportPrivateUsage]
        return [unproxy(v) for v in value["__target"]]
    if isinstance(value, Mapping):
        return {k: unproxy(value[k]) for k in value}
    return value


def inputs(resource: PolicyResource) -> Node:
    """A stack resource's inputs as the reading layer's node (the pack builds every
    ``PolicyResource`` it hands to stack rules with a :class:`read.Node`)."""
    props: Any = resource.props
    return props if isinstance(props, Node) else read.root(unproxy(props), resource.urn)


class StackContext:
    """What a stack check sees: the resources (inputs as :class:`read.Node`), lookups, and
    an unknown-value guard."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)
        self.unknowns: list[UnknownValueError] = []
        self._by_type: dict[str, list[PolicyResource]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.resource_type, []).append(r)

    def of_type(self, *types: str) -> list[PolicyResource]:
        """Resources of any of ``types``."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], []))
        wanted = set(types)
        return [r for r in self.resources if r.resource_type in wanted]

    def matching(self, predicate: Callable[[str], bool]) -> list[PolicyResource]:
        """Resources whose type satisfies ``predicate``."""
        return [r for t, rs in self._by_type.items() if predicate(t) for r in rs]

    def per_resource(
        self,
        resources: Iterable[PolicyResource],
        check: Callable[[PolicyResource], Iterable[tuple[str | None, str]]],
    ) -> Iterator[tuple[str | None, str]]:
        """``check`` for each resource; a resource whose check meets an unknown value (in a
        preview) is skipped (remembered), so an unknown never turns into a violation."""
        for resource in resources:
            try:
                found = list(check(resource))
            except UnknownValueError as exc:
                self.unknowns.append(exc)
                continue
            except read.UnknownInUpdate:
                continue  # recorded as a reading problem on that resource
            yield from found

    def guard(self, fn: Callable[[], Any], default: Any = None) -> Any:
        """``fn()``, or ``default`` when it touches an unknown value in a preview
        (remembered)."""
        try:
            return fn()
        except UnknownValueError as exc:
            self.unknowns.append(exc)
            return default
        except read.UnknownInUpdate:
            return default  # recorded as a reading problem on that resource

    def read(self, resource: PolicyResource, *path: str | int) -> Any:
        """The text at ``path`` of a resource's inputs (``"metadata", "name"``), or None
        when it is absent or unknown in a preview (remembered)."""
        return self.guard(lambda: inputs(resource).at(*path).text())

    def linked(
        self,
        target: PolicyResource,
        candidates: Iterable[PolicyResource],
        prop: str,
        target_props: Sequence[str] = (),
    ) -> list[PolicyResource]:
        """Candidates whose ``prop`` refers to ``target``: by property dependency, or by
        value equal to one of the target's ``target_props`` inputs (e.g. its name)."""
        names = set()
        for key in target_props:
            value = self.guard(lambda key=key: target.props[key].text())
            if isinstance(value, str) and value:
                names.add(value)
        found = []
        for c in candidates:
            deps = c.property_dependencies.get(prop, [])
            if any(d.urn == target.urn for d in deps):
                found.append(c)
                continue
            if not names:
                continue
            value = self.guard(lambda c=c: c.props[prop].text())
            if isinstance(value, str) and value in names:
                found.append(c)
        return found
