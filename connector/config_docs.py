"""Renders docs/configuration.md from the settings tree, so the reference cannot drift from the code."""

from __future__ import annotations

import json
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from connector.config import ENV_PREFIX, Settings
from connector.config_types import parse_duration, split_list

_HEADER = """# Configuration reference

Every setting comes from an environment variable (prefix `CONNECTOR_`, sections joined
with `__`) or from a YAML file passed with `--config`; the environment wins over the file.
Durations accept seconds (`900`) or a number with a unit: `15m`, `24h`, `30d`.
Lists accept `a,b,c` or a JSON list. A bad value stops the connector before any I/O with
exit code 2 and one line naming the variable.

This page is generated from `connector/config.py` by `python -m connector.config_docs`;
a test fails when it is out of date.

The same settings as YAML (section → key):

```yaml
openai:
  admin_key: sk-admin-...        # better from the environment or a mounted Secret
  lookback: 30d
poll:
  interval: 60s
sink:
  type: file
  path: /var/lib/connector/events.ndjson
```
"""


def _type_name(field: FieldInfo) -> str:
    validators = {getattr(m, "func", None) for m in field.metadata}
    if parse_duration in validators:
        return "duration"
    if split_list in validators:
        return "list of strings"
    annotation = field.annotation
    text = str(annotation).replace("typing.", "").replace("pathlib.", "")
    text = text.replace("pydantic.types.", "").replace("<class '", "").replace("'>", "")
    text = text.replace("SecretStr", "secret")
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    return text.replace("NoneType", "None").replace(" | None", " (optional)")


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{json.dumps(value, default=str)}`"


def render_configuration_markdown() -> str:
    """The full configuration reference as Markdown."""
    lines = [_HEADER]
    for section, section_field in Settings.model_fields.items():
        model = section_field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        lines.append(f"\n## `{section}`: {(model.__doc__ or '').strip()}\n")
        lines.append("| variable | type | default | meaning |")
        lines.append("|---|---|---|---|")
        for name, field in model.model_fields.items():
            env = f"{ENV_PREFIX}{section.upper()}__{name.upper()}"
            meaning = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{env}` | {_type_name(field)} | {_default(field)} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_configuration_markdown(), end="")
