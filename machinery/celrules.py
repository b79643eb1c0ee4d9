"""`x-kubernetes-validations` rules of a structural schema: checked when a CRD is written, run on each object.

    check_rules(schema)                        -> FieldErrors for the CRD (`compilation failed: ...`)
    validate_rules(obj, old_obj, schema)       -> FieldErrors for the object, worded as kube words them

Each rule runs at its schema node with `self` bound to the value there, converted with the schema's types
(number -> double, integer -> int, string formats byte/duration/date/date-time -> bytes/duration/timestamp,
property names escaped as kube escapes them, the root and embedded resources exposing only apiVersion, kind,
metadata.name and metadata.generateName). Transition rules (those reading `oldSelf`) run only where an old
value correlates with the new one: by property name in objects and maps, by key in `x-kubernetes-list-type:
map` lists, never inside other lists; `optionalOldSelf: true` runs them anyway with `oldSelf` an optional.
Null values are not validated (rules on the surrounding object can check them).

On update, a failing rule that does not read `oldSelf` is ratcheted as in kube 1.30+ (CRDValidationRatcheting):
when the value it judged is unchanged from the old object, the failure becomes a warning.

Model: k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go and
pkg/apis/apiextensions/validation/validation.go (read, not copied).
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from typing import Any

from celpy import celtypes

from machinery.cel import (
    PER_CALL_LIMIT,
    PER_CALL_TIMEOUT,
    RUNTIME_COST_BUDGET,
    CompileError,
    CostLimitExceeded,
    EvaluationError,
    Program,
    compile_rule,
    evaluate_with_cost,
    from_cel,
    to_cel,
)
from machinery.cel_library import Optional, make_int
from machinery.errors import FieldError, duplicate, forbidden, invalid, not_supported, required

# Wall-clock bound on all the rules of one object, next to the cost budget: kube's budget is sized to about
# one second of Go (RuntimeCELCostBudget).
RUNTIME_TIMEOUT = 2.0  # seconds
MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes
SUPPORTED_REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")
DEFAULT_SCHEMA_PATH = "spec.validation.openAPIV3Schema"

_MISSING: Any = object()


# --- escaping and typed conversion ---------------------------------------------------------------------------

_CEL_RESERVED = frozenset({"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
                           "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
                           "void", "while"})
_ESCAPABLE = re.compile(r"^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$")
_ESCAPES = re.compile(r"__|[.\-/]")
_ESCAPE_WORDS = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}


def escape(name: str) -> str | None:
    """The CEL field name for property `name` (kube's Escape), or None when rules cannot reach it."""
    if name in _CEL_RESERVED:
        return f"__{name}__"
    if not _ESCAPABLE.match(name):
        return None
    return _ESCAPES.sub(lambda m: _ESCAPE_WORDS[m.group(0)], name)


_OBJECT_META = {"type": "object", "properties": {"name": {"type": "string"}, "generateName": {"type": "string"}}}


def _with_type_and_object_meta(schema: dict[str, Any]) -> dict[str, Any]:
    """What rules see at a resource root: apiVersion, kind, metadata.name and metadata.generateName always."""
    props = schema.get("properties") or {}
    meta = props.get("metadata") or {}
    meta_props = meta.get("properties") or {}
    if (props.get("kind", {}).get("type") == "string" and props.get("apiVersion", {}).get("type") == "string"
            and meta.get("type") == "object" and meta_props.get("name", {}).get("type") == "string"
            and meta_props.get("generateName", {}).get("type") == "string"):
        return schema
    props = {**props, "kind": {"type": "string"}, "apiVersion": {"type": "string"}, "metadata": _OBJECT_META}
    return {**schema, "properties": props}


def typed_value(value: Any, schema: dict[str, Any] | None, *, resource_root: bool = False) -> Any:
    """`value` as a CEL value of the schema's declared type (kube's UnstructuredToVal)."""
    if value is None or schema is None or schema.get("x-kubernetes-int-or-string"):
        return to_cel(value)
    if resource_root or schema.get("x-kubernetes-embedded-resource"):
        schema = _with_type_and_object_meta(schema)
    if isinstance(value, dict):
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return celtypes.MapType({celtypes.StringType(k): typed_value(v, extra) for k, v in value.items()})
        props = schema.get("properties") or {}
        fields = {}
        for name, item in value.items():
            prop, cel_name = props.get(name), escape(name)
            if prop is not None and cel_name is not None:
                fields[celtypes.StringType(cel_name)] = typed_value(item, prop)
        return celtypes.MapType(fields)
    if isinstance(value, list):
        items = schema.get("items")
        return celtypes.ListType([typed_value(v, items if isinstance(items, dict) else None) for v in value])
    return _scalar(value, schema)


def _scalar(value: Any, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return celtypes.DoubleType(float(value))
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return make_int(value) if -(2**63) <= value < 2**63 else to_cel(value)
    if kind == "string" and isinstance(value, str):
        fmt = schema.get("format")
        try:
            if fmt == "byte":
                return celtypes.BytesType(base64.b64decode(value, validate=True))
            if fmt == "duration":
                return celtypes.DurationType(value)
            if fmt == "date":
                return celtypes.TimestampType(f"{value}T00:00:00Z")
            if fmt == "date-time":
                return celtypes.TimestampType(value)
        except (ValueError, TypeError):
            pass  # schema validation reports the malformed value; rules see the string
    return to_cel(value)


def _child(cel: Any, key: str) -> Any:
    if isinstance(cel, dict):
        return cel.get(key, _MISSING)
    return _MISSING


# --- paths ---------------------------------------------------------------------------------------------------


def _render(path: str) -> str:
    return path or "<nil>"  # kube's nil field.Path: errors of rules at the root of the object


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_FIELD_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]")
_QUOTE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "'": "'",
                  "\\": "\\"}


