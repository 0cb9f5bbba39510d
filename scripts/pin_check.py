"""Pin check: does every version the stack will deploy exist upstream?

The pins are read from the stack's offline preview (what the program really registers,
wherever the value was defined), never from a list kept by hand:

* EKS add-ons (``aws:eks/addon:Addon``): name, version, and the cluster's Kubernetes
  version, checked with ``eks:DescribeAddonVersions`` (``kubernetesVersion`` filter);
* managed node groups (``aws:eks/nodeGroup:NodeGroup``): AMI type and release version,
  checked against the EKS optimized AMI public SSM parameters
  (``/aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/<arch>/<variant>/
  amazon-eks-node-al2023-<arch>-<variant>-<k8s>-v<date>/image_id``; the newest from
  ``.../recommended/release_version``);
* Karpenter ``EC2NodeClass`` AMI selector terms: ``al2023@v<date>`` aliases (same SSM
  parameters, for the architecture and GPU variant of the NodePools that use the class)
  and ``ssmParameter`` terms (the parameter must exist);
* Helm releases (``kubernetes:helm.sh/v3:Release``, ``kubernetes:helm.sh/v4:Chart``):
  chart and version in the repository's ``index.yaml`` over HTTPS (with a timeout), or,
  for ``oci://`` charts, in the registry's tag list (OCI distribution API
  ``/v2/<name>/tags/list``, with the registry's anonymous bearer-token challenge).

AMI types other than AL2023 (Bottlerocket, AL2, custom) are reported UNKNOWN "not
checkable here", never as passed. A source that cannot be asked (network, credentials,
permissions) gives UNREACHABLE "could not check" for the pins it serves.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError
from mlops_platform.core.gpu_catalog import GPU_INSTANCE_TYPES

from scripts.aws_session import Aws, describe_aws_error, error_code
from scripts.preflight import Check, Status

HTTP_TIMEOUT_S = 20.0
"""Seconds to wait for a chart repository or registry before it counts as unreachable."""
SSM_AMI_ROOT = "/aws/service/eks/optimized-ami"
AL2023_AMI_TYPES: dict[str, tuple[str, str]] = {
    "AL2023_x86_64_STANDARD": ("x86_64", "standard"),
    "AL2023_ARM_64_STANDARD": ("arm64", "standard"),
    "AL2023_x86_64_NVIDIA": ("x86_64", "nvidia"),
    "AL2023_ARM_64_NVIDIA": ("arm64", "nvidia"),
    "AL2023_x86_64_NEURON": ("x86_64", "neuron"),
}
"""Managed node group AMI types this check reads from SSM: (architecture, variant)."""
_K8S_ARCH = {"amd64": "x86_64", "arm64": "arm64"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SourceUnreachableError(Exception):
    """A pin source could not be asked; the message says which and why."""


@dataclass
class Pin:
    """One pinned version the stack deploys."""

    kind: str
    """``eks-addon``, ``node-ami``, ``karpenter-ami``, ``ssm-parameter`` or ``helm-chart``."""
    name: str
    version: str
    context: dict[str, str] = field(default_factory=dict)
    used_by: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
        """Identity for de-duplication (same pin used by several resources)."""
        return (self.kind, self.name, self.version, tuple(sorted(self.context.items())))

    @property
    def label(self) -> str:
        """The check's name in the report."""
        extra = {
            "eks-addon": f" (Kubernetes {self.context.get('kubernetes', '?')})",
            "node-ami": f" (Kubernetes {self.context.get('kubernetes', '?')})",
            "karpenter-ami": f" ({self.context.get('arch', '?')}/{self.context.get('variant')})",
            "helm-chart": f" ({self.context.get('repository', '?')})",
        }.get(self.kind, "")
        return f"pin {self.kind} {self.name} {self.version}{extra}"


# --- reading the pins from a preview --------------------------------------------------------


def _release_parts(release: str) -> tuple[str, str] | None:
    """``1.34.2-20260129`` -> (``1.34.2``, ``20260129``); None when not in that form."""
    match = re.fullmatch(r"(\d+\.\d+\.\d+)-(\d{8})", release)
    return (match.group(1), match.group(2)) if match else None


