"""IAM: no admin or wildcard grants, no escalation, pinned trust, roles only, no conflicts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from rules import documents
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.context import StackContext
from rules.documents import Statement
from rules.rule import StackCheck

ROLE = "aws:iam/role:Role"
USER = "aws:iam/user:User"
GROUP = "aws:iam/group:Group"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SINGLE_ATTACHMENTS = (
    ROLE_ATTACHMENT,
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
"""Attachment resources with one ``policyArn``."""
EXCLUSIVE_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
)
"""Attachment resources with a ``policyArns`` list."""
ATTACHMENT_TYPES = (*SINGLE_ATTACHMENTS, *EXCLUSIVE_ATTACHMENTS)
_ATTACH_PROPS = ("policyArn", "policyArns", "managedPolicyArns")
USER_TYPES = (
    USER,
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/userLoginProfile:UserLoginProfile",
)
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
DOCUMENT_TYPES = (POLICY, ROLE_POLICY, GROUP_POLICY, "aws:iam/userPolicy:UserPolicy", ROLE)


def _documents(args: Any) -> list[tuple[str, list[Statement]]]:
    """(label, statements) of the permission documents a resource carries (not trust)."""
    props = args.props
    if args.resource_type == ROLE:
        out = []
        for inline in props["inlinePolicies"].items():
            parsed = documents.parse(inline["policy"])
            if parsed:
                out.append((f"inline policy {inline['name'].label()!r}", parsed))
        return out
    parsed = documents.parse(props["policy"])
    return [("the policy", parsed)] if parsed else []


def _boundaries(ctx: StackContext) -> set[str]:
    """URNs of policies some role or user in the stack uses as its permissions boundary and
    that nothing attaches as a grant (a policy that is both is checked as a grant)."""
    found: set[str] = set()
    for principal in ctx.of_type(ROLE, USER):
        found |= {d.urn for d in principal.property_dependencies.get("permissionsBoundary", [])}
    if not found:
        return found
    attached: set[str] = set()
    arns: list[str] = []
    holders = ctx.of_type(*ATTACHMENT_TYPES, ROLE, USER, GROUP)
    for holder in holders:
        for prop in _ATTACH_PROPS:
            attached |= {d.urn for d in holder.property_dependencies.get(prop, [])}
            arns += ctx.guard(lambda h=holder, k=prop: h.props[k].strings(), [])
    for policy in ctx.of_type(POLICY):
        if policy.urn not in found:
            continue
        name = ctx.guard(lambda p=policy: p.props["name"].text())
        if isinstance(name, str) and name and any(a.endswith(f"/{name}") for a in arns):
            attached.add(policy.urn)
    return found - attached


GrantCheck = Callable[[Any, Mapping[str, Any]], Iterator[str]]


def _grants(*types: str) -> Callable[[GrantCheck], StackCheck]:
    """Make a check of one resource's permission documents a stack check, run on every
    resource of ``types`` in the stack except permissions boundaries: a boundary caps what
    identity policies grant, it grants nothing."""

    def wrap(check: GrantCheck) -> StackCheck:
        def run(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
            boundaries = _boundaries(ctx)

            def one(resource: PolicyResource) -> Iterator[tuple[str | None, str]]:
                if resource.urn not in boundaries:
                    for message in check(resource, cfg):
                        yield resource.urn, message

            return ctx.per_resource(ctx.of_type(*types), one)

        return run

    return wrap


ADMIN_EQUIVALENT_MANAGED_POLICIES = (
    "AdministratorAccess",
    "AdministratorAccess-Amplify",
    "PowerUserAccess",
    "IAMFullAccess",
)
"""AWS-managed policies that amount to administrator access: every action
(AdministratorAccess, and AdministratorAccess-Amplify, which Amplify's own guidance attaches
to deploy roles and which grants broad IAM and CloudFormation rights), every action but IAM
and Organizations (PowerUserAccess), or the power to grant oneself anything (IAMFullAccess)."""

_MANAGED = re.compile(r"^arn:[^:]+:iam::aws:policy/(?:[^/]+/)*(?P<name>[^/]+)$")


def admin_equivalent(arn: str) -> str | None:
    """The name of an admin-equivalent AWS-managed policy ``arn`` refers to, or None."""
    match = _MANAGED.match(arn.strip())
    if match and match.group("name").lower() in {
        n.lower() for n in ADMIN_EQUIVALENT_MANAGED_POLICIES
    }:
        return match.group("name")
    return None


def _attached_arns(args: Any) -> list[str]:
    props = args.props
    if args.resource_type in SINGLE_ATTACHMENTS:
        return props["policyArn"].strings()
    if args.resource_type in EXCLUSIVE_ATTACHMENTS:
        return props["policyArns"].strings()
    if args.resource_type in (ROLE, USER, GROUP):
        return props["managedPolicyArns"].strings()
    return []


@stack_rule("IAM-001")
@_grants(*DOCUMENT_TYPES, *ATTACHMENT_TYPES, USER, GROUP)
def _admin(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for arn in _attached_arns(args):
        name = admin_equivalent(arn)
        if name:
            yield f"attaches {name}, which is admin-equivalent"
    for label, statements in _documents(args):
        for s in statements:
            if not s.allows or not s.broad_resource:
                continue
            if any(documents.every_action(a) for a in s.actions):
                yield f"{label}: {s.label()} allows every action on every resource"
            elif s.not_actions:
                yield f"{label}: {s.label()} allows everything but a few actions (NotAction)"


@stack_rule("IAM-002")
@_grants(*DOCUMENT_TYPES)
def _service_wildcard(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    allowed = {str(a).lower() for a in cfg["allowedServiceWildcards"]}
    for label, statements in _documents(args):
        for s in statements:
            if not s.allows or not s.broad_resource:
                continue
            wild = [
                a
                for a in s.actions
                if (svc := documents.whole_service(a)) is not None and f"{svc}:*" not in allowed
            ]
            if wild:
                yield f"{label}: {s.label()} allows {', '.join(wild)} on every resource"


@stack_rule("IAM-003")
@_grants(*DOCUMENT_TYPES)
def _escalation(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    risky = [str(a) for a in [*cfg["escalationActions"], *cfg["exfiltrationActions"]]]
    for label, statements in _documents(args):
        for s in statements:
            if not s.allows or not s.broad_resource or documents.narrows(s.condition):
                continue
            hit = sorted(
                {
                    r
                    for r in risky
                    for a in s.actions
                    if documents.covers(a, r) and not documents.every_action(a)
                }
            )
            if hit:
                yield (
                    f"{label}: {s.label()} allows {', '.join(hit)} on every resource "
                    "with no narrowing condition"
                )


@stack_rule("IAM-008")
@_grants(*DOCUMENT_TYPES)
def _kms_decrypt(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for label, statements in _documents(args):
        for s in statements:
            if (
                s.allows
                and s.broad_resource
                and not documents.narrows(s.condition)
                and any(
                    documents.covers(a, "kms:Decrypt") or documents.covers(a, "kms:ReEncryptFrom")
                    for a in s.actions
                    if not documents.every_action(a)
                )
            ):
                yield f"{label}: {s.label()} allows kms:Decrypt on every key"


@resource_rule("IAM-004", ROLE)
def _trust(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.parse(args.props["assumeRolePolicy"]) or []:
        if s.allows and s.public_principal and not documents.restricts_principal(s.condition):
            yield f"the trust policy's {s.label()} lets any principal assume the role"


def own_accounts(args: Any, cfg: Mapping[str, Any]) -> set[str] | None:
    """The accounts a resource lives in (its provider's allowedAccountIds) plus the rule's
    trustedAccountIds; None when the provider does not say (offline default provider)."""
    trusted = {str(a) for a in cfg["trustedAccountIds"]}
    provider = getattr(args, "provider", None)
    if provider is None:
        return trusted or None
    node = provider.props["allowedAccountIds"]
    if isinstance(node.raw, str) and node.raw.strip().startswith("["):
        node = node.doc()  # provider inputs arrive JSON-encoded
    allowed = set(node.strings())
    return (allowed | trusted) or None


@resource_rule("IAM-009", ROLE)
def _foreign_trust(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    own = own_accounts(args, cfg)
    for s in documents.parse(args.props["assumeRolePolicy"]) or []:
        if not s.allows or s.public_principal:
            continue
        accounts = documents.principal_accounts(s)
        foreign = sorted(accounts - own) if own is not None else []
        if not foreign:
            continue
        external = any(
            documents.operator_base(op) == ("stringequals", True) and value.strip()
            for op, value in documents.condition_values(s.condition, "sts:ExternalId")
        )
        org = documents.restricts_principal(s.condition, documents.ORG_KEYS)
        if not (external or org):
            yield (
                f"the trust policy's {s.label()} trusts account(s) {', '.join(foreign)} with "
                "no sts:ExternalId (StringEquals) or aws:PrincipalOrgID condition"
            )


RESOURCE_POLICY_TYPES = (
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key",
    "aws:kms/keyPolicy:KeyPolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:ecr/registryPolicy:RegistryPolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:sqs/queue:Queue",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sns/topic:Topic",
)
"""Resources whose ``policy`` input is a resource policy."""


@resource_rule("IAM-010", *RESOURCE_POLICY_TYPES)
def _foreign_grant(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    own = own_accounts(args, cfg)
    if own is None:
        return
    for s in documents.parse(args.props["policy"]) or []:
        if not s.allows or s.public_principal:
            continue
        foreign = sorted(documents.principal_accounts(s) - own)
        if not foreign:
            continue
        broad = [a for a in s.actions if documents.every_action(a) or documents.whole_service(a)]
        if s.not_actions:
            broad.append("NotAction " + ", ".join(s.not_actions))
        if broad:
            yield (
                f"the resource policy's {s.label()} grants account(s) {', '.join(foreign)} "
                f"{', '.join(broad)}"
            )


_GITHUB_ISSUER = "token.actions.githubusercontent.com"
_GITHUB_SUB = re.compile(r"^repo:[^*?/:]+/[^*?/:]+:.+$")
_PINNING = ("stringequals", "stringlike")


@resource_rule("IAM-005", ROLE)
def _oidc(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.parse(args.props["assumeRolePolicy"]) or []:
        federated = [p.split(":", 1)[1] for p in s.principals if p.startswith("Federated:")]
        oidc = [p for p in federated if "oidc-provider/" in p or "oidc.eks." in p]
        if not s.allows or not oidc:
            continue
        eks = any("oidc.eks." in p for p in oidc)
        github = any(_GITHUB_ISSUER in p for p in oidc)
        all_subs = documents.condition_values(s.condition, ":sub")
        all_auds = documents.condition_values(s.condition, ":aud")
        for op, value in [*all_subs, *all_auds]:
            if documents.is_negated(op):
                yield (
                    f"{s.label()}: {op} {value!r} is negated: it admits every other token; "
                    "pin with StringEquals/StringLike"
                )
        subs = [(op, v) for op, v in all_subs if _pins(op)]
        auds = [(op, v) for op, v in all_auds if _pins(op)]
        if not subs:
            yield f"{s.label()} trusts an OIDC provider without pinning the token's sub"
        for op, value in subs:
            like = documents.operator_base(op)[0] == "stringlike"
            wild = like and any(ch in value for ch in "*?")
            if github and (not _GITHUB_SUB.match(value) or (wild and not _one_repo(value))):
                yield (
                    f"{s.label()}: sub {value!r} does not pin one GitHub repository "
                    "(repo:<owner>/<repo>:..., no wildcard before the repository name)"
                )
            elif not documents.specific_value(value, op):
                yield f"{s.label()}: sub condition {value!r} matches any subject"
            elif eks and (
                wild or not value.startswith("system:serviceaccount:") or value.count(":") != 3
            ):
                yield (
                    f"{s.label()}: sub {value!r} ({op}) is not one namespace:serviceaccount "
                    "(system:serviceaccount:<namespace>:<name>)"
                )
        if not auds:
            yield f"{s.label()} trusts an OIDC provider without pinning the token's aud"


def _one_repo(value: str) -> bool:
    owner_repo = value.split(":", 2)[1] if value.count(":") >= 2 else ""
    return not any(ch in owner_repo for ch in "*?")


def _pins(operator: str) -> bool:
    base, strong = documents.operator_base(operator)
    return strong and base in _PINNING


@resource_rule("IAM-006", *USER_TYPES)
def _users(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    kind = args.resource_type.rsplit(":", 1)[-1]
    yield f"{kind} resources are not allowed: grant access through roles"


@stack_rule("IAM-007")
def _conflicts(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    attachments = ctx.of_type(ROLE_ATTACHMENT)
    inline = ctx.of_type(ROLE_POLICY)
    for role in ctx.of_type(ROLE):
        managed = ctx.guard(lambda r=role: r.props["managedPolicyArns"].items(), [])
        inlined = ctx.guard(lambda r=role: r.props["inlinePolicies"].items(), [])
        if managed and ctx.linked(role, attachments, "role", ("name",)):
            yield (
                role.urn,
                (
                    f"role {role.name} sets managedPolicyArns and also has "
                    "RolePolicyAttachment resources; each removes the other's"
                ),
            )
        if inlined and ctx.linked(role, inline, "role", ("name",)):
            yield (
                role.urn,
                (
                    f"role {role.name} sets inlinePolicies and also has RolePolicy "
                    "resources; each removes the other's"
                ),
            )


RULES = rules_of(__name__)
