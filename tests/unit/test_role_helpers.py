"""Role helpers compose: no parent needed, policy documents as dict or JSON string, one
merged document with unique statement IDs."""

from __future__ import annotations

import json

import pulumi
import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.iam import irsa_role, merge_policy_documents, pod_identity_role, policy_json
from mlops_platform.iam.documents import _merge
from mlops_platform.storage import ArtifactStore, ArtifactStoreArgs

from scripts.offline import run_program

CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/ml-dev"
READ = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}],
}
OTHER_READ = {
    "Version": "2012-10-17",
    "Statement": {
        "Sid": "Read",
        "Effect": "Allow",
        "Action": ["ecr:BatchGetImage"],
        "Resource": "*",
    },
}


def _pod_identity(policy, **kwargs) -> pulumi.Output:
    return pod_identity_role(
        "scorer",
        name_prefix="team-dev",
        role="scorer",
        cluster_name="ml-dev",
        cluster_arn=CLUSTER_ARN,
        namespace="team",
        service_account="scorer",
        policy=policy,
        **kwargs,
    ).role.arn


def test_merge_drops_repeats_and_renames_clashing_sids():
    merged = _merge([READ, OTHER_READ, READ, OTHER_READ])
    assert [s["Sid"] for s in merged["Statement"]] == ["Read", "Read2"]
    assert merged["Statement"][1]["Action"] == ["ecr:BatchGetImage"]
    assert merged["Version"] == "2012-10-17"


def test_role_helpers_need_no_parent_and_take_json_or_dict_documents():
    def program() -> None:
        store = ArtifactStore("store", ArtifactStoreArgs(name_prefix="team-dev"))
        merged = merge_policy_documents(
            store.read_only_policies.apply(lambda p: p["models"]),  # a JSON string output
            json.dumps(OTHER_READ),  # a JSON string
            READ,  # a dict
        )
        _pod_identity(merged)
        irsa_role(
            "batch",
            name_prefix="team-dev",
            role="batch",
            oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.example",
            oidc_issuer_url="https://oidc.eks.example",
            namespace="team",
            service_account="batch",
            policy=json.dumps(READ),
        )

    rec = run_program(program)
    roles = rec.of_type("aws:iam/role:Role")
    workload = [r for r in roles if r.name in ("scorer-role", "batch-role")]
    assert len(workload) == 2
    assert all(r.parent == rec.stack_urn for r in workload)  # no parent: the stack
    policies = {
        r.name: json.loads(r.inputs["policy"])
        for r in rec.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name in ("scorer-policy", "batch-policy")
    }
    sids = [s["Sid"] for s in policies["scorer-policy"]["Statement"]]
    assert len(sids) == len(set(sids)) and "Read" in sids and "Read2" in sids
    assert policies["batch-policy"] == READ


def test_the_callers_opts_reach_every_child():
    def program() -> None:
        provider = __import__("pulumi_aws").Provider("other", region="eu-west-1")
        _pod_identity(READ, opts=pulumi.ResourceOptions(provider=provider))

    rec = run_program(program)
    children = [r for r in rec.created() if r.name.startswith("scorer-")]
    assert len(children) == 3
    assert all(r.provider and "other" in r.provider for r in children)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("{not json", "JSON string"),
        (json.dumps({"Version": "2012-10-17"}), "at least one Statement"),
    ],
)
def test_a_bad_document_is_named(policy, expected):
    with pytest.raises(ComponentInputError) as error:
        run_program(lambda: _pod_identity(policy))
    [problem] = error.value.problems
    assert problem.arg == "policy" and expected in problem.allowed


def test_policy_json_is_the_one_returned_form():
    def program() -> None:
        policy_json(json.dumps(READ)).apply(lambda text: seen.append(json.loads(text)))
        policy_json(READ).apply(lambda text: seen.append(json.loads(text)))

    seen: list = []
    run_program(program)
    assert seen == [READ, READ]