def _minor(version: str) -> str:
    return ".".join(str(version).split(".")[:2])


def pins_from_resources(resources: Iterable[Mapping[str, Any]]) -> list[Pin]:
    """Every pin in a preview's resources (``preview --format json`` ``resources``)."""
    resources = list(resources)
    clusters = {
        str(r["inputs"].get("name")): str(r["inputs"].get("version", ""))
        for r in resources
        if r["type"] == "aws:eks/cluster:Cluster"
    }
    default_k8s = next(iter(clusters.values())) if len(clusters) == 1 else ""
    pins: dict[Any, Pin] = {}

    def add(pin: Pin, user: str) -> None:
        found = pins.setdefault(pin.key, pin)
        if user not in found.used_by:
            found.used_by.append(user)

    node_pools = [r for r in resources if r["type"] == "kubernetes:karpenter.sh/v1:NodePool"]
    for r in resources:
        inputs, name = r.get("inputs") or {}, r["name"]
        kind = r["type"]
        if kind == "aws:eks/addon:Addon":
            k8s = clusters.get(str(inputs.get("clusterName")), default_k8s)
            add(
                Pin(
                    "eks-addon",
                    str(inputs.get("addonName")),
                    str(inputs.get("addonVersion") or ""),
                    {"kubernetes": _minor(k8s)},
                ),
                name,
            )
        elif kind == "aws:eks/nodeGroup:NodeGroup" and inputs.get("releaseVersion"):
            k8s = inputs.get("version") or clusters.get(str(inputs.get("clusterName")), default_k8s)
            context = {"kubernetes": _minor(str(k8s)), "ami_type": str(inputs.get("amiType"))}
            add(Pin("node-ami", context["ami_type"], str(inputs["releaseVersion"]), context), name)
        elif kind == "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass":
            for pin in _node_class_pins(inputs, node_pools, default_k8s):
                add(pin, name)
        elif kind in {"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"}:
            chart = str(inputs.get("chart") or "")
            repo = str((inputs.get("repositoryOpts") or {}).get("repo") or "")
            if chart.startswith("oci://"):
                repo, _, chart = chart.rpartition("/")
            add(
                Pin("helm-chart", chart, str(inputs.get("version") or ""), {"repository": repo}),
                name,
            )
    return sorted(pins.values(), key=lambda p: p.label)


def _node_class_pins(
    inputs: Mapping[str, Any], node_pools: list[Mapping[str, Any]], k8s: str
) -> list[Pin]:
    spec = inputs.get("spec") or {}
    class_name = str((inputs.get("metadata") or {}).get("name", ""))
    targets = sorted(_arch_variants(class_name, node_pools)) or [("x86_64", "standard")]
    pins = []
    for term in spec.get("amiSelectorTerms") or []:
        if term.get("alias"):
            family, _, version = str(term["alias"]).partition("@")
            for arch, variant in targets:
                context = {"kubernetes": _minor(k8s), "arch": arch, "variant": variant}
                context["family"] = family
                pins.append(Pin("karpenter-ami", str(term["alias"]), version, context))
        elif term.get("ssmParameter"):
            pins.append(Pin("ssm-parameter", str(term["ssmParameter"]), "", {}))
    return pins


