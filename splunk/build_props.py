"""Writes TA-openai-audit/default/props.conf from the named expression fragments below.

Splunk evaluates all calculated fields (``EVAL-*``) of a sourcetype in parallel, so one
EVAL cannot read another's result: a rule that several CIM fields need (such as "is the
changed object an account?") must be repeated inside each of them. Writing it once here and
substituting it keeps the copies identical; the .conf file is the artifact Splunk reads.

    python splunk/build_props.py          # rewrite props.conf
    python splunk/build_props.py --check  # exit 1 if props.conf is out of date

tests/unit/test_splunk_addon.py evaluates the generated expressions for every OpenAI event
type and compares the CIM data set and action with connector/normalize/table.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROPS_PATH = Path(__file__).parent / "TA-openai-audit" / "default" / "props.conf"

# --- shared by both sourcetypes -------------------------------------------------------------

CONSTANTS = {
    "app": '"openai"',
    "dest": '"platform.openai.com"',
    "dvc": '"api.openai.com"',
    "vendor": '"OpenAI"',
    "product": '"API Platform"',
    "vendor_product": '"OpenAI API Platform"',
}

CONFIG_RE = (
    r"^(tenant\.)?(certificates?|external_key|ip_allowlist|organization|project|rate_limit|resource"
    r"|tunnel|metadata|migration|migration_rollout|domains|billing|usage_limit|ads_account"
    r"|workspace_invite_email_settings)\."
)
"""Type prefixes of configuration changes (CIM change_type=configuration); the rest are AAA."""

# --- ocsf:openai:audit ----------------------------------------------------------------------

O_AUTH = "class_uid==3002"
INVITE_RE = r"^(tenant\.)?user\.invited$"
ACCOUNT_TYPES_RE = r"^(tenant\.)?(user|service_account)\.(?!invited$)[a-z_]+$"
"""user.* and service_account.* types, except invitations (their object is an invite)."""

O_ACCOUNT = (
    f"""class_uid!=3002 AND (isnotnull('user.uid') OR match('metadata.event_code', "{ACCOUNT_TYPES_RE}"))"""
)
"""The object is an account: the user target of a 3001, 3005 or 3006 member change, or any event of a
user.*/service_account.* type (Entity Management ones such as tenant.user.updated, degraded
ones, unknown ones). A group-principal role assignment (3006, a group target) is not."""

O_INVITE = f"match('metadata.event_code', \"{INVITE_RE}\")"
"""An invitation to a user.* type: its object is the invite (never object_category=user)."""

O_ACTOR = (
    "coalesce('actor.user.email_addr', 'actor.user.name', 'actor.user.uid', 'actor.app_uid',"
    " 'actor.app_name', \"unknown\")"
)
O_ACTION = (
    'case(class_uid==3002, if(status_id==2, "failure", "success"),'
    r""" match('metadata.event_code', "\.(attached|detached|bound_to_resource|unbound_from_resource)$"),"""
    ' "modified", activity_name=="Create", "created", activity_name=="Read", "read",'
    ' activity_name=="Update", "updated", activity_name=="Delete", "deleted", true(), "modified")'
)
O_PAYLOAD_KEYS = (
    'coalesce(json_extract(_raw, "entity.data.changes_requested"),'
    ' json_extract(_raw, "unmapped.payload.changes_requested"), json_extract(_raw, "entity.data.data"),'
    ' json_extract(_raw, "unmapped.payload.data"))'
)

OCSF_ALIASES = {
    "command": "metadata.event_code",
    "signature": "metadata.event_code",
    "src_ip": "src_endpoint.ip",
    "user_agent": "http_request.user_agent",
}
OCSF_EVALS = {
    "vendor_account": "coalesce('cloud.org.uid', 'metadata.tenant_uid', openai_org_id)",
    "action": O_ACTION,
    "status": 'if(status_id==2, "failure", "success")',
    "result": 'if(status_id==2, coalesce(status_detail, status_code, "failure"), null())',
    "reason": "coalesce(status_detail, status_code)",
    "src": "coalesce('src_endpoint.ip', \"unknown\")",
    "user": (
        f"if({O_ACCOUNT}, coalesce('user.email_addr', 'user.name', 'user.uid', 'entity.user.uid',"
        f" 'entity.uid', 'entity.name'), {O_ACTOR})"
    ),
    "user_id": (
        f"if({O_ACCOUNT}, coalesce('user.uid', 'entity.user.uid', 'entity.uid'),"
        " coalesce('actor.user.uid', 'actor.app_uid'))"
    ),
    "src_user": f"if({O_AUTH}, null(), {O_ACTOR})",
    "change_type": f'if(match(\'metadata.event_code\', "{CONFIG_RE}"), "configuration", "AAA")',
    "object_category": (
        f'case({O_AUTH}, null(), {O_ACCOUNT}, "user", class_uid==3006, "group", {O_INVITE}, "invite",'
        ' true(), replace(lower(coalesce(\'entity.type\', "unknown")), " ", "_"))'
    ),
    "object_id": (f"if({O_AUTH}, null(), coalesce('user.uid', 'group.uid', 'entity.uid', \"unknown\"))"),
    "object": (
        f"if({O_AUTH}, null(), coalesce('user.email_addr', 'user.name', 'group.name', 'entity.name',"
        " 'user.uid', 'group.uid', 'entity.uid', \"unknown\"))"
    ),
    "object_attrs": (
        f"if({O_AUTH}, null(), coalesce(json_array_to_mv(json_keys({O_PAYLOAD_KEYS})),"
        " if(isnotnull('privileges{}'), \"privileges\", null()),"
        " if(class_uid==3006 AND isnotnull('user.uid'), \"groups\", null())))"
    ),
}

# --- openai:audit (raw) ---------------------------------------------------------------------

R_PAYLOAD = "json_extract_exact(_raw, type)"
"""The type-specific payload, under a key equal to the type (json_extract would split it at the dots).

