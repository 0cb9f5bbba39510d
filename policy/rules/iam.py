"""IAM: no admin or wildcard grants, no escalation, pinned trust, roles only, no conflicts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from rules import documents
from rules.documents import Statement
from rules.rule import Rule, StackCheck, StackContext, items

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
        for inline in items(props.get("inlinePolicies")):
            parsed = documents.parse(inline.get("policy"))
            if parsed:
                out.append((f"inline policy {inline.get('name')!r}", parsed))
        return out
    parsed = documents.parse(props.get("policy"))
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
            value = ctx.guard(lambda h=holder, k=prop: h.props.get(k))
            arns += [str(v) for v in ([value] if isinstance(value, str) else items(value))]
    for policy in ctx.of_type(POLICY):
        if policy.urn not in found:
            continue
        name = ctx.guard(lambda p=policy: p.props.get("name"))
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


def _is_admin_arn(arn: Any) -> bool:
    return str(arn).endswith(":policy/AdministratorAccess")


def _admin(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.resource_type in SINGLE_ATTACHMENTS:
        if _is_admin_arn(args.props.get("policyArn", "")):
            yield "attaches AdministratorAccess"
        return
    if args.resource_type in EXCLUSIVE_ATTACHMENTS:
        if any(_is_admin_arn(a) for a in items(args.props.get("policyArns"))):
            yield "attaches AdministratorAccess"
        return
    principals = (ROLE, "aws:iam/user:User", "aws:iam/group:Group")
    managed = items(args.props.get("managedPolicyArns")) if args.resource_type in principals else []
    if any(_is_admin_arn(a) for a in managed):
        yield "attaches AdministratorAccess"
    for label, statements in _documents(args):
        for s in statements:
            if s.allows and ({"*", "*:*"} & set(s.actions)) and "*" in s.resources:
                yield f"{label}: {s.label()} allows every action on every resource"
            elif s.allows and s.not_actions and "*" in s.resources:
                yield f"{label}: {s.label()} allows everything but a few actions (NotAction)"


def _service_wildcard(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    allowed = set(cfg.get("allowedServiceWildcards", []))
    for label, statements in _documents(args):
        for s in statements:
            if not s.allows or "*" not in s.resources:
                continue
            wild = [a for a in s.actions if a.endswith(":*") and a not in allowed and a != "*:*"]
            if wild:
                yield f"{label}: {s.label()} allows {', '.join(wild)} on every resource"


def _matches(action: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase  # noqa: PLC0415

    return fnmatchcase(action.lower(), pattern.lower())


def _escalation(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    risky = list(cfg.get("escalationActions", ESCALATION_ACTIONS)) + list(
        cfg.get("exfiltrationActions", EXFILTRATION_ACTIONS)
    )
    for label, statements in _documents(args):
        for s in statements:
            if not s.allows or "*" not in s.resources or s.condition:
                continue
            hit = sorted(
                {r for r in risky for a in s.actions if _matches(r, a) and a not in ("*", "*:*")}
            )
            if hit:
                yield (
                    f"{label}: {s.label()} allows {', '.join(hit)} on every resource "
                    "with no condition"
                )


def _kms_decrypt(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for label, statements in _documents(args):
        for s in statements:
            if (
                s.allows
                and "*" in s.resources
                and not s.condition
                and any(
                    _matches("kms:Decrypt", a) or _matches("kms:ReEncryptFrom", a)
                    for a in s.actions
                    if a not in ("*", "*:*")
                )
            ):
                yield f"{label}: {s.label()} allows kms:Decrypt on every key"


def _trust(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.parse(args.props.get("assumeRolePolicy")) or []:
        if s.allows and s.public_principal and not documents.restricts_principal(s.condition):
            yield f"the trust policy's {s.label()} lets any principal assume the role"


_GITHUB_ISSUER = "token.actions.githubusercontent.com"
_GITHUB_SUB = re.compile(r"^repo:[^*?/:]+/[^*?/:]+:.+$")
_PINNING = ("stringequals", "stringlike")


def _oidc(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.parse(args.props.get("assumeRolePolicy")) or []:
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
            if github and not _GITHUB_SUB.match(value):
                yield (
                    f"{s.label()}: sub {value!r} does not pin one GitHub repository "
                    "(repo:<owner>/<repo>:..., no wildcard before the repository name)"
                )
            elif value.strip() in ("*", "") or value.startswith("*"):
                yield f"{s.label()}: sub condition {value!r} matches any subject"
            elif eks and (
                "*" in value
                or not value.startswith("system:serviceaccount:")
                or value.count(":") != 3
            ):
                yield (
                    f"{s.label()}: sub {value!r} ({op}) is not one namespace:serviceaccount "
                    "(system:serviceaccount:<namespace>:<name>)"
                )
        if not auds:
            yield f"{s.label()} trusts an OIDC provider without pinning the token's aud"


def _pins(operator: str) -> bool:
    base, strong = documents.operator_base(operator)
    return strong and base in _PINNING


def _users(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    kind = args.resource_type.rsplit(":", 1)[-1]
    yield f"{kind} resources are not allowed: grant access through roles"


def _conflicts(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    attachments = ctx.of_type(ROLE_ATTACHMENT)
    inline = ctx.of_type(ROLE_POLICY)
    for role in ctx.of_type(ROLE):
        managed = ctx.guard(lambda r=role: items(r.props.get("managedPolicyArns")), [])
        inlined = ctx.guard(lambda r=role: items(r.props.get("inlinePolicies")), [])
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
    "resource, managedPolicyArns or policyArns); AWS-managed policies are checked only for "
    "AdministratorAccess."
)

RULES: list[Rule] = [
    Rule(
        id="IAM-001",
        name="iam-no-admin-policy",
        severity=Severity.CRITICAL,
        description="No IAM policy grants every action on every resource, and no role, user "
        "or group gets AdministratorAccess (attachments, exclusive attachments, "
        "managedPolicyArns).",
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
        description="No IAM policy allows a whole service ('service:*') on every resource.",
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
        "every resource without a condition.",
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
        description="No IAM policy allows kms:Decrypt on every key without a condition.",
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