def _arch_variants(class_name: str, node_pools: list[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(arch, variant) pairs the NodePools using ``class_name`` can launch."""
    found: set[tuple[str, str]] = set()
    for pool in node_pools:
        template = ((pool.get("inputs") or {}).get("spec") or {}).get("template") or {}
        spec = template.get("spec") or {}
        if (spec.get("nodeClassRef") or {}).get("name") != class_name:
            continue
        requirements = {
            req.get("key"): list(req.get("values") or [])
            for req in spec.get("requirements") or []
            if req.get("operator") == "In"
        }
        types = requirements.get("node.kubernetes.io/instance-type", [])
        gpu = bool(types) and all(t in GPU_INSTANCE_TYPES for t in types)
        for arch in requirements.get("kubernetes.io/arch", ["amd64"]):
            found.add((_K8S_ARCH.get(str(arch), str(arch)), "nvidia" if gpu else "standard"))
    return found


# --- versions --------------------------------------------------------------------------------


def version_key(version: str) -> tuple[tuple[int, ...], bool, int]:
    """Sort key: numeric core, stable after pre-release, then the ``eksbuild`` number."""
    text = version.removeprefix("v")
    core, _, rest = text.partition("-")
    numbers = tuple(int(part) if part.isdigit() else 0 for part in core.split("+")[0].split("."))
    build = re.search(r"eksbuild\.(\d+)$", rest)
    prerelease = bool(rest) and build is None
    return numbers, not prerelease, int(build.group(1)) if build else 0


def newest(versions: Iterable[str]) -> str:
    """The newest stable version ('' when there is none); pre-releases only if nothing else."""
    ordered = sorted(set(versions), key=version_key)
    stable = [v for v in ordered if version_key(v)[1]]
    return (stable or ordered or [""])[-1]


# --- the sources ------------------------------------------------------------------------------


def _unreachable(exc: BaseException, what: str) -> SourceUnreachableError:
    described = describe_aws_error(exc) or f"{type(exc).__name__}: {exc}"
    return SourceUnreachableError(f"{what}: {described}")


class AwsSources:
    """EKS add-on versions and SSM public parameters, cached per question."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._addons: dict[tuple[str, str], list[str]] = {}
        self._params: dict[str, str | None] = {}

    @property
    def addons(self) -> dict[tuple[str, str], list[str]]:
        """Every add-on answer so far, by (name, Kubernetes version)."""
        return dict(self._addons)

    @property
    def parameters(self) -> dict[str, str | None]:
        """Every SSM parameter asked for so far (None: it does not exist)."""
        return dict(self._params)

    def addon_versions(self, name: str, kubernetes: str) -> list[str]:
        """Versions of add-on ``name`` for ``kubernetes`` (empty when EKS has no such add-on)."""
        key = (name, kubernetes)
        if key not in self._addons:
            versions: list[str] = []
            try:
                paginator = self.aws.client("eks").get_paginator("describe_addon_versions")
                for page in paginator.paginate(addonName=name, kubernetesVersion=kubernetes):
                    for addon in page.get("addons", []):
                        if addon.get("addonName") == name:
                            versions += [v["addonVersion"] for v in addon.get("addonVersions", [])]
            except ClientError as exc:
                if error_code(exc) not in {"ResourceNotFoundException"}:
                    raise _unreachable(exc, "eks:DescribeAddonVersions") from None
            except BotoCoreError as exc:
                raise _unreachable(exc, "eks:DescribeAddonVersions") from None
            self._addons[key] = versions
        return self._addons[key]

    def parameter(self, name: str) -> str | None:
        """The value of SSM parameter ``name``; None when it does not exist."""
        if name not in self._params:
            try:
                value = self.aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
                self._params[name] = str(value)
            except ClientError as exc:
                if error_code(exc) != "ParameterNotFound":
                    raise _unreachable(exc, f"ssm:GetParameter {name}") from None
                self._params[name] = None
            except BotoCoreError as exc:
                raise _unreachable(exc, f"ssm:GetParameter {name}") from None
        return self._params[name]


def map_url(url: str, mapping: Mapping[str, str]) -> str:
    """``url`` with the longest matching ``mapping`` prefix replaced (for mirrors and tests)."""
    for prefix in sorted(mapping, key=len, reverse=True):
        if url == prefix or url.startswith(prefix.rstrip("/") + "/"):
            return mapping[prefix].rstrip("/") + url[len(prefix.rstrip("/")) :]
    return url


def _require_https(url: str) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in _LOOPBACK):
        return
    raise SourceUnreachableError(f"{url}: only https:// sources are asked (http only on loopback)")


def _found(url: str, status: int) -> bool:
    """True when ``url`` answered 200, False on 404 (nothing there); any other answer means
    the source could not be asked."""
    if status not in (200, 404):
        raise SourceUnreachableError(f"{url} answered HTTP {status}")
    return status == 200


def _chart_index(url: str, body: bytes) -> dict[str, list[str]]:
    """``{chart: [versions]}`` of the chart repository index ``url`` answered."""
    try:
        document = yaml.safe_load(body) or {}
    except yaml.YAMLError as exc:
        raise SourceUnreachableError(f"{url} is not a chart index: {exc}") from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise SourceUnreachableError(f"{url} is not a chart index (no 'entries')")
    return {
        str(chart): [str(e.get("version")) for e in items or [] if e.get("version")]
        for chart, items in entries.items()
    }


def _tag_list(url: str, body: bytes) -> list[str]:
    """The tags of the OCI tag list ``url`` answered (``_`` back to ``+``)."""
    try:
        tags = json.loads(body).get("tags") or []
    except (ValueError, AttributeError):
        raise SourceUnreachableError(f"{url} did not answer a tag list") from None
    return [str(t).replace("_", "+") for t in tags]


class HttpSources:
    """Chart repository indexes and OCI registry tags over HTTP(S), cached per URL."""

    def __init__(self, mapping: Mapping[str, str], timeout: float = HTTP_TIMEOUT_S) -> None:
        self.mapping = dict(mapping)
        self.timeout = timeout
        self._indexes: dict[str, dict[str, list[str]] | None] = {}
        self._tags: dict[str, list[str] | None] = {}

    def _get(self, url: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any, bytes]:
        _require_https(url)
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, headers={"User-Agent": "mlops-preflight", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, b""
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceUnreachableError(f"cannot reach {url}: {reason}") from None

    @property
    def indexes(self) -> dict[str, dict[str, list[str]] | None]:
        """Every chart index read so far, by repository URL (None: it has none)."""
        return dict(self._indexes)

    @property
    def tags(self) -> dict[str, list[str] | None]:
        """Every OCI tag list read so far, by ``oci://`` reference (None: none there)."""
        return dict(self._tags)

    def chart_versions(self, repository: str) -> dict[str, list[str]] | None:
        """``{chart: [versions]}`` of a repository's ``index.yaml``; None when it has none."""
        if repository not in self._indexes:
            url = map_url(repository, self.mapping).rstrip("/") + "/index.yaml"
            status, _, body = self._get(url)
            self._indexes[repository] = _chart_index(url, body) if _found(url, status) else None
        return self._indexes[repository]

    def oci_tags(self, reference: str) -> list[str] | None:
        """Tags of ``oci://host/path/chart`` (``_`` back to ``+``); None when it has none."""
        if reference not in self._tags:
            host, _, name = reference.removeprefix("oci://").partition("/")
            base = map_url(f"oci://{host}", self.mapping)
            if base.startswith("oci://"):
                base = f"https://{host}"
            url = f"{base.rstrip('/')}/v2/{name}/tags/list"
            status, headers, body = self._get(url)
            if status == 401:
                token = self._token(headers.get("WWW-Authenticate", "") if headers else "", name)
                status, headers, body = self._get(url, {"Authorization": f"Bearer {token}"})
            self._tags[reference] = _tag_list(url, body) if _found(url, status) else None
        return self._tags[reference]

    def _token(self, challenge: str, name: str) -> str:
        """An anonymous pull token from the registry's ``Bearer realm=...`` challenge."""
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = fields.get("realm")
        if not challenge.lower().startswith("bearer") or not realm:
            raise SourceUnreachableError(
                f"the registry asks for credentials: {challenge or 'none'}"
            )
        query = {"service": fields.get("service", ""), "scope": fields.get("scope", "")}
        query["scope"] = query["scope"] or f"repository:{name}:pull"
        url = f"{realm}?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}"
        status, _, body = self._get(url)
        if status != 200:
            raise SourceUnreachableError(f"no anonymous token from {realm} (HTTP {status})")
        try:
            document = json.loads(body)
        except ValueError:
            raise SourceUnreachableError(f"{realm} did not answer a token") from None
        return str(document.get("token") or document.get("access_token") or "")


# --- the verdicts -----------------------------------------------------------------------------


class PinChecker:
    """Checks each pin against its source; one :class:`Check` per pin."""

    def __init__(self, aws: AwsSources, http: HttpSources) -> None:
        self.aws = aws
        self.http = http

    def check(self, pin: Pin) -> Check:
        """The verdict for one pin (UNREACHABLE when its source could not be asked)."""
        if not pin.version:
            return self._fail(pin, "no version pinned: the latest would float", "pin a version")
        try:
            return {
                "eks-addon": self._addon,
                "node-ami": self._node_ami,
                "karpenter-ami": self._karpenter_ami,
                "ssm-parameter": self._ssm_parameter,
                "helm-chart": self._chart,
            }[pin.kind](pin)
        except SourceUnreachableError as exc:
            return Check(
                pin.label,
                Status.UNREACHABLE,
                f"could not check: {exc}",
                "run again where the source is reachable (network, credentials, permissions)",
            )

    @staticmethod
    def _where(pin: Pin) -> str:
        return ", ".join(pin.used_by)

    def _pass(self, pin: Pin, detail: str) -> Check:
        return Check(pin.label, Status.PASS, detail)

    def _fail(self, pin: Pin, detail: str, fix: str) -> Check:
        return Check(pin.label, Status.FAIL, detail, f"{fix} (used by {self._where(pin)})")

    def _addon(self, pin: Pin) -> Check:
        k8s = pin.context["kubernetes"]
        versions = self.aws.addon_versions(pin.name, k8s)
        if pin.version in versions:
            return self._pass(pin, f"offered for Kubernetes {k8s}; newest {newest(versions)}")
        if not versions:
            return self._fail(
                pin, f"EKS offers no add-on {pin.name} for Kubernetes {k8s}", "check the name"
            )
        best = newest(versions)
        return self._fail(
            pin,
            f"{pin.version} is not offered for Kubernetes {k8s}; newest valid: {best}",
            f"pin {best}",
        )

    def _al2023(self, pin: Pin, arch: str, variant: str, date: str, patch: str = "") -> Check:
        k8s = pin.context["kubernetes"]
        base = f"{SSM_AMI_ROOT}/{k8s}/amazon-linux-2023/{arch}/{variant}"
        image = f"amazon-eks-node-al2023-{arch}-{variant}-{k8s}-v{date}"
        recommended = self.aws.parameter(f"{base}/recommended/release_version") or ""
        exists = self.aws.parameter(f"{base}/{image}/image_id") is not None
        if exists and patch and recommended.endswith(f"-{date}"):
            exists = recommended == f"{patch}-{date}"  # the one release SSM names in full
        if exists:
            note = f"; newest {recommended}" if recommended else ""
            return self._pass(pin, f"release v{date} published ({image}){note}")
        newest_text = recommended or "unknown (no recommended release for this type)"
        fix = f"pin {recommended}" if recommended else "pin a published release"
        if recommended and pin.kind == "karpenter-ami":
            fix = f"pin al2023@v{recommended.rpartition('-')[2]} (release {recommended})"
        return self._fail(
            pin,
            f"no published release {pin.version} for Kubernetes {k8s} {arch}/{variant} "
            f"(SSM has no {image}); newest valid: {newest_text}",
            fix,
        )

    def _node_ami(self, pin: Pin) -> Check:
        ami_type = pin.context["ami_type"]
        if ami_type not in AL2023_AMI_TYPES:
            return Check(
                pin.label,
                Status.UNKNOWN,
                f"not checkable here: only AL2023 AMI types are read from SSM, not {ami_type}",
                "check the release in the EKS AMI release notes by hand",
            )
        parts = _release_parts(pin.version)
        k8s = pin.context["kubernetes"]
        if parts is None or _minor(parts[0]) != k8s:
            return self._fail(
                pin,
                f"{pin.version} is not an AL2023 release for Kubernetes {k8s} "
                f"(expected {k8s}.<patch>-<YYYYMMDD>)",
                "pin a release of the cluster's Kubernetes version",
            )
        arch, variant = AL2023_AMI_TYPES[ami_type]
        return self._al2023(pin, arch, variant, parts[1], parts[0])

    def _karpenter_ami(self, pin: Pin) -> Check:
        family = pin.context.get("family", "")
        if family != "al2023":
            return Check(
                pin.label,
                Status.UNKNOWN,
                f"not checkable here: only al2023 aliases are read from SSM, not {family}",
                "check the alias in the AMI family's release notes by hand",
            )
        if not re.fullmatch(r"v\d{8}", pin.version):
            return self._fail(
                pin,
                f"alias version {pin.version!r} is not a pinned release (v<YYYYMMDD>)",
                "pin the release the managed node groups use",
            )
        arch, variant = pin.context["arch"], pin.context["variant"]
        return self._al2023(pin, arch, variant, pin.version.removeprefix("v"))

    def _ssm_parameter(self, pin: Pin) -> Check:
        if self.aws.parameter(pin.name) is None:
            return self._fail(pin, f"SSM parameter {pin.name} does not exist", "fix the name")
        return self._pass(pin, "the parameter exists")

    def _chart(self, pin: Pin) -> Check:
        repository = pin.context["repository"]
        if repository.startswith("oci://"):
            reference = f"{repository.rstrip('/')}/{pin.name}"
            versions = self.http.oci_tags(reference)
            where = f"registry tags of {reference}"
        else:
            index = self.http.chart_versions(repository)
            versions = None if index is None else index.get(pin.name, [])
            where = f"{repository}/index.yaml"
        if versions is None:
            return self._fail(pin, f"no chart repository at {repository}", "fix the repository")
        if pin.version in versions:
            return self._pass(pin, f"in {where}; newest {newest(versions)}")
        if not versions:
            return self._fail(pin, f"{where} has no chart {pin.name}", "fix the chart name")
        best = newest(versions)
        return self._fail(
            pin, f"{pin.version} is not in {where}; newest valid: {best}", f"pin {best}"
        )


def check_pins(
    pins: list[Pin],
    aws: Aws,
    mapping: Mapping[str, str],
    timeout: float,
    record: Path | None = None,
) -> list[Check]:
    """One verdict per pin, in the pins' order; with ``record``, what the sources answered
    is merged into that fixture file (the tests' recorded upstream answers)."""
    checker = PinChecker(AwsSources(aws), HttpSources(mapping, timeout))
    checks = [checker.check(pin) for pin in pins]
    if record is not None:
        record_answers(record, pins, checks, checker)
    return checks


def record_answers(path: Path, pins: list[Pin], checks: list[Check], checker: PinChecker) -> None:
    """Merge the answers behind ``checks`` into the fixture at ``path`` (created if absent).

    Add-on version lists, chart versions and OCI tags replace the recorded ones (each answer
    is complete); AMI releases are added to what is recorded, since SSM names only the
    releases asked for (each passing pin's own and the recommended one).
    """
    try:
        fixture = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the fixture {path}: {exc}") from None
    addons = fixture.setdefault("eksAddonVersions", {})
    for (name, k8s), versions in checker.aws.addons.items():
        if versions:
            addons.setdefault(k8s, {})[name] = versions
    releases = fixture.setdefault("amiReleases", {})

    def add_release(where: str, release: str) -> None:
        known = releases.setdefault(where, [])
        if release not in known:
            known.append(release)
            known.sort(key=lambda r: r.rpartition("-")[2])

    for name, value in checker.aws.parameters.items():
        if name.endswith("/recommended/release_version") and value:
            k8s, _, arch, variant = name.removeprefix(SSM_AMI_ROOT + "/").split("/")[:4]
            add_release(f"{k8s}/{arch}/{variant}", value)
    for pin, check in zip(pins, checks, strict=True):
        if pin.kind == "node-ami" and check.status is Status.PASS:
            arch, variant = AL2023_AMI_TYPES[pin.context["ami_type"]]
            add_release(f"{pin.context['kubernetes']}/{arch}/{variant}", pin.version)
    wanted = {(p.context.get("repository"), p.name) for p in pins if p.kind == "helm-chart"}
    indexes = fixture.setdefault("chartIndexes", {})
    for repository, index in checker.http.indexes.items():
        for chart, versions in (index or {}).items():
            if (repository, chart) in wanted:
                indexes.setdefault(repository, {})[chart] = versions
    fixture.setdefault("ociTags", {}).update(
        {ref: tags for ref, tags in checker.http.tags.items() if tags is not None}
    )
    try:
        path.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot write the fixture {path}: {exc.strerror or exc}") from None


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``FROM=TO`` options into a mapping; ValueError naming the bad item."""
    mapping = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source or not target:
            raise ValueError(
                f"{item!r} is not FROM=TO (e.g. https://charts.example=http://127.0.0.1:8080)"
            )
        mapping[source.rstrip("/")] = target
    return mapping
