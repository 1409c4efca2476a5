"""OCSF 1.8.0 constants the normalizer needs: class and activity captions, enums, verb rules."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

OCSF_VERSION = "1.8.0"
"""The one place the OCSF schema version is pinned (normalization.md §2.8)."""

ENTITY_MANAGEMENT = 3004
"""The catch-all class: unknown types and degraded events land here."""

# Captions copied from the 1.8.0 export (dictionary / classes); a unit test compares them
# with the bundled schema so a version bump cannot leave them stale. They are constants
# here because ocsf-json-schema is a dev-only dependency.
CATEGORY_NAMES: Mapping[int, str] = MappingProxyType({3: "Identity & Access Management"})

CLASS_NAMES: Mapping[int, str] = MappingProxyType(
    {
        3001: "Account Change",
        3002: "Authentication",
        3004: "Entity Management",
        3005: "User Access Management",
        3006: "Group Management",
    }
)

ACTIVITY_NAMES: Mapping[int, Mapping[int, str]] = MappingProxyType(
    {
        3001: {
            0: "Unknown",
            1: "Create",
            2: "Enable",
            3: "Password Change",
            4: "Password Reset",
            5: "Disable",
            6: "Delete",
            7: "Attach Policy",
            8: "Detach Policy",
            9: "Lock",
            10: "MFA Factor Enable",
            11: "MFA Factor Disable",
            12: "Unlock",
            99: "Other",
        },
        3002: {
            0: "Unknown",
            1: "Logon",
            2: "Logoff",
            3: "Authentication Ticket",
            4: "Service Ticket Request",
            5: "Service Ticket Renew",
            6: "Preauth",
            7: "Account Switch",
            99: "Other",
        },
        3004: {
            0: "Unknown",
            1: "Create",
            2: "Read",
            3: "Update",
            4: "Delete",
            5: "Move",
            6: "Enroll",
            7: "Unenroll",
            8: "Enable",
            9: "Disable",
            10: "Activate",
            11: "Deactivate",
            12: "Suspend",
            13: "Resume",
            99: "Other",
        },
        3005: {0: "Unknown", 1: "Assign Privileges", 2: "Revoke Privileges", 99: "Other"},
        3006: {
            0: "Unknown",
            1: "Assign Privileges",
            2: "Revoke Privileges",
            3: "Add User",
            4: "Remove User",
            5: "Delete",
            6: "Create",
            7: "Add Subgroup",
            8: "Remove Subgroup",
            99: "Other",
        },
    }
)

MANAGED_ENTITY_TYPES: Mapping[int, str] = MappingProxyType(
    {
        0: "Unknown",
        1: "Device",
        2: "User",
        3: "Group",
        4: "Organization",
        5: "Policy",
        6: "Email",
        7: "Network Zone",
        99: "Other",
    }
)

SEVERITY_INFORMATIONAL = (1, "Informational")
STATUS_SUCCESS = (1, "Success")
STATUS_FAILURE = (2, "Failure")

# user.type_id
USER_TYPE_USER = (1, "User")
USER_TYPE_SERVICE = (4, "Service")

# observable.type_id
OBS_IP = 2
OBS_EMAIL = 5
OBS_RESOURCE_UID = 10
OBS_USER_AGENT = 16
OBS_FINGERPRINT = 30
OBS_USER_UID = 31
OBS_GROUP_UID = 33

FINGERPRINT_OTHER = 99
"""``fingerprint.algorithm_id`` for JA3/JA4: 1.8.0 has no dedicated ids for them."""

OTHER_ACTIVITY = 99

VERB_ACTIVITIES: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys(("created", "registered", "added", "issued", "provisioned", "sent", "invited"), 1),
        "looked_up": 2,
        **dict.fromkeys(
            (
                "updated",
                "upserted",
                "migrated",
                "completed",
                "resolved",
                "accepted",
                "declined",
            ),
            3,
        ),
        **dict.fromkeys(("deleted", "removed", "revoked"), 4),
        **dict.fromkeys(("enabled", "activated"), 8),
        **dict.fromkeys(("disabled", "deactivated", "archived"), 9),
    }
)
"""Entity Management activity for the last dotted segment of a type (normalization.md §2.6)."""


def class_name(class_uid: int) -> str:
    """Return the OCSF caption of ``class_uid`` (``"Other"`` for a class we never emit)."""
    return CLASS_NAMES.get(class_uid, "Other")


def activity_name(class_uid: int, activity_id: int) -> str:
    """Return the OCSF caption of ``activity_id`` within ``class_uid``."""
    return ACTIVITY_NAMES.get(class_uid, {}).get(activity_id, "Other")


def verb_activity(event_type: str) -> tuple[int, str]:
    """Map a type's verb (its last dotted segment) to an Entity Management activity.

    Args:
        event_type: An OpenAI audit event type, e.g. ``"widget.frobnicated"``.

    Returns:
        ``(activity_id, activity_name)``; an unknown verb gives ``(99, <verb>)``.
    """
    verb = event_type.rpartition(".")[2]
    activity_id = VERB_ACTIVITIES.get(verb)
    if activity_id is None:
        return OTHER_ACTIVITY, verb or "Other"
    return activity_id, activity_name(ENTITY_MANAGEMENT, activity_id)
