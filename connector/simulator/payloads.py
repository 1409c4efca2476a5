"""Type-specific payloads built from the catalogue's ``payload_fields`` shapes."""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connector.simulator.catalogue import category, payload_fields
from connector.simulator.identities import Organization, rand_hex, rand_id


@dataclass(slots=True)
class PayloadContext:
    """What a payload may refer to: the event type, its project and the org pools."""

    rng: random.Random
    org: Organization
    event_type: str
    project: dict[str, str] | None


_ID_PREFIX = {
    "api_key": "key_",
    "certificate": "cert_",
    "certificates": "cert_",
    "certificates[]": "cert_",
    "configs[]": "ipal_",
    "checkpoint": "cp_",
    "external_key": "extkey_",
    "group": "group_",
    "invite": "invite-",
    "ip_allowlist": "ipal_",
    "rate_limit": "rl-",
    "workload_identity_provider": "wip_",
    "workload_identity_provider_mapping": "wipm_",
    "role": "role_",
    "resource": "res_",
    "tunnel": "tunnel_",
}
_SCOPES = (
    "api.model.request",
    "api.model.read",
    "api.files.write",
    "api.assistants.read",
    "api.threads.write",
    "api.fine_tuning.jobs.write",
    "api.batch.write",
)
_PERMISSIONS = (
    "api.organization.read",
    "api.organization.write",
    "api.projects.read",
    "api.audit_logs.read",
    "chatgpt.connectors.use",
    "chatgpt.workspace.admin",
)
_NAMES = ("prod-mtls", "Zertifikat Büro", "office-egress", "Équipe sécurité", "東京オフィス", "gha")
_GROUPS = ("Engineering", "Sécurité", "データサイエンス", "On-call", "Финансы")
_ROLE_NAMES = ("Auditor", "Billing viewer", "Lecteur", "プロジェクト管理者", "Key admin")
_CONNECTORS = ("Google Drive", "SharePoint", "GitHub", "Notion", "Confluence")
_LOGIN_ERRORS = (
    ("invalid_credentials", "Wrong email or password."),
    ("mfa_failed", "The verification code is invalid or has expired."),
    ("account_locked", "Too many failed attempts; the account is locked."),
    ("sso_required", "This organization requires single sign-on."),
)
_ALLOWED_IPS = ("198.51.100.0/24", "203.0.113.7", "192.0.2.0/28", "2001:db8::/48", "2001:db8:1::10")


def _pick_project_id(c: PayloadContext) -> str:
    if c.project is not None:
        return c.project["id"]
    if c.org.projects:
        return c.rng.choice(c.org.projects)["id"]
    return rand_id(c.rng, "proj_")


