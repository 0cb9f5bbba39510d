"""A local stand-in for the pin check's upstream sources, on 127.0.0.1 only.

moto (the AWS emulator used elsewhere) implements neither ``eks:DescribeAddonVersions``
nor the EKS optimized AMI public SSM parameters, so this server speaks those two APIs
itself, in their real wire protocols (EKS: REST-JSON ``GET /addons/supported-versions``;
SSM: JSON 1.1 ``POST /`` with ``X-Amz-Target: AmazonSSM.GetParameter``), plus Helm
repository ``index.yaml`` files and an OCI registry tag list behind a bearer-token
challenge. The answers come from ``fixtures/pin_sources.json`` (recorded upstream facts).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import yaml

FIXTURE = Path(__file__).parent / "fixtures" / "pin_sources.json"
SSM_ROOT = "/aws/service/eks/optimized-ami"
TOKEN = "fixture-pull-token"


def load_fixture() -> dict[str, Any]:
    """The recorded answers."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _release_key(release: str) -> tuple[int, ...]:
    patch, _, date = release.partition("-")
    return (int(date), *(int(p) for p in patch.split(".")))


def ssm_parameters(fixture: dict[str, Any]) -> dict[str, str]:
    """The public parameters the recorded AL2023 releases publish (per-release image IDs and
    the recommended release of each Kubernetes version, architecture and variant)."""
    params: dict[str, str] = {}
    for where, releases in fixture["amiReleases"].items():
        k8s, arch, variant = where.split("/")
        base = f"{SSM_ROOT}/{k8s}/amazon-linux-2023/{arch}/{variant}"
        for number, release in enumerate(sorted(releases, key=_release_key)):
            date = release.partition("-")[2]
            image = f"amazon-eks-node-al2023-{arch}-{variant}-{k8s}-v{date}"
            params[f"{base}/{image}/image_id"] = f"ami-{number:017x}"
        recommended = max(releases, key=_release_key)
        params[f"{base}/recommended/release_version"] = recommended
    return params


class _Handler(BaseHTTPRequestHandler):
    @property
    def state(self) -> _Server:
        """The server, with the fixture it serves."""
        return cast("_Server", self.server)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parsed = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        path = parsed.path
        self.state.requests.append(path)
        if path == "/addons/supported-versions":
            self._addons(query)
        elif path.startswith("/charts/") and path.endswith("/index.yaml"):
            self._index(path.split("/")[2])
        elif path == "/token":
            self._send(200, {"token": TOKEN})
        elif path.startswith("/v2/") and path.endswith("/tags/list"):
            self._tags(path.removeprefix("/v2/").removesuffix("/tags/list"))
        else:
            self._send(404, {"message": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        self.state.requests.append(target)
        if target != "AmazonSSM.GetParameter":
            self._send(400, {"__type": "UnknownOperationException", "message": target})
            return
        name = body.get("Name", "")
        value = self.state.parameters.get(name)
        if value is None:
            self._send(
                400,
                {"__type": "ParameterNotFound", "message": f"Parameter {name} not found."},
                "application/x-amz-json-1.1",
            )
            return
        parameter = {"Name": name, "Type": "String", "Value": value, "Version": 1}
        self._send(200, {"Parameter": parameter}, "application/x-amz-json-1.1")

    def _addons(self, query: dict[str, str]) -> None:
        name, k8s = query.get("addonName", ""), query.get("kubernetesVersion", "")
        versions = self.state.fixture["eksAddonVersions"].get(k8s, {}).get(name)
        addons = []
        if versions is not None:
            addons.append(
                {
                    "addonName": name,
                    "type": "networking",
                    "addonVersions": [
                        {
                            "addonVersion": version,
                            "architecture": ["amd64", "arm64"],
                            "compatibilities": [
                                {
                                    "clusterVersion": k8s,
                                    "platformVersions": ["*"],
                                    "defaultVersion": i == len(versions) - 1,
                                }
                            ],
                            "requiresConfiguration": False,
                        }
                        for i, version in enumerate(versions)
                    ],
                }
            )
        self._send(200, {"addons": addons})

    def _index(self, key: str) -> None:
        repositories = list(self.state.fixture["chartIndexes"].values())
        if not key.isdigit() or int(key) >= len(repositories):
            self._send(404, b"", "text/plain")
            return
        entries = {
            chart: [{"name": chart, "version": v, "apiVersion": "v2"} for v in versions]
            for chart, versions in repositories[int(key)].items()
        }
        text = yaml.safe_dump({"apiVersion": "v1", "entries": entries})
        self._send(200, text.encode(), "application/x-yaml")

    def _tags(self, name: str) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            realm = f"http://127.0.0.1:{self.state.server_address[1]}/token"
            challenge = f'Bearer realm="{realm}",service="fixture",scope="repository:{name}:pull"'
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        for reference, tags in self.state.fixture["ociTags"].items():
            if reference.split("/", 3)[3] == name:
                self._send(200, {"name": name, "tags": [t.replace("+", "_") for t in tags]})
                return
        self._send(404, {"errors": [{"code": "NAME_UNKNOWN"}]})


class _Server(ThreadingHTTPServer):
    fixture: dict[str, Any]
    parameters: dict[str, str]
    requests: list[str]


class PinSources:
    """A running server: its URL, the recorded fixture it serves, and what it was asked."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    @property
    def fixture(self) -> dict[str, Any]:
        """The answers served (edit it in a test to change them)."""
        return self._server.fixture

    @property
    def requests(self) -> list[str]:
        """Paths (GET) and ``X-Amz-Target`` values (POST) received, in order."""
        return self._server.requests

    def chart_repo_options(self) -> list[str]:
        """``--chart-repo FROM=TO`` values sending every recorded repository here."""
        options = [
            f"--chart-repo={repository}={self.url}/charts/{number}"
            for number, repository in enumerate(self.fixture["chartIndexes"])
        ]
        hosts = {ref.split("/")[2] for ref in self.fixture["ociTags"]}
        options += [f"--chart-repo=oci://{host}={self.url}" for host in sorted(hosts)]
        # Any repository or registry not recorded lands here too (HTTP 404: the pin check
        # fails naming it), so no test ever leaves 127.0.0.1.
        options += [f"--chart-repo=https:={self.url}/unrecorded", f"--chart-repo=oci:={self.url}/x"]
        return options


@contextmanager
def serve(fixture: dict[str, Any] | None = None) -> Iterator[PinSources]:
    """Run the server on a free 127.0.0.1 port in a thread for the ``with`` block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fixture = fixture if fixture is not None else load_fixture()
    server.parameters = ssm_parameters(server.fixture)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PinSources(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
