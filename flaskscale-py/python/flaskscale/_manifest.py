"""Kubernetes manifest files as the core reads them: YAML (one document or a stream) or JSON
converted to JSON text, with the line of every field so that the core's errors point into the
user's file. The rules that turn a manifest into a policy live in the core
(``flaskscale_core::policy::manifest``); this module only converts.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Tuple

from .exceptions import FlaskscaleError, ParseError


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise FlaskscaleError("reading YAML manifests needs PyYAML: pip install pyyaml") from e
    return yaml


def _walk(node: Any, path: str, lines: Dict[str, int], yaml: Any) -> Any:
    """The plain value of a composed YAML node, recording each path's 1-based line."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: Dict[str, Any] = {}
        for k, v in node.value:
            key = str(yaml.safe_load(yaml.serialize(k)))
            sub = f"{path}.{key}" if path else key
            lines[sub] = k.start_mark.line + 1
            out[key] = _walk(v, sub, lines, yaml)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, v in enumerate(node.value):
            items.append(_walk(v, f"{path}[{i}]", lines, yaml))
        return items
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, float) and value != value:  # .nan: no JSON for it
        return str(node.value)
    return value


def read(path: "str | os.PathLike[str]") -> Tuple[str, Dict[str, int], str]:
    """``(json_text, lines, source)`` of a manifest file: a YAML stream of several documents
    becomes a list; ``lines`` maps each field's path (``spec.metrics[0]``, ``[1].spec`` for the
    second document) to its line."""
    source = os.fspath(path)
    with open(source, encoding="utf-8-sig") as fh:
        text = fh.read()
    yaml = _yaml()
    lines: Dict[str, int] = {}
    try:
        docs = [d for d in yaml.compose_all(text, Loader=yaml.SafeLoader) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        err = ParseError(f"{source}:{line}: not a YAML or JSON manifest: {e}")
        err.line = line  # type: ignore[attr-defined]
        raise err from None
    if len(docs) == 1:
        value: Any = _walk(docs[0], "", lines, yaml)
    else:
        value = []
        for i, d in enumerate(docs):
            value.append(_walk(d, f"[{i}]", lines, yaml))
    return json.dumps(value), lines, source


def dump(doc: Any, path: "str | os.PathLike[str]") -> None:
    """Writes a manifest (a dict, or a list of documents) as YAML, or JSON for a ``.json`` path."""
    target = os.fspath(path)
    docs: List[Any] = doc if isinstance(doc, list) else [doc]
    if target.endswith(".json"):
        text = json.dumps(doc, indent=2) + "\n"
    else:
        text = _yaml().safe_dump_all(docs, sort_keys=False, default_flow_style=False)
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(text)
