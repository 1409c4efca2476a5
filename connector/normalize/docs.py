"""Render ``docs/mapping.md`` from the mapping table, so the docs cannot drift from the code.

Run ``python -m connector.normalize.docs > docs/mapping.md`` after changing the table.
"""

from __future__ import annotations

import sys

from connector.normalize import ocsf_enums as enums
from connector.normalize.clean import MAX_DEPTH
from connector.normalize.ocsf_targets import ENTITY_LISTS, LOOKUPS
from connector.normalize.table import MAPPING, MappingRow

REGENERATE = "python -m connector.normalize.docs > docs/mapping.md"

_TARGETS = {
    "entity": "`entity` (uid, name, type, `data` = payload)",
    "session": "`user` = the actor's user",
    "user": "`user` (uid; 3005 adds `privileges`)",
    "service_account": "`user` (uid, type Service; 3005 adds `privileges`)",
    "group": "`group` (uid, name)",
    "member": "`group` + `user` (the member)",
    "principal": "`user` or `group` + `privileges` + `resources` ¹",
}

_INTRO = f"""\
# OpenAI audit events → OCSF {enums.OCSF_VERSION} (and ECS, Splunk CIM)

<!-- Generated from connector/normalize/table.py; do not edit by hand.
     Regenerate with: {REGENERATE} -->

Every OpenAI audit event becomes one OCSF {enums.OCSF_VERSION} event of the
Identity & Access Management category (`category_uid` 3) with the `cloud` profile. The
table below is rendered from the mapping table in `connector/normalize/table.py`, one
row per event type; `type_uid` is always computed as `class_uid * 100 + activity_id`.
The same row also gives the ECS 9.4.0 `event.category`/`event.type` of the `ecs` output
(see docs/elastic.md) and the Splunk CIM dataset and action of the add-on (docs/splunk.md).

Common to every event: `severity_id` 1 (Informational); `status_id` 1 (Success), or 2
(Failure) for `*.failed` types, with `error_code` → `status_code` and `error_message` →
`status_detail`; `time` = `effective_at` × 1000; `message` and `metadata.event_code` =
the type; `metadata.uid` = the audit-log `id`; `raw_data` = the original event as JSON.
"""

_RULES = """\
## Rules

**¹ Role assignments.** `role.assignment.*`, `tenant.role_assignment.*` and
`tenant.resource_role_assignment.*` map to User Access Management (3005) when
`principal_type` is `user` (or `service_account`, with `user.type_id` 4), and to Group
Management (3006, 1 Assign Privileges / 2 Revoke Privileges) when it is `group`. The
privilege is the role id when the payload has one, else the assignment `id`; the
`resource_id`/`resource_type` become `resources` (3005) or `resource` (3006).

**Degrade, don't drop.** When the payload lacks what the row's class requires (the
target user or group, the role for 3005, the member of a group-membership change, the
principal of a role assignment, or, for Authentication, an actor user), the event is
emitted as Entity Management (3004) with the row's *fallback entity* and without the
class-specific attributes. Its activity comes from the type's verb (see below); group
membership and privilege changes become 3 Update; a verb with no Entity Management
meaning (e.g. `login.succeeded`) gives 99 Other with the original activity as
`activity_name`.

**Unknown types** (not in the table) become Entity Management with `entity.type_id` 99
and `entity.name` = `entity.type` = the type without its last segment (the whole type
when it has no dot). They are logged once per type. The activity comes from the last segment of the type:

| verb | activity_id | activity |
|---|---|---|
"""

