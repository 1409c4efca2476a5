"""The OpenAI audit event type → OCSF / ECS / Splunk CIM mapping, kept as data (one row per type)."""

# ruff: noqa: E501
# Why the long lines: a row per event type must stay on one line, so adding a type is a
# one-line diff and the table reads like the reference (normalization.md §2.5).

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

TARGET_KINDS = frozenset({"entity", "session", "user", "service_account", "group", "member", "principal"})
"""How the class-specific target is found in the payload (see ``ocsf_targets``).

* ``entity``: Entity Management; never degrades.
* ``session``: Authentication; the target ``user`` is the actor's user.
* ``user`` / ``service_account``: Account Change or User Access Management on one account.
* ``group``: Group Management on one group; ``member``: a group plus the user added/removed.
* ``principal``: a role assignment; a ``user`` principal gives 3005, a ``group`` one 3006.
"""


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One OpenAI event type and everything every output format needs to map it.

    Attributes:
        type: The OpenAI audit event ``type``.
        class_uid: The OCSF 1.8.0 class the type maps to when its target is present.
        activity_id: The OCSF activity within ``class_uid``.
        target: One of ``TARGET_KINDS``.
        entity_type: Entity Management ``entity.type``; for rows of other classes, the
            entity used when the event degrades to 3004 because its target is missing.
        entity_type_id: The ``managed_entity.type_id`` matching ``entity_type``.
        ecs_category: ECS ``event.category`` values.
        ecs_type: ECS ``event.type`` values.
        cim_dataset: Splunk CIM data model and dataset.
        cim_action: Splunk CIM ``action``.
    """

    type: str
    class_uid: int
    activity_id: int
    target: str
    entity_type: str
    entity_type_id: int
    ecs_category: tuple[str, ...]
    ecs_type: tuple[str, ...]
    cim_dataset: str
    cim_action: str


# Columns: type | OCSF class_uid | activity_id | target kind | entity.type/type_id (fallback
# entity for non-3004 rows) | ECS event.category | ECS event.type | CIM dataset | CIM action.
# ECS event.outcome and CIM Authentication action are derived (``*.failed`` → failure).
_TABLE = """
# type                                          | class | act | target          | entity/type_id                 | ecs category           | ecs type       | cim dataset               | cim action
api_key.created                                 | 3004  | 1   | entity          | API Key/99                     | iam                    | creation       | Change:All_Changes        | created
api_key.updated                                 | 3004  | 3   | entity          | API Key/99                     | iam                    | change         | Change:All_Changes        | updated
api_key.deleted                                 | 3004  | 4   | entity          | API Key/99                     | iam                    | deletion       | Change:All_Changes        | deleted
certificate.created                             | 3004  | 1   | entity          | Certificate/99                 | configuration          | creation       | Change:All_Changes        | created
certificate.updated                             | 3004  | 3   | entity          | Certificate/99                 | configuration          | change         | Change:All_Changes        | updated
certificate.deleted                             | 3004  | 4   | entity          | Certificate/99                 | configuration          | deletion       | Change:All_Changes        | deleted
certificates.activated                          | 3004  | 8   | entity          | Certificate/99                 | configuration          | change         | Change:All_Changes        | modified
certificates.deactivated                        | 3004  | 9   | entity          | Certificate/99                 | configuration          | change         | Change:All_Changes        | modified
checkpoint.permission.created                   | 3004  | 1   | entity          | Checkpoint Permission/99       | iam                    | admin,creation | Change:All_Changes        | created
checkpoint.permission.deleted                   | 3004  | 4   | entity          | Checkpoint Permission/99       | iam                    | admin,deletion | Change:All_Changes        | deleted
external_key.registered                         | 3004  | 1   | entity          | External Key/99                | configuration          | creation       | Change:All_Changes        | created
external_key.removed                            | 3004  | 4   | entity          | External Key/99                | configuration          | deletion       | Change:All_Changes        | deleted
group.created                                   | 3006  | 6   | group           | Group/3                        | iam                    | group,creation | Change:All_Changes        | created
group.updated                                   | 3004  | 3   | entity          | Group/3                        | iam                    | group,change   | Change:All_Changes        | updated
group.deleted                                   | 3006  | 5   | group           | Group/3                        | iam                    | group,deletion | Change:All_Changes        | deleted
invite.sent                                     | 3004  | 1   | entity          | Invite/99                      | iam                    | user,creation  | Change:All_Changes        | created
invite.accepted                                 | 3004  | 3   | entity          | Invite/99                      | iam                    | user,change    | Change:All_Changes        | updated
invite.deleted                                  | 3004  | 4   | entity          | Invite/99                      | iam                    | user,deletion  | Change:All_Changes        | deleted
ip_allowlist.created                            | 3004  | 1   | entity          | IP Allowlist/7                 | configuration          | creation       | Change:All_Changes        | created
ip_allowlist.updated                            | 3004  | 3   | entity          | IP Allowlist/7                 | configuration          | change         | Change:All_Changes        | updated
ip_allowlist.deleted                            | 3004  | 4   | entity          | IP Allowlist/7                 | configuration          | deletion       | Change:All_Changes        | deleted
ip_allowlist.config.activated                   | 3004  | 8   | entity          | IP Allowlist/7                 | configuration          | change         | Change:All_Changes        | modified
ip_allowlist.config.deactivated                 | 3004  | 9   | entity          | IP Allowlist/7                 | configuration          | change         | Change:All_Changes        | modified
login.succeeded                                 | 3002  | 1   | session         | Session/99                     | authentication,session | start          | Authentication            | success
login.failed                                    | 3002  | 1   | session         | Session/99                     | authentication         | start          | Authentication            | failure
logout.succeeded                                | 3002  | 2   | session         | Session/99                     | authentication,session | end            | Authentication            | success
logout.failed                                   | 3002  | 2   | session         | Session/99                     | authentication         | end            | Authentication            | failure
organization.updated                            | 3004  | 3   | entity          | Organization/4                 | configuration          | change         | Change:All_Changes        | updated
project.created                                 | 3004  | 1   | entity          | Project/99                     | configuration          | creation       | Change:All_Changes        | created
project.updated                                 | 3004  | 3   | entity          | Project/99                     | configuration          | change         | Change:All_Changes        | updated
project.archived                                | 3004  | 9   | entity          | Project/99                     | configuration          | change         | Change:All_Changes        | modified
project.deleted                                 | 3004  | 4   | entity          | Project/99                     | configuration          | deletion       | Change:All_Changes        | deleted
rate_limit.updated                              | 3004  | 3   | entity          | Rate Limit/99                  | configuration          | change         | Change:All_Changes        | updated
rate_limit.deleted                              | 3004  | 4   | entity          | Rate Limit/99                  | configuration          | deletion       | Change:All_Changes        | deleted
resource.deleted                                | 3004  | 4   | entity          | Resource/99                    | configuration          | deletion       | Change:All_Changes        | deleted
tunnel.created                                  | 3004  | 1   | entity          | Tunnel/99                      | configuration          | creation       | Change:All_Changes        | created
tunnel.updated                                  | 3004  | 3   | entity          | Tunnel/99                      | configuration          | change         | Change:All_Changes        | updated
tunnel.deleted                                  | 3004  | 4   | entity          | Tunnel/99                      | configuration          | deletion       | Change:All_Changes        | deleted
workload_identity_provider.created              | 3004  | 1   | entity          | Workload Identity Provider/99  | iam                    | admin,creation | Change:All_Changes        | created
workload_identity_provider.updated              | 3004  | 3   | entity          | Workload Identity Provider/99  | iam                    | admin,change   | Change:All_Changes        | updated
workload_identity_provider.deleted              | 3004  | 4   | entity          | Workload Identity Provider/99  | iam                    | admin,deletion | Change:All_Changes        | deleted
workload_identity_provider_mapping.created      | 3004  | 1   | entity          | Workload Identity Mapping/99   | iam                    | admin,creation | Change:All_Changes        | created
workload_identity_provider_mapping.updated      | 3004  | 3   | entity          | Workload Identity Mapping/99   | iam                    | admin,change   | Change:All_Changes        | updated
workload_identity_provider_mapping.deleted      | 3004  | 4   | entity          | Workload Identity Mapping/99   | iam                    | admin,deletion | Change:All_Changes        | deleted
role.created                                    | 3004  | 1   | entity          | Role/99                        | iam                    | admin,creation | Change:All_Changes        | created
role.updated                                    | 3004  | 3   | entity          | Role/99                        | iam                    | admin,change   | Change:All_Changes        | updated
role.deleted                                    | 3004  | 4   | entity          | Role/99                        | iam                    | admin,deletion | Change:All_Changes        | deleted
role.assignment.created                         | 3005  | 1   | principal       | Role Assignment/99             | iam                    | user,change    | Change:Account_Management | modified
role.assignment.deleted                         | 3005  | 2   | principal       | Role Assignment/99             | iam                    | user,change    | Change:Account_Management | modified
role.bound_to_resource                          | 3004  | 3   | entity          | Role/99                        | iam                    | admin,change   | Change:All_Changes        | modified
role.unbound_from_resource                      | 3004  | 3   | entity          | Role/99                        | iam                    | admin,change   | Change:All_Changes        | modified
scim.enabled                                    | 3004  | 8   | entity          | SCIM/99                        | iam                    | admin,change   | Change:All_Changes        | modified
scim.disabled                                   | 3004  | 9   | entity          | SCIM/99                        | iam                    | admin,change   | Change:All_Changes        | modified
service_account.created                         | 3001  | 1   | service_account | Service Account/2              | iam                    | user,creation  | Change:Account_Management | created
service_account.updated                         | 3005  | 1   | service_account | Service Account/2              | iam                    | user,change    | Change:Account_Management | modified
service_account.deleted                         | 3001  | 6   | service_account | Service Account/2              | iam                    | user,deletion  | Change:Account_Management | deleted
user.added                                      | 3001  | 1   | user            | User/2                         | iam                    | user,creation  | Change:Account_Management | created
user.updated                                    | 3005  | 1   | user            | User/2                         | iam                    | user,change    | Change:Account_Management | modified
user.deleted                                    | 3001  | 6   | user            | User/2                         | iam                    | user,deletion  | Change:Account_Management | deleted
tenant.metadata.updated                         | 3004  | 3   | entity          | Organization/4                 | configuration          | change         | Change:All_Changes        | updated
tenant.microsoft_entra_mapping.upserted         | 3004  | 3   | entity          | Entra Mapping/99               | iam                    | admin,change   | Change:All_Changes        | updated
tenant.microsoft_entra_mapping.deleted          | 3004  | 4   | entity          | Entra Mapping/99               | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.workload_identity.provider.created       | 3004  | 1   | entity          | Workload Identity Provider/99  | iam                    | admin,creation | Change:All_Changes        | created
tenant.workload_identity.provider.updated       | 3004  | 3   | entity          | Workload Identity Provider/99  | iam                    | admin,change   | Change:All_Changes        | updated
tenant.workload_identity.provider.archived      | 3004  | 9   | entity          | Workload Identity Provider/99  | iam                    | admin,change   | Change:All_Changes        | modified
tenant.workload_identity.mapping.created        | 3004  | 1   | entity          | Workload Identity Mapping/99   | iam                    | admin,creation | Change:All_Changes        | created
tenant.workload_identity.mapping.updated        | 3004  | 3   | entity          | Workload Identity Mapping/99   | iam                    | admin,change   | Change:All_Changes        | updated
tenant.workload_identity.mapping.archived       | 3004  | 9   | entity          | Workload Identity Mapping/99   | iam                    | admin,change   | Change:All_Changes        | modified
tenant.workload_identity.binding.created        | 3004  | 1   | entity          | Workload Identity Binding/99   | iam                    | admin,creation | Change:All_Changes        | created
tenant.workload_identity.principal.provisioned  | 3004  | 1   | entity          | Workload Identity Principal/99 | iam                    | user,creation  | Change:All_Changes        | created
tenant.workload_identity.access_token.issued    | 3004  | 1   | entity          | Access Token/99                | iam                    | creation       | Change:All_Changes        | created
tenant.admin_api_key.created                    | 3004  | 1   | entity          | Admin API Key/99               | iam                    | creation       | Change:All_Changes        | created
tenant.admin_api_key.updated                    | 3004  | 3   | entity          | Admin API Key/99               | iam                    | change         | Change:All_Changes        | updated
tenant.admin_api_key.deleted                    | 3004  | 4   | entity          | Admin API Key/99               | iam                    | deletion       | Change:All_Changes        | deleted
tenant.project_api_key.created                  | 3004  | 1   | entity          | API Key/99                     | iam                    | creation       | Change:All_Changes        | created
tenant.chatgpt_access_token.revoked             | 3004  | 4   | entity          | Access Token/99                | iam                    | deletion       | Change:All_Changes        | deleted
tenant.migration.completed                      | 3004  | 3   | entity          | Tenant Migration/99            | configuration          | change         | Change:All_Changes        | updated
tenant.sso.migrated                             | 3004  | 3   | entity          | SSO Connection/99              | iam                    | admin,change   | Change:All_Changes        | updated
tenant.domains.migrated                         | 3004  | 3   | entity          | Domain/99                      | configuration          | change         | Change:All_Changes        | updated
tenant.sso_connection.created                   | 3004  | 1   | entity          | SSO Connection/99              | iam                    | admin,creation | Change:All_Changes        | created
tenant.sso_connection.updated                   | 3004  | 3   | entity          | SSO Connection/99              | iam                    | admin,change   | Change:All_Changes        | updated
tenant.sso_connection.deleted                   | 3004  | 4   | entity          | SSO Connection/99              | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.sso_connection.setup.started             | 3004  | 1   | entity          | SSO Connection/99              | iam                    | admin,creation | Change:All_Changes        | created
tenant.policy.created                           | 3004  | 1   | entity          | Policy/5                       | iam                    | admin,creation | Change:All_Changes        | created
tenant.policy.updated                           | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | updated
tenant.policy.deleted                           | 3004  | 4   | entity          | Policy/5                       | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.policy.attached                          | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | modified
tenant.policy.detached                          | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | modified
tenant.principal_authentication_policy.resolved | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | updated
tenant.scim.setup.started                       | 3004  | 1   | entity          | SCIM/99                        | iam                    | admin,creation | Change:All_Changes        | created
tenant.scim.deletion.requested                  | 3004  | 4   | entity          | SCIM/99                        | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.scim.directory.created                   | 3004  | 1   | entity          | SCIM/99                        | iam                    | admin,creation | Change:All_Changes        | created
tenant.product_access_policy.updated            | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | updated
tenant.resource_share_grant.created             | 3004  | 1   | entity          | Resource Share Grant/99        | iam                    | admin,creation | Change:All_Changes        | created
tenant.resource_share_grant.updated             | 3004  | 3   | entity          | Resource Share Grant/99        | iam                    | admin,change   | Change:All_Changes        | updated
tenant.resource_share_grant.accepted            | 3004  | 3   | entity          | Resource Share Grant/99        | iam                    | admin,change   | Change:All_Changes        | updated
tenant.resource_share_grant.declined            | 3004  | 3   | entity          | Resource Share Grant/99        | iam                    | admin,change   | Change:All_Changes        | updated
tenant.resource_share_grant.revoked             | 3004  | 4   | entity          | Resource Share Grant/99        | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.resource_share_grant.deleted             | 3004  | 4   | entity          | Resource Share Grant/99        | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.service_account.updated                  | 3004  | 3   | entity          | Service Account/2              | iam                    | user,change    | Change:Account_Management | updated
tenant.service_account.deleted                  | 3001  | 6   | service_account | Service Account/2              | iam                    | user,deletion  | Change:Account_Management | deleted
tenant.service_account.token.revoked            | 3004  | 4   | entity          | Access Token/99                | iam                    | deletion       | Change:All_Changes        | deleted
tenant.billing.overage_limit.updated            | 3004  | 3   | entity          | Billing Setting/99             | configuration          | change         | Change:All_Changes        | updated
tenant.billing.alerts.updated                   | 3004  | 3   | entity          | Billing Setting/99             | configuration          | change         | Change:All_Changes        | updated
tenant.billing.info.updated                     | 3004  | 3   | entity          | Billing Setting/99             | configuration          | change         | Change:All_Changes        | updated
tenant.usage_limit.workspace.updated            | 3004  | 3   | entity          | Usage Limit/99                 | configuration          | change         | Change:All_Changes        | updated
tenant.usage_limit.group.updated                | 3004  | 3   | entity          | Usage Limit/99                 | configuration          | change         | Change:All_Changes        | updated
tenant.usage_limit.user.updated                 | 3004  | 3   | entity          | Usage Limit/99                 | configuration          | change         | Change:All_Changes        | updated
tenant.usage_limit.increase_request.updated     | 3004  | 3   | entity          | Usage Limit/99                 | configuration          | change         | Change:All_Changes        | updated
tenant.usage_limit.increase_request.resolved    | 3004  | 3   | entity          | Usage Limit/99                 | configuration          | change         | Change:All_Changes        | updated
tenant.group.created                            | 3006  | 6   | group           | Group/3                        | iam                    | group,creation | Change:All_Changes        | created
tenant.group.updated                            | 3004  | 3   | entity          | Group/3                        | iam                    | group,change   | Change:All_Changes        | updated
tenant.group.deleted                            | 3006  | 5   | group           | Group/3                        | iam                    | group,deletion | Change:All_Changes        | deleted
tenant.group.member.added                       | 3006  | 3   | member          | Group/3                        | iam                    | group,change   | Change:Account_Management | modified
tenant.group.member.removed                     | 3006  | 4   | member          | Group/3                        | iam                    | group,change   | Change:Account_Management | modified
tenant.migration_rollout.status.updated         | 3004  | 3   | entity          | Tenant Migration/99            | configuration          | change         | Change:All_Changes        | updated
tenant.migration_rollout.tier.updated           | 3004  | 3   | entity          | Tenant Migration/99            | configuration          | change         | Change:All_Changes        | updated
tenant.role.metadata.updated                    | 3004  | 3   | entity          | Role/99                        | iam                    | admin,change   | Change:All_Changes        | updated
tenant.custom_role.created                      | 3004  | 1   | entity          | Role/99                        | iam                    | admin,creation | Change:All_Changes        | created
tenant.custom_role.updated                      | 3004  | 3   | entity          | Role/99                        | iam                    | admin,change   | Change:All_Changes        | updated
tenant.custom_role.deleted                      | 3004  | 4   | entity          | Role/99                        | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.role_assignment.created                  | 3005  | 1   | principal       | Role Assignment/99             | iam                    | user,change    | Change:Account_Management | modified
tenant.role_assignment.deleted                  | 3005  | 2   | principal       | Role Assignment/99             | iam                    | user,change    | Change:Account_Management | modified
tenant.resource_role_assignment.created         | 3005  | 1   | principal       | Role Assignment/99             | iam                    | user,change    | Change:Account_Management | modified
tenant.resource_role_assignment.deleted         | 3005  | 2   | principal       | Role Assignment/99             | iam                    | user,change    | Change:Account_Management | modified
tenant.resource_access.updated                  | 3004  | 3   | entity          | Resource Access/99             | iam                    | admin,change   | Change:All_Changes        | updated
tenant.resource_access.deleted                  | 3004  | 4   | entity          | Resource Access/99             | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.ads_account.onboarding.redemption        | 3004  | 3   | entity          | Ads Account/99                 | configuration          | change         | Change:All_Changes        | updated
tenant.session_policy.created                   | 3004  | 1   | entity          | Policy/5                       | iam                    | admin,creation | Change:All_Changes        | created
tenant.session_policy.updated                   | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | updated
tenant.session_policy.deleted                   | 3004  | 4   | entity          | Policy/5                       | iam                    | admin,deletion | Change:All_Changes        | deleted
tenant.session_revocation.started               | 3004  | 1   | entity          | Session/99                     | iam                    | user,creation  | Change:All_Changes        | created
tenant.third_party_app_policy.updated           | 3004  | 3   | entity          | Policy/5                       | iam                    | admin,change   | Change:All_Changes        | updated
tenant.user.added                               | 3001  | 1   | user            | User/2                         | iam                    | user,creation  | Change:Account_Management | created
tenant.user.updated                             | 3004  | 3   | entity          | User/2                         | iam                    | user,change    | Change:Account_Management | updated
tenant.user.removed                             | 3001  | 6   | user            | User/2                         | iam                    | user,deletion  | Change:Account_Management | deleted
tenant.user.looked_up                           | 3004  | 2   | entity          | User/2                         | iam                    | user,info      | Change:Account_Management | read
tenant.user.invited                             | 3004  | 1   | entity          | Invite/99                      | iam                    | user,creation  | Change:All_Changes        | created
tenant.membership.revoked                       | 3004  | 4   | entity          | Membership/99                  | iam                    | user,deletion  | Change:All_Changes        | deleted
tenant.api_organization_invite.upserted         | 3004  | 3   | entity          | Invite/99                      | iam                    | user,change    | Change:All_Changes        | updated
tenant.api_organization_invite.deleted          | 3004  | 4   | entity          | Invite/99                      | iam                    | user,deletion  | Change:All_Changes        | deleted
tenant.chatgpt_workspace_invite.upserted        | 3004  | 3   | entity          | Invite/99                      | iam                    | user,change    | Change:All_Changes        | updated
tenant.membership.accepted                      | 3004  | 3   | entity          | Membership/99                  | iam                    | user,change    | Change:All_Changes        | updated
tenant.membership.declined                      | 3004  | 3   | entity          | Membership/99                  | iam                    | user,change    | Change:All_Changes        | updated
tenant.workspace_invite_email_settings.updated  | 3004  | 3   | entity          | Workspace Setting/99           | configuration          | change         | Change:All_Changes        | updated
"""


def _parse(text: str) -> dict[str, MappingRow]:
    rows: dict[str, MappingRow] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("|")]
        name, cls, act, target, entity, ecs_cat, ecs_type, cim_ds, cim_action = cells
        entity_type, _, entity_type_id = entity.rpartition("/")
        if name in rows or target not in TARGET_KINDS:
            raise ValueError(f"bad mapping row: {line!r}")
        rows[name] = MappingRow(
            type=name,
            class_uid=int(cls),
            activity_id=int(act),
            target=target,
            entity_type=entity_type,
            entity_type_id=int(entity_type_id),
            ecs_category=tuple(ecs_cat.split(",")),
            ecs_type=tuple(ecs_type.split(",")),
            cim_dataset=cim_ds,
            cim_action=cim_action,
        )
    return rows


MAPPING: Mapping[str, MappingRow] = MappingProxyType(_parse(_TABLE))
"""Every known OpenAI audit event type, in catalogue order."""


def is_known_type(event_type: str) -> bool:
    """Return whether ``event_type`` has a row in the mapping table."""
    return event_type in MAPPING