def normalize_field_path(field_path: str, schema: dict[str, Any]) -> str | None:
    """`.spec['a.b'].c` as kube's field path (`spec.a.b.c`, map keys as `[key]`), or None if the path does not
    name a field of `schema` (kube's ValidFieldPath)."""
    parts: list[str] = []
    position = 0
    node: dict[str, Any] | None = schema
    while position < len(field_path):
        match = _FIELD_PATH_TOKEN.match(field_path, position)
        if not match or node is None:
            return None
        position = match.end()
        name = match.group(1)
        if name is None:
            try:
                name = re.sub(r"\\(.)", lambda m: _QUOTE_ESCAPES[m.group(1)], match.group(2))
            except KeyError:
                return None
        props, extra = node.get("properties"), node.get("additionalProperties")
        if props is not None:
            if name not in props:
                return None
            node = props[name]
            parts.append(("." if parts else "") + name)
        elif isinstance(extra, dict):
            node = extra
            parts.append(f"[{name}]")
        else:
            return None
    return "".join(parts) if parts else None


# --- running the rules ---------------------------------------------------------------------------------------


class _OutOfBudget(Exception):
    """No further rules are run for this object."""


@dataclass
class _Run:
    errors: list[FieldError]
    warnings: list[str] | None
    budget: int
    deadline: float
    rules_below: dict[int, bool] = field(default_factory=dict)  # by id() of schemas alive during the run

    def has_rules(self, schema: dict[str, Any]) -> bool:
        known = self.rules_below.get(id(schema))
        if known is None:
            known = self.rules_below[id(schema)] = _has_rules(schema)
        return known


def validate_rules(obj: Any, old_obj: Any, schema: dict[str, Any], *, path: str = "",
                   cost_budget: int = RUNTIME_COST_BUDGET, warnings: list[str] | None = None) -> list[FieldError]:
    """Run every `x-kubernetes-validations` rule of `schema` against `obj` (`old_obj` on update, else None).

    `schema` is the structural schema of the whole resource when `path` is "" (its root is a resource root);
    with a `path`, it is the schema of the value found there. Ratcheted failures go to `warnings` if given.
    """
    if not _has_rules(schema):
        return []
    run = _Run([], warnings, cost_budget, time.monotonic() + RUNTIME_TIMEOUT)
    old = _MISSING if old_obj is None else old_obj
    try:
        _walk(run, obj, old, schema, schema, path, root=not path, cel=_MISSING, old_cel=_MISSING,
              anchor=(obj, old))
    except _OutOfBudget:
        pass
    except RecursionError:
        run.errors.append(FieldError("InternalError", _render(path), "object nested too deeply to validate"))
    return run.errors


