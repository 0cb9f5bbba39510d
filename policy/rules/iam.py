"""IAM: no admin or wildcard grants, no escalation, pinned trust, roles only, no conflicts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from rules import documents
from rules.documents import Statement
from rules.rule import Rule, StackCheck, StackContext

ROLE = "aws:iam/role:Role"
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
    "aws:iam/user:User",
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/userLoginProfile:UserLoginProfile",
)
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
DOCUMENT_TYPES = (POLICY, ROLE_POLICY, GROUP_POLICY, "aws:iam/userPolicy:UserPolicy", ROLE)

ESCALATION_ACTIONS = [
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "iam:CreateRole",
    "sts:AssumeRole",
    "lambda:UpdateFunctionCode",
]
EXFILTRATION_ACTIONS = [
    "s3:GetObject",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue",
    "ecr:GetDownloadUrlForLayer",
]


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
    for principal in ctx.of_type(ROLE, "aws:iam/user:User"):
        found |= {d.urn for d in principal.property_dependencies.get("permissionsBoundary", [])}
    if not found:
        return found
    attached: set[str] = set()
    arns: list[str] = []
    holders = ctx.of_type(*ATTACHMENT_TYPES, ROLE, "aws:iam/user:User", "aws:iam/group:Group")
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


def _grants(check: GrantCheck, types: tuple[str, ...]) -> StackCheck:
    """A stack check running ``check`` on every permission document in the stack, except
    permissions boundaries: a boundary caps what identity policies grant, it grants nothing."""

    def run(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
        boundaries = _boundaries(ctx)

        def one(resource: PolicyResource) -> Iterator[tuple[str | None, str]]:
            if resource.urn not in boundaries:
                for message in check(resource, cfg):
                    yield resource.urn, message

        return ctx.per_resource(ctx.of_type(*types), one)

    return run


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
    if args.resource_type in (ROLE, "aws:iam/user:User", "aws:iam/group:Group"):
        return props["managedPolicyArns"].strings()
    return []


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


def _service_wildcard(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    allowed = {str(a).lower() for a in cfg.get("allowedServiceWildcards", [])}
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


def _escalation(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    risky = [str(a) for a in cfg.get("escalationActions", ESCALATION_ACTIONS)] + [
        str(a) for a in cfg.get("exfiltrationActions", EXFILTRATION_ACTIONS)
    ]
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


def _trust(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.parse(args.props["assumeRolePolicy"]) or []:
        if s.allows and s.public_principal and not documents.restricts_principal(s.condition):
            yield f"the trust policy's {s.label()} lets any principal assume the role"


def own_accounts(args: Any, cfg: Mapping[str, Any]) -> set[str] | None:
    """The accounts a resource lives in (its provider's allowedAccountIds) plus the rule's
    trustedAccountIds; None when the provider does not say (offline default provider)."""
    trusted = {str(a) for a in cfg.get("trustedAccountIds", [])}
    provider = getattr(args, "provider", None)
    if provider is None:
        return trusted or None
    node = provider.props["allowedAccountIds"]
    if isinstance(node.raw, str) and node.raw.strip().startswith("["):
        node = node.doc()  # provider inputs arrive JSON-encoded
    allowed = set(node.strings())
    return (allowed | trusted) or None


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


def _users(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    kind = args.resource_type.rsplit(":", 1)[-1]
    yield f"{kind} resources are not allowed: grant access through roles"


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


_DOC = 'policy=json.dumps({"Version": "2012-10-17", "Statement": [...]})'

_BOUNDARY_NOTE = (
    "Policies a role or user in the stack uses as its permissions boundary are ceilings, not "
    "grants, and are skipped unless something in the stack also attaches them (an attachment "
    "resource, managedPolicyArns or policyArns)."
)

_TRUSTED_ACCOUNTS_CFG = {
    "trustedAccountIds": {
        "type": "array",
        "items": {"type": "string", "pattern": "^\\d{12}$"},
        "default": [],
        "description": "Accounts treated as the platform's own, besides the provider's "
        "allowedAccountIds.",
    }
}

RULES: list[Rule] = [
    Rule(
        id="IAM-001",
        name="iam-no-admin-policy",
        severity=Severity.CRITICAL,
        description="No IAM policy grants every action (any pattern matching every action: "
        "'*', '*:*', '?*:*') or everything but a few (NotAction) on every resource (any "
        "pattern covering a whole service or account: '*', 'arn:aws:*:*:*:*', role/*), and no "
        "role, user or group gets an admin-equivalent AWS-managed policy (AdministratorAccess, "
        "AdministratorAccess-Amplify, PowerUserAccess, IAMFullAccess) through attachments, "
        "exclusive attachments or managedPolicyArns.",
        remediation=(
            "List the actions and resources the workload needs: aws.iam.RolePolicy(..., "
            f'{_DOC}) with e.g. {{"Action": ["s3:GetObject"], "Resource": '
            '[f"{bucket_arn}/models/*"]}.'
        ),
        controls=("FSBP IAM.1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_274"),
        catalog=(39,),
        stack_check=_grants(
            _admin,
            (*DOCUMENT_TYPES, *ATTACHMENT_TYPES, "aws:iam/user:User", "aws:iam/group:Group"),
        ),
        limits=_BOUNDARY_NOTE,
    ),
    Rule(
        id="IAM-002",
        name="iam-no-service-wildcard",
        severity=Severity.HIGH,
        description="No IAM policy allows a whole service (any pattern matching all of its "
        "actions: 'ec2:*', 'ec2:?*') on every resource (any pattern covering a whole service "
        "or account).",
        remediation='Replace "ec2:*" with the exact actions, e.g. ["ec2:DescribeInstances"].',
        controls=("FSBP IAM.21", "CKV_AWS_355", "CKV_AWS_290"),
        catalog=(40,),
        stack_check=_grants(_service_wildcard, DOCUMENT_TYPES),
        limits=_BOUNDARY_NOTE,
        config={
            "allowedServiceWildcards": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "'service:*' actions accepted on '*' (none by default).",
            }
        },
    ),
    Rule(
        id="IAM-003",
        name="iam-no-privilege-escalation",
        severity=Severity.HIGH,
        description="No IAM policy allows privilege-escalation or data-exfiltration actions on "
        "every resource without a narrowing condition (a condition whose values are all "
        "wildcards, e.g. StringLike '*', does not narrow).",
        remediation=(
            'Scope the resource ("Resource": node_role.arn for iam:PassRole) or add a '
            'condition ({"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}).'
        ),
        controls=("CKV_AWS_286", "CKV_AWS_287", "CKV_AWS_288", "CKV_AWS_289"),
        catalog=(40,),
        stack_check=_grants(_escalation, DOCUMENT_TYPES),
        limits=_BOUNDARY_NOTE,
        config={
            "escalationActions": {
                "type": "array",
                "items": {"type": "string"},
                "default": ESCALATION_ACTIONS,
                "description": "Actions that let a principal raise its own privileges.",
            },
            "exfiltrationActions": {
                "type": "array",
                "items": {"type": "string"},
                "default": EXFILTRATION_ACTIONS,
                "description": "Actions that read data out wholesale.",
            },
        },
    ),
    Rule(
        id="IAM-004",
        name="iam-role-trust-no-wildcard-principal",
        severity=Severity.CRITICAL,
        description="No role trust policy lets any principal ('*') assume the role without a "
        "condition.",
        remediation=(
            'assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{'
            '"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, '
            '"Action": "sts:AssumeRole"}]})'
        ),
        controls=("CKV_AWS_60",),
        catalog=(41,),
        resource_check=_trust,
        resource_types=(ROLE,),
    ),
    Rule(
        id="IAM-009",
        name="iam-trust-foreign-account-guarded",
        severity=Severity.HIGH,
        description="A role trust policy that trusts another AWS account's principals requires "
        "an sts:ExternalId (StringEquals) or an organization condition (aws:PrincipalOrgID / "
        "aws:PrincipalOrgPaths with specific values).",
        remediation=(
            '"Condition": {"StringEquals": {"sts:ExternalId": external_id}} or '
            '{"StringEquals": {"aws:PrincipalOrgID": org_id}} on the statement trusting '
            '{"AWS": "arn:aws:iam::<other-account>:root"}'
        ),
        controls=("CKV_AWS_60", "MLOPS foreign-accounts"),
        catalog=(41,),
        resource_check=_foreign_trust,
        resource_types=(ROLE,),
        config=_TRUSTED_ACCOUNTS_CFG,
        limits="An account is foreign when it is not in the resource's provider "
        "allowedAccountIds (or trustedAccountIds); with neither known (a default provider "
        "offline), account principals are not judged.",
    ),
    Rule(
        id="IAM-010",
        name="resource-policy-no-foreign-broad-grant",
        severity=Severity.HIGH,
        description="Resource policies (S3, KMS, ECR, SQS, SNS) grant no other AWS account a "
        "whole service's actions, every action or NotAction.",
        remediation=(
            'Grant the other account only what it needs: {"Principal": {"AWS": '
            '"arn:aws:iam::<other-account>:role/puller"}, "Action": ["ecr:BatchGetImage", '
            '"ecr:GetDownloadUrlForLayer"]}'
        ),
        controls=("CKV_AWS_32", "CKV_AWS_33", "CKV_AWS_70", "MLOPS foreign-accounts"),
        catalog=(7, 16, 46),
        resource_check=_foreign_grant,
        resource_types=RESOURCE_POLICY_TYPES,
        config=_TRUSTED_ACCOUNTS_CFG,
        limits="An account is foreign when it is not in the resource's provider "
        "allowedAccountIds (or trustedAccountIds); with neither known, nothing is judged.",
    ),
    Rule(
        id="IAM-005",
        name="iam-oidc-trust-pinned",
        severity=Severity.HIGH,
        description="Roles trusted through OIDC pin the token's sub and aud with StringEquals/"
        "StringLike (never a negated operator); EKS workload roles (IRSA) pin exactly one "
        "namespace:serviceaccount; GitHub Actions roles pin one repo:<owner>/<repo>.",
        remediation=(
            '"Condition": {"StringEquals": {f"{issuer}:sub": '
            '"system:serviceaccount:serving:model-server", f"{issuer}:aud": '
            '"sts.amazonaws.com"}}; or use aws.eks.PodIdentityAssociation(namespace=..., '
            "service_account=..., role_arn=role.arn)."
        ),
        controls=("CKV_AWS_61", "CKV_AWS_393", "CIS 5.2.1"),
        catalog=(22, 41),
        resource_check=_oidc,
        resource_types=(ROLE,),
        limits="Whether each workload has its own role (one role per service account) is a "
        "design property the pack cannot count from inputs alone.",
    ),
    Rule(
        id="IAM-006",
        name="iam-no-users-or-access-keys",
        severity=Severity.HIGH,
        description="No IAM users, access keys, login profiles or user policies: roles only.",
        remediation=(
            "Replace the user with a role trusted by the CI provider's OIDC issuer: "
            "aws.iam.Role(..., assume_role_policy=trust_with_sub_and_aud)"
        ),
        controls=("FSBP IAM.2", "CKV_AWS_40", "CKV_AWS_273", "CKV_AWS_348"),
        catalog=(42,),
        resource_check=_users,
        resource_types=USER_TYPES,
    ),
    Rule(
        id="IAM-007",
        name="iam-no-policy-management-conflicts",
        severity=Severity.MEDIUM,
        description="A role's policies are managed one way: either the role's "
        "managedPolicyArns/inlinePolicies or separate attachment/policy resources.",
        remediation=(
            "Drop managed_policy_arns=/inline_policies= from aws.iam.Role and keep "
            "aws.iam.RolePolicyAttachment / aws.iam.RolePolicy resources."
        ),
        controls=("AWSGuard iam-role-policy-conflicts",),
        catalog=(43,),
        stack_check=_conflicts,
    ),
    Rule(
        id="IAM-008",
        name="iam-no-kms-decrypt-on-all-keys",
        severity=Severity.HIGH,
        description="No IAM policy allows kms:Decrypt on every key (key/*, '*', wildcard "
        "account or region) without a narrowing condition.",
        remediation=(
            '{"Action": ["kms:Decrypt"], "Resource": [key.arn]} or a condition '
            '{"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}'
        ),
        controls=("FSBP KMS.1", "FSBP KMS.2"),
        catalog=(44,),
        stack_check=_grants(_kms_decrypt, DOCUMENT_TYPES),
        limits=_BOUNDARY_NOTE,
    ),
]
