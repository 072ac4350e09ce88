"""Block Kit as plain, readable text: for `practice-bot say`, logs of the demo and tests."""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)\|([^>]+)>")


def mrkdwn_to_text(text: str, names: dict[str, str] | None = None) -> str:
    names = names or {}
    text = _LINK.sub(r"\2 (\1)", text)
    text = _USER.sub(lambda m: "@" + (m.group(2) or names.get(m.group(1), m.group(1))), text)
    text = _CHANNEL.sub(r"#\2", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: dict[str, str]) -> str:
    if isinstance(obj, dict):
        return mrkdwn_to_text(str(obj.get("text", "")), names)
    return ""


def _element(el: dict[str, Any], names: dict[str, str]) -> str:
    kind = el.get("type")
    if kind == "button":
        return f"[{_text(el.get('text'), names)}]"
    if kind in ("static_select", "overflow", "users_select", "multi_static_select"):
        label = _text(el.get("placeholder"), names) or "choose"
        return f"[{label} ▾]"
    if kind == "datepicker":
        return f"[date: {el.get('initial_date', 'pick')}]"
    if kind in ("mrkdwn", "plain_text"):
        return mrkdwn_to_text(str(el.get("text", "")), names)
    if kind in ("checkboxes", "radio_buttons"):
        return " ".join(f"( ) {_text(o.get('text'), names)}" for o in el.get("options", []))
    return ""


def blocks_to_text(blocks: list[dict[str, Any]] | None, text: str = "", names: dict[str, str] | None = None) -> str:
    names = names or {}
    if not blocks:
        return mrkdwn_to_text(text, names)
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(_text(block.get("text"), names).upper())
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"], names))
            fields = block.get("fields") or []
            for i in range(0, len(fields), 2):
                lines.append("    ".join(_text(f, names) for f in fields[i : i + 2]))
            if block.get("accessory"):
                lines.append("  " + _element(block["accessory"], names))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "context":
            lines.append("  " + "  ".join(_element(e, names) for e in block.get("elements", [])))
        elif kind == "actions":
            lines.append("  " + " ".join(_element(e, names) for e in block.get("elements", [])))
        elif kind == "input":
            label = _text(block.get("label"), names)
            lines.append(f"{label}: {_element(block.get('element', {}), names) or '[ ]'}")
        elif kind == "rich_text":
            lines.append(str(block.get("text", "")))
    return "\n".join(line for line in lines if line is not None)


def view_to_text(view: dict[str, Any], names: dict[str, str] | None = None) -> str:
    title = _text(view.get("title"), names or {})
    body = blocks_to_text(view.get("blocks"), names=names)
    return f"== {title} ==\n{body}" if title else body