def _has_rules(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("x-kubernetes-validations"):
        return True
    children = [schema.get("items"), schema.get("additionalProperties"), *(schema.get("allOf") or [])]
    children += list((schema.get("properties") or {}).values())
    return any(_has_rules(child) for child in children)


def _walk(run: _Run, value: Any, old: Any, vschema: dict[str, Any], nschema: dict[str, Any], path: str, *,
          root: bool, cel: Any, old_cel: Any, anchor: tuple[Any, Any]) -> None:
    """Rules of `vschema` at this node, then its allOf, then the children; `nschema` gives the types."""
    if value is None or not run.has_rules(vschema):
        return
    if old is not _MISSING and old is None:
        old = _MISSING
    if old is not _MISSING:
        anchor = (value, old)
    rules = vschema.get("x-kubernetes-validations") or []
    if rules:
        if cel is _MISSING:
            cel = typed_value(value, nschema, resource_root=root)
        if old is not _MISSING and old_cel is _MISSING:
            old_cel = typed_value(old, nschema, resource_root=root)
        _run_rules(run, rules, cel, old_cel if old is not _MISSING else _MISSING, nschema, path, anchor)
    for sub in vschema.get("allOf") or []:
        if isinstance(sub, dict):
            _walk(run, value, old, sub, nschema, path, root=root, cel=cel, old_cel=old_cel, anchor=anchor)
    if isinstance(value, dict):
        _walk_object(run, value, old, vschema, nschema, path, cel, old_cel, anchor)
    elif isinstance(value, list):
        _walk_list(run, value, old, vschema, nschema, path, cel, old_cel, anchor)


def _walk_object(run: _Run, value: dict[str, Any], old: Any, vschema: dict[str, Any], nschema: dict[str, Any],
                 path: str, cel: Any, old_cel: Any, anchor: tuple[Any, Any]) -> None:
    old_map = old if isinstance(old, dict) else {}
    extra, node_extra = vschema.get("additionalProperties"), nschema.get("additionalProperties")
    if isinstance(extra, dict) and isinstance(node_extra, dict):
        for key, item in value.items():
            _walk(run, item, old_map.get(key, _MISSING), extra, node_extra, f"{path}[{key}]", root=False,
                  cel=_child(cel, key), old_cel=_child(old_cel, key), anchor=anchor)
    props, node_props = vschema.get("properties") or {}, nschema.get("properties") or {}
    for key, item in value.items():
        if key in props and key in node_props:
            cel_key = escape(key) or ""
            embedded = bool(node_props[key].get("x-kubernetes-embedded-resource"))
            _walk(run, item, old_map.get(key, _MISSING), props[key], node_props[key], _join(path, key),
                  root=embedded, cel=_child(cel, cel_key), old_cel=_child(old_cel, cel_key), anchor=anchor)


def _walk_list(run: _Run, value: list[Any], old: Any, vschema: dict[str, Any], nschema: dict[str, Any],
               path: str, cel: Any, old_cel: Any, anchor: tuple[Any, Any]) -> None:
    items, node_items = vschema.get("items"), nschema.get("items")
    if not isinstance(items, dict) or not isinstance(node_items, dict):
        return
    correlate = _correlator(nschema, old)
    embedded = bool(node_items.get("x-kubernetes-embedded-resource"))
    for i, item in enumerate(value):
        old_item, old_index = correlate(item)
        item_anchor = anchor
        if old_item is _MISSING and nschema.get("x-kubernetes-list-type") == "set" and isinstance(old, list) \
                and item in old:
            item_anchor = (item, item)  # a set element present before is unchanged: its failures ratchet
        item_cel = cel[i] if isinstance(cel, list) else _MISSING
        item_old_cel = old_cel[old_index] if isinstance(old_cel, list) and old_index is not None else _MISSING
        _walk(run, item, old_item, items, node_items, f"{path}[{i}]", root=embedded, cel=item_cel,
              old_cel=item_old_cel, anchor=item_anchor)


def _correlator(schema: dict[str, Any], old: Any) -> Any:
    """item -> (old item, its index) for `map` lists keyed by x-kubernetes-list-map-keys; nothing otherwise."""
    keys = schema.get("x-kubernetes-list-map-keys") or []
    if schema.get("x-kubernetes-list-type") != "map" or not keys or not isinstance(old, list):
        return lambda item: (_MISSING, None)
    by_key: dict[str, tuple[Any, int]] = {}
    for index, element in enumerate(old):
        if isinstance(element, dict):
            by_key.setdefault(_map_key(element, keys), (element, index))

    def find(item: Any) -> tuple[Any, int | None]:
        if not isinstance(item, dict):
            return _MISSING, None
        return by_key.get(_map_key(item, keys), (_MISSING, None))

    return find


def _map_key(element: dict[str, Any], keys: list[str]) -> str:
    return repr([(k, element.get(k)) for k in keys])


def _run_rules(run: _Run, rules: list[Any], cel: Any, old_cel: Any, schema: dict[str, Any], path: str,
               anchor: tuple[Any, Any]) -> None:
    kind = schema.get("type") or "object"
    for rule in rules:
        if not isinstance(rule, dict) or not str(rule.get("rule") or "").strip():
            continue
        try:
            program = compile_rule(str(rule["rule"]))
        except CompileError as err:
            run.errors.append(invalid(_render(path), kind, f"rule compile error: {err}"))
            continue
        optional_old = bool(rule.get("optionalOldSelf"))
        if program.uses_old_self and old_cel is _MISSING and not optional_old:
            continue  # transition rules need an old value to compare with
        activation = {"self": cel}
        if program.uses_old_self:
            if optional_old:
                activation["oldSelf"] = Optional(old_cel, present=old_cel is not _MISSING)
            else:
                activation["oldSelf"] = old_cel
        outcome = _evaluate(run, program, activation, rule, path, kind)
        if outcome is None or (isinstance(outcome, celtypes.BoolType) and outcome):
            continue
        if not isinstance(outcome, celtypes.BoolType):
            run.errors.append(invalid(_render(path), kind, f"cel expression must evaluate to a bool evaluating "
                                                           f"rule: {_rule_text(rule)}"))
            continue
        error_path = _render(path)
        if rule.get("fieldPath"):
            normalized = normalize_field_path(str(rule["fieldPath"]).strip(), schema)
            if normalized:
                error_path = _join(path, normalized)
        detail = _message_expression(run, rule, activation, error_path, kind) or _rule_message(rule)
        error = _error_for_reason(error_path, kind, detail, rule.get("reason"))
        if not program.uses_old_self and anchor[1] is not _MISSING and anchor[0] == anchor[1]:
            if run.warnings is not None:
                run.warnings.append(error.message())
        else:
            run.errors.append(error)


def _evaluate(run: _Run, program: Program, activation: dict[str, Any], rule: dict[str, Any], path: str,
              kind: str) -> Any:
    """The rule's result, or None after recording why it has none; stops everything when out of budget."""
    limit = min(PER_CALL_LIMIT, run.budget)
    timeout = min(PER_CALL_TIMEOUT, run.deadline - time.monotonic())
    if limit <= 0 or timeout <= 0:
        run.errors.append(invalid(_render(path), kind, "validation failed due to running out of cost budget, "
                                                       "no further validation rules will be run"))
        raise _OutOfBudget
    try:
        outcome, cost = evaluate_with_cost(program, activation, cost_limit=limit, timeout=timeout)
    except CostLimitExceeded as err:
        if limit < PER_CALL_LIMIT or timeout < PER_CALL_TIMEOUT:
            detail = "validation failed due to running out of cost budget, no further validation rules will be run"
        else:
            detail = (f"'{err}': no further validation rules will be run due to call cost exceeds limit for rule: "
                      f"{_rule_text(rule)}")
        run.errors.append(invalid(_render(path), kind, detail))
        raise _OutOfBudget from None
    except EvaluationError as err:
        if str(err).startswith("no such overload"):
            detail = (f"'{err}': call arguments did not match a supported operator, function or macro signature "
                      f"for rule: {_rule_text(rule)}")
        else:
            detail = f"{err} evaluating rule: {_rule_text(rule)}"
        run.errors.append(invalid(_render(path), kind, detail))
        return None
    run.budget -= cost
    return outcome


def _message_expression(run: _Run, rule: dict[str, Any], activation: dict[str, Any], path: str,
                        kind: str) -> str | None:
    """The evaluated messageExpression, or None to fall back to the rule's message (as kube does on errors)."""
    source = str(rule.get("messageExpression") or "")
    if not source.strip():
        return None
    try:
        program = compile_rule(source)
    except CompileError:
        return None
    limit = min(PER_CALL_LIMIT, run.budget)
    timeout = min(PER_CALL_TIMEOUT, run.deadline - time.monotonic())
    try:
        outcome, cost = evaluate_with_cost(program, activation, cost_limit=max(limit, 0), timeout=max(timeout, 0))
    except CostLimitExceeded:
        if limit < PER_CALL_LIMIT or timeout < PER_CALL_TIMEOUT:
            detail = ("messageExpression evaluation failed due to running out of cost budget, no further "
                      "validation rules will be run")
        else:
            detail = (f"no further validation rules will be run due to call cost exceeds limit for "
                      f"messageExpression: {_go_quote(source)}")
        run.errors.append(invalid(path, kind, detail))
        raise _OutOfBudget from None
    except EvaluationError:
        return None
    run.budget -= cost
    message = from_cel(outcome)
    if not isinstance(message, str):
        return None
    message = message.strip()
    if not message or "\n" in message or len(message.encode()) > MAX_MESSAGE_EXPRESSION_BYTES:
        return None
    return message


def _rule_text(rule: dict[str, Any]) -> str:
    """kube's ruleErrorString: the message if there is one, else the rule."""
    message = str(rule.get("message") or "").strip()
    return message or str(rule.get("rule") or "").strip()


def _rule_message(rule: dict[str, Any]) -> str:
    message = str(rule.get("message") or "").strip()
    return message or f"failed rule: {_rule_text(rule)}"


def _error_for_reason(path: str, kind: str, detail: str, reason: Any) -> FieldError:
    if reason == "FieldValueForbidden":
        return forbidden(path, detail)
    if reason == "FieldValueRequired":
        return required(path, detail)
    if reason == "FieldValueDuplicate":
        return duplicate(path, kind)
    return invalid(path, kind, detail)


# --- checking the rules of a CRD -----------------------------------------------------------------------------


def check_rules(schema: dict[str, Any], *, path: str = DEFAULT_SCHEMA_PATH) -> list[FieldError]:
    """What kube's CRD validation says about the `x-kubernetes-validations` of `schema` (an openAPIV3Schema
    found at `path`): malformed rules, messages and field paths, and rules or messageExpressions that do not
    compile (`compilation failed: ...`). Empty when all is well."""
    errors: list[FieldError] = []
    _check_node(schema, path, None, errors)
    return errors


def _check_node(schema: Any, path: str, uncorrelatable: str | None, errors: list[FieldError]) -> bool:
    """Check `schema` and below; True if a shape error (not a CEL error) was found, as kube skips compiling
    the rules of a node when its subtree has such errors."""
    if not isinstance(schema, dict):
        return False
    shape_errors = False
    for name, prop in (schema.get("properties") or {}).items():
        shape_errors |= _check_node(prop, f"{path}.properties[{name}]", uncorrelatable, errors)
    if isinstance(schema.get("items"), dict):
        inner = uncorrelatable
        if inner is None and schema.get("x-kubernetes-list-type") != "map":
            inner = path
        shape_errors |= _check_node(schema["items"], f"{path}.items", inner, errors)
    if isinstance(schema.get("additionalProperties"), dict):
        shape_errors |= _check_node(schema["additionalProperties"], f"{path}.additionalProperties", uncorrelatable,
                                    errors)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(keyword) or []):
            shape_errors |= _check_node(sub, f"{path}.{keyword}[{i}]", uncorrelatable, errors)
    if isinstance(schema.get("not"), dict):
        shape_errors |= _check_node(schema["not"], f"{path}.not", uncorrelatable, errors)
    rules = schema.get("x-kubernetes-validations") or []
    if not isinstance(rules, list):
        return shape_errors
    for i, rule in enumerate(rules):
        shape_errors |= _check_rule_shape(rule if isinstance(rule, dict) else {}, schema,
                                          f"{path}.x-kubernetes-validations[{i}]", errors)
    if not shape_errors:
        for i, rule in enumerate(rules):
            if isinstance(rule, dict):
                _compile_checks(rule, f"{path}.x-kubernetes-validations[{i}]", uncorrelatable, errors)
    return shape_errors