_FIELDS = """\
## Actor mapping

| OpenAI `actor` | OCSF |
|---|---|
| `session.user.{id,email}` | `actor.user.{uid,email_addr}`, `type_id` 1 (User) |
| `api_key.user.{id,email}` | the same, plus `programmatic_credentials` (below) |
| `api_key.service_account.id` | `actor.user.uid`, `type_id` 4 (Service), plus `programmatic_credentials` |
| `api_key` with no owner | `actor.app_uid` = the key id |
| `null` | `actor.app_name` = `"OpenAI"` |
| absent | no `actor` |
| any other shape | kept in `unmapped.actor` |

`actor.user.programmatic_credentials` is `[{uid: <api_key.id>, type: "API Key"}]`. An
email that OCSF's pattern rejects is dropped, and a user with an email but no id gets
the email as `name` (OCSF needs a uid or a name).

Authentication (3002) events also copy the actor's user into `user` and set
`service.name` = `"OpenAI API Platform"` (the class requires `service` or
`dst_endpoint`).

## Field mapping

| OpenAI | OCSF |
|---|---|
| `actor.session.ip_address` | `src_endpoint.ip` (only a valid IPv4/IPv6 address; no IP, no `src_endpoint`) |
| `ip_address_details.{city,country,region}` | `src_endpoint.location.*` (only when one of them is present) |
| `ip_address_details.{latitude,longitude}` | `src_endpoint.location.{lat,long}`, float |
| `ip_address_details.asn` | `src_endpoint.autonomous_system.number`, int (`"AS"` prefix accepted) |
| `actor.session.ja3` / `ja4` | `src_endpoint.fingerprints` (`algorithm_id` 99, `algorithm` `JA3` / `JA4`) |
| `actor.session.user_agent` | `http_request.user_agent` |
| `project.id` | `cloud.project_uid` and `cloud.account.uid` (`project_uid` is deprecated since OCSF 1.4) |
| `project` | `unmapped.project` (keeps the name) |
| org id (connector config) | `metadata.tenant_uid`, `cloud.org.uid`; `cloud.provider` = `"OpenAI"` |
| payload (3004) | `entity.data` |
| payload (other classes) | `unmapped.payload` |
| other top-level keys | `unmapped.<key>` |
| IPs, emails, user agent, fingerprints, user/group/entity uids | `observables` |

The payload is read from `event[type]`, or from `event[type with dots replaced by
underscores]` when only that spelling is present.

**Output hygiene.** `null`, `""` and empty objects/arrays are removed (OCSF rejects
`null`). Dots in payload keys become underscores, so no key reads as a nested path.
Integers beyond 64 bits and non-finite floats become strings. Values nested deeper than
@MAX_DEPTH@ levels are replaced by a marker. A value that cannot be cast (a non-numeric
or out-of-range asn or coordinate, an invalid IP or email) is dropped from the mapped
fields; `raw_data` always keeps the original.

## Payload lookups

Target attributes are read from the first payload path present, in this order:

| attribute | payload paths |
|---|---|
"""


def _row_line(row: MappingRow) -> str:
    footnote = " ¹" if row.target == "principal" else ""
    activity = enums.activity_name(row.class_uid, row.activity_id)
    type_uid = row.class_uid * 100 + row.activity_id
    if row.class_uid == enums.ENTITY_MANAGEMENT:
        entity = f"{row.entity_type} ({row.entity_type_id})"
    else:
        entity = f"fallback: {row.entity_type} ({row.entity_type_id})"
    return (
        f"| `{row.type}`{footnote} | {enums.class_name(row.class_uid)} ({row.class_uid}) "
        f"| {row.activity_id} {activity} → {type_uid} | {entity} | {_TARGETS[row.target]} "
        f"| {'/'.join(row.ecs_category)} · {'/'.join(row.ecs_type)} | {row.cim_dataset} : {row.cim_action} |"
    )


def render_mapping_markdown() -> str:
    """Return the Markdown of ``docs/mapping.md``."""
    lines = [_INTRO, f"## Event types ({len(MAPPING)})", ""]
    lines.append(
        "| OpenAI `type` | OCSF class | activity → type_uid | entity | target "
        "| ECS event.category · event.type | Splunk CIM dataset : action |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    lines.extend(_row_line(row) for row in MAPPING.values())
    lines.extend(["", _RULES.rstrip("\n")])
    by_activity: dict[int, list[str]] = {}
    for verb, activity_id in enums.VERB_ACTIVITIES.items():
        by_activity.setdefault(activity_id, []).append(f"`{verb}`")
    for activity_id, verbs in sorted(by_activity.items()):
        name = enums.activity_name(enums.ENTITY_MANAGEMENT, activity_id)
        lines.append(f"| {', '.join(verbs)} | {activity_id} | {name} |")
    lines.append(f"| anything else | {enums.OTHER_ACTIVITY} | Other (`activity_name` = the verb) |")
    lines.extend(["", _FIELDS.rstrip("\n").replace("@MAX_DEPTH@", str(MAX_DEPTH))])
    for role, paths in LOOKUPS.items():
        rendered = ", ".join("`" + ".".join(path) + "`" for path in paths)
        lines.append(f"| {role} | {rendered} |")
    lists = " or ".join(f"`{key}`" for key in ENTITY_LISTS)
    lines.extend(
        [
            "",
            f"When a payload has no top-level `id` or name, a one-element {lists} list",
            "supplies the entity uid and name.",
        ]
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write the mapping Markdown to stdout."""
    sys.stdout.write(render_mapping_markdown())


if __name__ == "__main__":
    main()