def _pem(c: PayloadContext) -> str:
    raw = base64.b64encode(c.rng.randbytes(720)).decode("ascii")
    lines = [raw[i : i + 64] for i in range(0, len(raw), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _sample(c: PayloadContext, pool: tuple[str, ...]) -> list[str]:
    return c.rng.sample(pool, k=c.rng.randint(1, 3))


_FIELDS: dict[str, Callable[[PayloadContext], Any]] = {
    "scopes": lambda c: _sample(c, _SCOPES),
    "name": lambda c: f"{c.rng.choice(_NAMES)}-{rand_hex(c.rng, 4)}",
    "certificate": _pem,
    "project_id": _pick_project_id,
    "fine_tuned_model_checkpoint": lambda c: (
        f"ft:gpt-4o-mini-2024-07-18:acme::{rand_id(c.rng, '', 8)}:ckpt-step-{c.rng.randint(1, 90)}00"
    ),
    "group_name": lambda c: c.rng.choice(_GROUPS),
    "email": lambda c: c.rng.choice(c.org.users).email,
    "role": lambda c: c.rng.choice(("owner", "member", "reader")),
    "allowed_ips": lambda c: _sample(c, _ALLOWED_IPS),
    "title": lambda c: c.rng.choice(("Recherche & Développement", "Support", "研究", "Acme Inc.")),
    "description": lambda c: c.rng.choice(("Organisation für Forschung", "Main org", "")),
    "threads_ui_visibility": lambda c: c.rng.choice(("ANY_ROLE", "OWNERS", "NONE")),
    "usage_dashboard_visibility": lambda c: c.rng.choice(("ANY_ROLE", "OWNERS")),
    "api_call_logging": lambda c: c.rng.choice(
        (
            "disabled",
            "enabled_per_call",
            "enabled_for_all_projects",
            "enabled_for_selected_projects",
        )
    ),
    "api_call_logging_project_ids": lambda c: ",".join(p["id"] for p in c.org.projects[:2]),
    "identity_provider_id": lambda c: rand_id(c.rng, "wip_"),
    "service_account_id": lambda c: c.rng.choice(c.org.service_accounts),
    "role_name": lambda c: c.rng.choice(_ROLE_NAMES),
    "role_id": lambda c: rand_id(c.rng, "role_"),
    "permissions": lambda c: _sample(c, _PERMISSIONS),
    "permissions_added": lambda c: _sample(c, _PERMISSIONS),
    "permissions_removed": lambda c: _sample(c, _PERMISSIONS),
    "resource_type": lambda c: c.rng.choice(("api.organization", "api.project")),
    "resource_id": _pick_project_id,
    "principal_id": lambda c: c.rng.choice(c.org.users).id,
    "principal_type": lambda c: "user",
    "workspace_id": lambda c: str(uuid.UUID(int=c.rng.getrandbits(128), version=4)),
    "connector_id": lambda c: "connector_" + rand_hex(c.rng, 32),
    "connector_name": lambda c: c.rng.choice(_CONNECTORS),
    "metadata": lambda c: {"ticket": f"SEC-{c.rng.randint(100, 9999)}", "équipe": "sécurité"},
}

# Free-form objects the spec leaves undocumented, keyed by (type, field).
_FREE_FORM: dict[tuple[str, str], Callable[[PayloadContext], dict[str, Any]]] = {
    ("external_key.registered", "data"): lambda c: {
        "provider": "aws_kms",
        "key_uri": f"arn:aws:kms:eu-west-1:123456789012:key/{rand_hex(c.rng, 32)}",
    },
    ("workload_identity_provider.created", "data"): lambda c: {
        "name": "GitHub Actions",
        "issuer": "https://token.actions.githubusercontent.com",
        "audience": "https://api.openai.com",
    },
    ("workload_identity_provider.updated", "changes_requested"): lambda c: {
        "name": f"GitHub Actions ({rand_hex(c.rng, 4)})"
    },
    ("workload_identity_provider_mapping.created", "data"): lambda c: {
        "project_id": _pick_project_id(c),
        "service_account_id": c.rng.choice(c.org.service_accounts),
        "subject": "repo:acme/app:ref:refs/heads/main",
    },
    ("workload_identity_provider_mapping.updated", "changes_requested"): lambda c: {
        "subject": "repo:acme/app:environment:production"
    },
}


def _top_id(c: PayloadContext) -> str:
    t = c.event_type
    cat = category(t)
    if cat in ("organization", "scim"):
        return c.org.org_id
    if cat == "project":
        return _pick_project_id(c)
    if cat == "user":
        return c.rng.choice(c.org.users).id
    if cat == "service_account":
        return c.rng.choice(c.org.service_accounts)
    if t.startswith("role.assignment."):
        return rand_id(c.rng, "ra_")
    if cat == "api_key":
        keys = c.org.user_keys + c.org.service_keys
        return c.rng.choice(keys).id
    if cat == "invite":
        return rand_id(c.rng, "invite-")
    return rand_id(c.rng, _ID_PREFIX.get(cat, f"{cat}_"))


def _value(c: PayloadContext, field: str, shape: Any, parent: str) -> Any:
    if isinstance(shape, dict):
        keys = list(shape)
        if field == "changes_requested" and len(keys) > 1:
            # A change request carries only what changed: a non-empty subset.
            keys = sorted(c.rng.sample(keys, k=c.rng.randint(1, len(keys))), key=keys.index)
        owner = field or parent
        return {k: _value(c, k, shape[k], owner) for k in keys}
    if isinstance(shape, list):
        return [_value(c, "", shape[0], field + "[]") for _ in range(c.rng.randint(1, 3))]
    text = str(shape)
    if field == "id":
        if parent:
            return rand_id(c.rng, _ID_PREFIX.get(parent, f"{parent}_"))
        return _top_id(c)
    if text.startswith("object"):
        maker = _FREE_FORM.get((c.event_type, field))
        return maker(c) if maker else {"note": f"{field} {rand_hex(c.rng, 6)}"}
    if "(enum:" in text:
        options = text.split("(enum:", 1)[1].rstrip(")").split("|")
        return c.rng.choice([o.strip() for o in options])
    if field in _FIELDS:
        return _FIELDS[field](c)
    if text == "integer":
        return c.rng.choice((60, 500, 3500, 10_000, 90_000, 2_000_000))
    if text == "boolean":
        return c.rng.random() < 0.5
    if text.startswith("array"):
        return [f"{field}_{rand_hex(c.rng, 6)}"]
    return f"{field}_{rand_hex(c.rng, 8)}"


def _invented(c: PayloadContext) -> dict[str, Any]:
    """A plausible payload for the 90 types the spec leaves undocumented."""
    parts = c.event_type.split(".")
    verb = parts[-1]
    if parts[0] == "tenant":
        noun = parts[1]
        if noun in ("user", "membership"):
            user = c.rng.choice(c.org.users)
            body: dict[str, Any] = {"id": user.id, "email": user.email}
        else:
            body = {"id": rand_id(c.rng, f"{noun}_")}
        body["tenant_id"] = c.org.tenant_id
    elif parts[0] == "resource":
        body = {
            "id": rand_id(c.rng, "file-"),
            "resource_type": c.rng.choice(("file", "vector_store")),
        }
    else:
        body = {"id": rand_id(c.rng, f"{parts[0]}_")}
    if verb in ("created", "upserted", "added", "invited", "provisioned", "issued"):
        body["data"] = {"name": f"{c.rng.choice(_NAMES)}-{rand_hex(c.rng, 4)}"}
    elif verb == "updated":
        body["changes_requested"] = {"name": f"{c.rng.choice(_NAMES)}-{rand_hex(c.rng, 4)}"}
    return body


def build_payload(c: PayloadContext) -> dict[str, Any]:
    """Return the payload object for ``c.event_type`` (what goes under ``event[type]``)."""
    shape = payload_fields(c.event_type)
    if shape is None:
        return _invented(c)
    t = c.event_type
    if t == "api_key.updated" and c.rng.random() < 0.3:
        # The spec's own list example uses data.scopes instead of changes_requested.scopes.
        shape = {"id": "string", "data": {"scopes": "array<string>"}}
    payload: dict[str, Any] = _value(c, "", shape, "")
    if t in ("role.bound_to_resource", "role.unbound_from_resource"):
        payload["resource_type"] = "chatgpt.workspace_connector"
        payload["id"] = payload["resource_id"] = f"{payload['workspace_id']}__{payload['connector_id']}"
    elif t == "workload_identity_provider_mapping.deleted":
        payload["project_id"] = _pick_project_id(c)
    return payload