def _check_rule_shape(rule: dict[str, Any], schema: dict[str, Any], path: str, errors: list[FieldError]) -> bool:
    before = len(errors)
    text, message = str(rule.get("rule") or ""), rule.get("message")
    trimmed_message = str(message or "").strip()
    if not text.strip():
        errors.append(required(f"{path}.rule", "rule is not specified"))
    elif message is not None and message != "" and not trimmed_message:
        errors.append(invalid(f"{path}.message", message, "message must be non-empty if specified"))
    elif re.search(r"[\n\r]", trimmed_message):
        errors.append(invalid(f"{path}.message", message, "message must not contain line breaks"))
    elif re.search(r"[\n\r]", text.strip()) and not trimmed_message:
        errors.append(required(f"{path}.message", "message must be specified if rule contains line breaks"))
    expression = rule.get("messageExpression")
    if expression and not str(expression).strip():
        errors.append(required(f"{path}.messageExpression", "messageExpression must be non-empty if specified"))
    reason = rule.get("reason")
    if reason is not None and reason not in SUPPORTED_REASONS:
        errors.append(not_supported(f"{path}.reason", reason, list(SUPPORTED_REASONS)))
    field_path = rule.get("fieldPath")
    if field_path:
        if not str(field_path).strip():
            errors.append(invalid(f"{path}.fieldPath", field_path, "fieldPath must be non-empty if specified"))
        elif re.search(r"[\n\r]", str(field_path)):
            errors.append(invalid(f"{path}.fieldPath", field_path, "fieldPath must not contain line breaks"))
        elif normalize_field_path(str(field_path).strip(), schema) is None:
            errors.append(invalid(f"{path}.fieldPath", field_path, "fieldPath must be a valid path"))
    return len(errors) > before