Only the documented dotted key is read: the underscored spelling seen in some third-party
fixtures is handled by the OCSF normalizer, so send OCSF if your events use it.
"""

R_AUTH = r"""match(type, "^(login|logout)\.")"""
R_INVITE = f'match(type, "{INVITE_RE}")'
R_FAILED = r"""match(type, "\.failed$")"""
R_ACCOUNT = f"""match(type, "{ACCOUNT_TYPES_RE}|role[._]assignment\\.[a-z_]+$|\\.member\\.[a-z_]+$")"""
"""The object is an account: user.*/service_account.* (not invites), role assignments, members."""

R_PRIVILEGE_CHANGE = (
    r"""match(type, "role[._]assignment\.|\.member\.[a-z_]+$|^(user|service_account)\.updated$")"""
)
"""Role and membership changes: CIM "modified" whatever their verb (OCSF 3005/3006 in the table)."""

R_VERB_ACTIONS = (
    ("created", r"\.(created|registered|added|issued|provisioned|sent|invited|started)$"),
    ("read", r"\.looked_up$"),
    ("updated", r"\.(updated|upserted|migrated|completed|resolved|accepted|declined|redemption)$"),
    ("deleted", r"\.(deleted|removed|revoked)$|\.deletion\.requested$"),
)
"""The verb rule (the type's last segment), in order; anything else is "modified"."""


FAILURE = '"failure"'


def _payload(path: str) -> str:
    return f'json_extract({R_PAYLOAD}, "{path}")'


def _coalesce(*parts: str) -> str:
    return f"coalesce({', '.join(parts)})"


R_ACTOR = (
    "coalesce('actor.session.user.email', 'actor.api_key.user.email', 'actor.session.user.id',"
    " 'actor.api_key.user.id', 'actor.api_key.service_account.id', 'actor.api_key.id', \"unknown\")"
)
R_ACTOR_ID = (
    "coalesce('actor.session.user.id', 'actor.api_key.user.id', 'actor.api_key.service_account.id',"
    " 'actor.api_key.id')"
)
R_TARGET_ID = _coalesce(
    *(_payload(p) for p in ("principal_id", "user_id", "user.id", "service_account_id", "id"))
)
R_TARGET = _coalesce(_payload("email"), _payload("user.email"), R_TARGET_ID, '"unknown"')
R_ACTION = (
    f'case({R_AUTH}, if({R_FAILED}, "failure", "success"), {R_PRIVILEGE_CHANGE}, "modified", '
    + ", ".join(f'match(type, "{regex}"), "{action}"' for action, regex in R_VERB_ACTIONS)
    + ', true(), "modified")'
)

RAW_ALIASES = {
    "command": "type",
    "signature": "type",
    "src_ip": "actor.session.ip_address",
    "user_agent": "actor.session.user_agent",
    "vendor_account": "openai_org_id",
}
RAW_EVALS = {
    "action": R_ACTION,
    "status": f'if({R_FAILED}, "failure", "success")',
    "result": (
        f"if({R_FAILED}, {_coalesce(_payload('error_message'), _payload('error_code'), FAILURE)}, null())"
    ),
    "reason": f"if({R_FAILED}, {_coalesce(_payload('error_message'), _payload('error_code'))}, null())",
    "src": "coalesce('actor.session.ip_address', \"unknown\")",
    "user": f"if({R_ACCOUNT}, {R_TARGET}, {R_ACTOR})",
    "user_id": f"if({R_ACCOUNT}, {R_TARGET_ID}, {R_ACTOR_ID})",
    "src_user": f"if({R_AUTH}, null(), {R_ACTOR})",
    "change_type": f'if(match(type, "{CONFIG_RE}"), "configuration", "AAA")',
    "object_category": (
        f'case({R_AUTH}, null(), {R_ACCOUNT}, "user", {R_INVITE}, "invite",'
        ' true(), replace(type, "^(tenant\\.)?(.+)\\.[a-z_]+$", "\\2"))'
    ),
    "object_id": (
        f"if({R_AUTH}, null(), "
        + _coalesce(
            f"if({R_ACCOUNT}, {R_TARGET_ID}, null())", _payload("id"), _payload("group_id"), '"unknown"'
        )
        + ")"
    ),
    "object": (
        f"if({R_AUTH}, null(), if({R_ACCOUNT}, {R_TARGET}, "
        + _coalesce(
            *(_payload(p) for p in ("name", "data.name", "role_name", "group_name", "data.group_name", "id")),
            '"unknown"',
        )
        + "))"
    ),
    "object_attrs": (
        f"if({R_AUTH}, null(), coalesce(json_array_to_mv(json_keys("
        + _coalesce(_payload("changes_requested"), _payload("data"))
        + ")),"
        r""" if(match(type, "role[._]assignment\."), "privileges", null()),"""
        r""" if(match(type, "\.member\.[a-z_]+$"), "groups", null())))"""
    ),
}

# --- the file -------------------------------------------------------------------------------

HEADER = """\
# GENERATED by splunk/build_props.py: edit that file, then run it. Do not edit by hand.
#
# Search-time field extractions and CIM fields for the OpenAI audit log, in the two
# sourcetypes openai-audit-connector's Splunk HEC sink sends:
#   ocsf:openai:audit  the OCSF 1.8.0 form (the connector's default output)
#   openai:audit       the raw event as the OpenAI Admin API returns it
#
# CIM data sets (the tags come from eventtypes.conf and tags.conf):
#   Authentication              login.* / logout.* (OCSF class 3002)
#   Change:Account_Management   changes whose object is an account (object_category=user)
#   Change:All_Changes          every other change
#
# CIM action:
#   OCSF  from activity_name: Create/Read/Update/Delete -> created/read/updated/deleted, any
#         other activity (Enable, Disable, Assign Privileges, Add User ...) -> modified; the
#         attach/detach and bind/unbind types, OCSF "Update", are modified.
#   raw   from the type's verb (its last dotted segment); role assignments, group members,
#         user.updated and service_account.updated change privileges and are modified.
#
# Splunk runs calculated fields in parallel (no EVAL reads another's result), so shared
# rules are repeated inside each EVAL. The JSON eval functions need Splunk 9.0 or later.
#
# Events sent to HEC /services/collector/event carry their own time and are not line-broken,
# so the timestamp and line-breaking settings only matter when the connector's NDJSON output
# is ingested as a file (a monitor input) or through /services/collector/raw.
"""

OCSF_PARSING = """\
description = OpenAI audit log, normalized to OCSF 1.8.0 by openai-audit-connector
category = Structured
pulldown_type = 1
SHOULD_LINEMERGE = false
LINE_BREAKER = ([\\r\\n]+)
# Large enough for any event HEC accepts (maxEventSize 5 MB): certificate events carry PEMs.
TRUNCATE = 5000000
TIME_PREFIX = "time"\\s*:\\s*
TIME_FORMAT = %s%3N
MAX_TIMESTAMP_LOOKAHEAD = 16
KV_MODE = json
AUTO_KV_JSON = true
ANNOTATE_PUNCT = false
"""

RAW_PARSING = """\
description = OpenAI audit log, raw JSON from the OpenAI Admin API (via openai-audit-connector)
category = Structured
pulldown_type = 1
SHOULD_LINEMERGE = false
LINE_BREAKER = ([\\r\\n]+)
TRUNCATE = 5000000
TIME_PREFIX = "effective_at"\\s*:\\s*
TIME_FORMAT = %s
MAX_TIMESTAMP_LOOKAHEAD = 12
KV_MODE = json
AUTO_KV_JSON = true
ANNOTATE_PUNCT = false
"""


def _stanza(name: str, parsing: str, aliases: dict[str, str], evals: dict[str, str]) -> str:
    lines = [f"[{name}]", parsing]
    lines += [f"FIELDALIAS-openai_{dest} = {src} AS {dest}" for dest, src in aliases.items()]
    lines.append("")
    lines += [f"EVAL-{field} = {expr}" for field, expr in {**CONSTANTS, **evals}.items()]
    return "\n".join(lines) + "\n"


def render() -> str:
    """Return the text of props.conf."""
    return "\n".join(
        (
            HEADER,
            _stanza("ocsf:openai:audit", OCSF_PARSING, OCSF_ALIASES, OCSF_EVALS),
            _stanza("openai:audit", RAW_PARSING, RAW_ALIASES, RAW_EVALS),
        )
    )


def main(argv: list[str]) -> int:
    """Write props.conf, or with ``--check`` report whether it is up to date."""
    text = render()
    if "--check" in argv:
        if PROPS_PATH.read_text(encoding="utf-8") != text:
            print(f"{PROPS_PATH} is out of date: run python splunk/build_props.py", file=sys.stderr)
            return 1
        return 0
    PROPS_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