def _compile_checks(rule: dict[str, Any], path: str, uncorrelatable: str | None, errors: list[FieldError]) -> None:
    text = str(rule.get("rule") or "")
    program: Program | None = None
    try:
        program = compile_rule(text)
    except CompileError as err:
        errors.append(_invalid_rule(f"{path}.rule", rule, str(err)))
    expression = str(rule.get("messageExpression") or "")
    if expression.strip():
        try:
            compile_rule(expression)
        except CompileError as err:
            detail = "messageExpression " + str(err)
            errors.append(_invalid_rule(f"{path}.messageExpression", rule, detail))
    if program is None:
        return
    if program.uses_old_self:
        if uncorrelatable is not None:
            errors.append(invalid(f"{path}.rule", text, f"oldSelf cannot be used on the uncorrelatable portion of "
                                                        f"the schema within {uncorrelatable}"))
    elif rule.get("optionalOldSelf") is not None:
        errors.append(invalid(f"{path}.optionalOldSelf", rule["optionalOldSelf"],
                              "may not be set if oldSelf is not used in rule"))


def _invalid_rule(path: str, rule: dict[str, Any], detail: str) -> FieldError:
    """field.Invalid(path, rule, detail): kube prints the rule as Go prints the struct (%#v)."""
    return FieldError("FieldValueInvalid", path, f"{_go_rule(rule)}: {detail}")


def _go_rule(rule: dict[str, Any]) -> str:
    def pointer(type_name: str, value: Any) -> str:
        if value is None:
            return f"(*{type_name})(nil)"
        return f"(*{type_name})({_go_quote(value) if isinstance(value, str) else str(value).lower()})"

    return ("apiextensions.ValidationRule{"
            f"Rule:{_go_quote(rule.get('rule') or '')}, Message:{_go_quote(rule.get('message') or '')}, "
            f"MessageExpression:{_go_quote(rule.get('messageExpression') or '')}, "
            f"Reason:{pointer('apiextensions.FieldValueErrorReason', rule.get('reason'))}, "
            f"FieldPath:{_go_quote(rule.get('fieldPath') or '')}, "
            f"OptionalOldSelf:{pointer('bool', rule.get('optionalOldSelf'))}}}")


def _go_quote(text: Any) -> str:
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'
