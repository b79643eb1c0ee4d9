"""JSON patch and JSON merge patch as kube-apiserver 1.35 applies them (handlers/patch.go, json-patch v4).

Every expected answer here was checked against kube's own code paths: sigs.k8s.io/json's strict decode and
gopkg.in/evanphx/json-patch.v4, driven as patch.go's applyJSPatch drives them.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machinery import (
    ApiError,
    BadRequest,
    InternalError,
    Invalid,
    RequestEntityTooLarge,
    apply_json_patch,
    apply_merge_patch,
)
from machinery.patch import MAX_NESTING_DEPTH, REJECTED, UnprocessablePatch, go_json_syntax_error

DOC: dict[str, Any] = {"a": 1, "b": {"c": [1, 2, {"d": None}], "e": "x"}, "n": None, "s": "<&>", "t": True}
NOT_A_KIND = (
    'couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { '
    'APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)


def patched(**changes: Any) -> dict[str, Any]:
    """DOC with top-level members replaced (a value of ... removes the member)."""
    doc = copy.deepcopy(DOC)
    for key, value in changes.items():
        if value is ...:
            del doc[key]
        else:
            doc[key] = value
    return doc


def ops(*operations: dict[str, Any]) -> bytes:
    return orjson.dumps(list(operations))


# ----------------------------------------------------------------------------------------------------------
# JSON patch: operations that apply, including json-patch v4's departures from RFC 6902.


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (ops({"op": "add", "path": "/z", "value": {"y": None}}), patched(z={"y": None})),
        (ops({"op": "add", "path": "/a", "value": 2}), patched(a=2)),
        (ops({"op": "add", "path": "/z"}), patched(z=None)),
        (ops({"op": "add", "path": "/b/c/-", "value": 3}), patched(b={"c": [1, 2, {"d": None}, 3], "e": "x"})),
        (ops({"op": "add", "path": "/b/c/0", "value": 0}), patched(b={"c": [0, 1, 2, {"d": None}], "e": "x"})),
        (ops({"op": "add", "path": "/b/c/3", "value": 3}), patched(b={"c": [1, 2, {"d": None}, 3], "e": "x"})),
        # negative indices count from the end; for add, -1 is past the last element
        (ops({"op": "add", "path": "/b/c/-1", "value": 3}), patched(b={"c": [1, 2, {"d": None}, 3], "e": "x"})),
        (ops({"op": "add", "path": "/b/c/-4", "value": 0}), patched(b={"c": [0, 1, 2, {"d": None}], "e": "x"})),
        # strconv.Atoi reads a sign and leading zeros
        (ops({"op": "add", "path": "/b/c/+01", "value": 9}), patched(b={"c": [1, 9, 2, {"d": None}], "e": "x"})),
        (ops({"op": "add", "path": "/b/c/2/e", "value": 5}), patched(b={"c": [1, 2, {"d": None, "e": 5}], "e": "x"})),
        (ops({"op": "add", "path": "/a~1b~0c~01", "value": 1}), patched(**{"a/b~c~1": 1})),
        (ops({"op": "add", "path": "/", "value": 1}), patched(**{"": 1})),
        # a path without its leading slash loses its first token
        (ops({"op": "add", "path": "q/z", "value": 1}), patched(z=1)),
        (ops({"op": "remove", "path": "/a"}), patched(a=...)),
        (ops({"op": "remove", "path": "/n"}), patched(n=...)),
        (ops({"op": "remove", "path": "/b/c/-1"}), patched(b={"c": [1, 2], "e": "x"})),
        (ops({"op": "remove", "path": "/b/c/0"}), patched(b={"c": [2, {"d": None}], "e": "x"})),
        (ops({"op": "replace", "path": "/a", "value": [1]}), patched(a=[1])),
        # replace of a missing member adds it
        (ops({"op": "replace", "path": "/z", "value": 1}), patched(z=1)),
        (ops({"op": "replace", "path": "/a"}), patched(a=None)),
        (ops({"op": "replace", "path": "/b/c/-3", "value": 0}), patched(b={"c": [0, 2, {"d": None}], "e": "x"})),
        (ops({"op": "replace", "path": "", "value": {"x": 1}}), {"x": 1}),
        (ops({"op": "move", "from": "/a", "path": "/z"}), {**patched(a=...), "z": 1}),
        (ops({"op": "move", "from": "/n", "path": "/m"}), {**patched(n=...), "m": None}),
        (ops({"op": "move", "from": "/b/c/0", "path": "/b/c/-"}), patched(b={"c": [2, {"d": None}, 1], "e": "x"})),
        (ops({"op": "copy", "from": "/b/e", "path": "/b/c/1"}), patched(b={"c": [1, "x", 2, {"d": None}], "e": "x"})),
        # copy from a missing member copies null
        (ops({"op": "copy", "from": "/zz", "path": "/y"}), patched(y=None)),
        (ops({"op": "test", "path": "/a", "value": 1}), DOC),
        (ops({"op": "test", "path": "/s", "value": "<&>"}), DOC),
        (ops({"op": "test", "path": "/b", "value": {"e": "x", "c": [1, 2, {"d": None}]}}), DOC),
        (ops({"op": "test", "path": "", "value": DOC}), DOC),
        (ops({"op": "test", "path": "/b/c/-1", "value": {"d": None}}), DOC),
        # a missing or null member tests equal to null or to no value at all
        (ops({"op": "test", "path": "/zz", "value": None}), DOC),
        (ops({"op": "test", "path": "/zz"}), DOC),
        (ops({"op": "test", "path": "/n"}), DOC),
        (ops({"op": "add", "path": "/z", "value": 1}, {"op": "test", "path": "/z", "value": 1}), patched(z=1)),
        (b"[]", DOC),
        (b" null ", DOC),
    ],
)
def test_json_patch_applies_as_json_patch_v4_does(patch: bytes, expected: dict[str, Any]) -> None:
    assert apply_json_patch(DOC, patch) == expected


# ----------------------------------------------------------------------------------------------------------
# JSON patch: operations that fail are 422 with kube's fixed message, json-patch's reason kept aside.


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        (ops({"op": "test", "path": "/a", "value": 2}), "testing value /a failed: test failed"),
        (ops({"op": "test", "path": "/a", "value": True}), "testing value /a failed: test failed"),
        (ops({"op": "test", "path": "/t", "value": 1}), "testing value /t failed: test failed"),
        (ops({"op": "test", "path": "/a"}), "testing value /a failed: test failed"),
        (ops({"op": "test", "path": "/b", "value": {"e": "x", "c": [1, 2, {}]}}), "testing value /b failed: test failed"),
        (ops({"op": "test", "path": "/b/c/5", "value": 1}), "Unable to access invalid index: 5: invalid index referenced"),
        (ops({"op": "test", "path": "/x/y", "value": 1}), "test operation does not apply: is missing path: /x/y: missing value"),
        (ops({"op": "add", "path": "/z", "value": 1}, {"op": "test", "path": "/z", "value": 2}), "testing value /z failed: test failed"),
        (ops({"op": "add", "path": "", "value": 1}), "add operation does not apply: doc is missing path: : missing value"),
        (ops({"op": "add", "path": "z", "value": 1}), "add operation does not apply: doc is missing path: z: missing value"),
        (ops({"op": "add", "path": "/n/x", "value": 1}), "add operation does not apply: doc is missing path: /n/x: missing value"),
        (ops({"op": "add", "path": "/a/x", "value": 1}), "add operation does not apply: doc is missing path: /a/x: missing value"),
        (ops({"op": "add", "path": "/b/c/4", "value": 1}), "Unable to access invalid index: 4: invalid index referenced"),
        (ops({"op": "add", "path": "/b/c/-5", "value": 1}), "Unable to access invalid index: -5: invalid index referenced"),
        (ops({"op": "add", "path": "/b/c/x", "value": 1}), "value was not a proper array index: 'x'"),
        (ops({"op": "add", "value": 1}), "add operation missing path field: missing value"),
        (ops({"op": "remove", "path": "/zz"}), "Unable to remove nonexistent key: zz: missing value"),
        (ops({"op": "remove", "path": "/b/c/3"}), "Unable to access invalid index: 3: invalid index referenced"),
        (ops({"op": "remove", "path": "/b/c/-4"}), "Unable to access invalid index: -4: invalid index referenced"),
        (ops({"op": "remove", "path": "/b/c/-"}), 'strconv.Atoi: parsing "-": invalid syntax'),
        (ops({"op": "remove", "path": ""}), "remove operation does not apply: doc is missing path: : missing value"),
        (ops({"op": "replace", "path": "/b/c/3", "value": 1}), "Unable to access invalid index: 3: invalid index referenced"),
        (ops({"op": "replace", "path": "", "value": 1}), "replace operation value must be object or array"),
        (ops({"op": "replace", "path": "", "value": None}), "replace operation value must be object or array"),
        (ops({"op": "replace", "path": ""}), "replace operation value must be object or array"),
        (ops({"op": "move", "from": "/zz", "path": "/z"}), "Unable to remove nonexistent key: zz: missing value"),
        (ops({"op": "move", "from": "/b", "path": "/b/x"}), "move operation does not apply: doc is missing destination path"),
        (ops({"op": "move", "path": "/z"}), "move operation missing from field: missing value"),
        (ops({"op": "copy", "from": "/b/c/9", "path": "/y"}), "Unable to access invalid index: 9: invalid index referenced"),
        (ops({"op": "copy", "from": "/a", "path": "/x/y"}), "copy operation does not apply: doc is missing destination path"),
        (ops({"op": "frob", "path": "/a"}), "Unexpected kind: frob"),
        (ops({"path": "/a"}), "Unexpected kind: unknown"),
        (ops({"op": None, "path": "/a"}), "Unexpected kind: unknown"),
        (b'[{"OP": "add", "path": "/a", "value": 1}]', "Unexpected kind: unknown"),
        (b"[null]", "Unexpected kind: unknown"),
    ],
)
def test_a_failed_json_patch_operation_is_invalid_with_kubes_generic_message(patch: bytes, why: str) -> None:
    with pytest.raises(UnprocessablePatch) as caught:
        apply_json_patch(DOC, patch)
    assert caught.value.code == 422
    assert caught.value.message == REJECTED
    assert why in caught.value.why


def test_a_failed_json_patch_operation_renders_as_kubes_generic_server_response() -> None:
    with pytest.raises(Invalid) as caught:
        apply_json_patch(DOC, ops({"op": "test", "path": "/a", "value": 2}))
    assert caught.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }


def test_a_json_patch_whose_result_is_no_object_is_invalid_as_kube_decodes_it() -> None:
    with pytest.raises(Invalid) as caught:
        apply_json_patch(DOC, ops({"op": "replace", "path": "", "value": [1, {"b": "<"}]}))
    assert not isinstance(caught.value, UnprocessablePatch)
    assert caught.value.message == f' "" is invalid: patch: Invalid value: "[1,{{\\"b\\":\\"\\\\u003c\\"}}]": {NOT_A_KIND}'
    assert caught.value.status()["details"] == {
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "[1,{{\\"b\\":\\"\\\\u003c\\"}}]": {NOT_A_KIND}',
                "field": "patch",
            }
        ]
    }


def test_more_than_ten_thousand_json_patch_operations_are_too_large() -> None:
    patch = ops(*[{"op": "test", "path": "/a", "value": 1}] * 10001)
    with pytest.raises(RequestEntityTooLarge) as caught:
        apply_json_patch(DOC, patch)
    assert caught.value.code == 413
    assert caught.value.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
    )
    assert apply_json_patch(DOC, ops(*[{"op": "test", "path": "/a", "value": 1}] * 10000)) == DOC


# ----------------------------------------------------------------------------------------------------------
# Patch documents kube cannot decode: 400 with Go's own words (fieldValidation Warn, kube's default).


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (b"", "unexpected end of JSON input"),
        (b" ", "unexpected end of JSON input"),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b"[1,]", "invalid character ']' looking for beginning of value"),
        (b"[01]", "invalid character '1' after array element"),
        (b"[1.]", "invalid character ']' after decimal point in numeric literal"),
        (b"1.", "invalid character ' ' after decimal point in numeric literal"),
        (b"-", "invalid character ' ' in numeric literal"),
        (b"[1e]", "invalid character ']' in exponent of numeric literal"),
        (b"[tru]", "invalid character ']' in literal true (expecting 'e')"),
        (b"[nul", "invalid character ' ' in literal null (expecting 'l')"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
        (b"{1:1}", "invalid character '1' looking for beginning of object key string"),
        (b'["\x01"]', "invalid character '\\x01' in string literal"),
        (b'["\\x"]', "invalid character 'x' in string escape code"),
        (b'["\\u12g4"]', "invalid character 'g' in \\u hexadecimal character escape"),
        (b"[] x", "invalid character 'x' after top-level value"),
        (b"[]]", "invalid character ']' after top-level value"),
        (b"\xef\xbb\xbf[]", "invalid character 'ï' looking for beginning of value"),
        (b"['a']", "invalid character '\\'' looking for beginning of value"),
        (b"[\x7f]", "invalid character '\\x7f' looking for beginning of value"),
        (b"[\xc2\x85]", "invalid character 'Â' looking for beginning of value"),
        (b"[\\]", "invalid character '\\\\' looking for beginning of value"),
        (b"{}", "json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
        (b'"add"', "json: cannot unmarshal string into Go value of type []handlers.jsonPatchOp"),
        (b"1", "json: cannot unmarshal number into Go value of type []handlers.jsonPatchOp"),
        (b"true", "json: cannot unmarshal bool into Go value of type []handlers.jsonPatchOp"),
        (b"1e400", "json: cannot unmarshal number into Go value of type []handlers.jsonPatchOp"),
        (b"[[]]", "json: cannot unmarshal array into Go value of type handlers.jsonPatchOp"),
        (b'["add"]', "json: cannot unmarshal string into Go value of type handlers.jsonPatchOp"),
        (b'[5, {"op": 1}]', "json: cannot unmarshal number into Go value of type handlers.jsonPatchOp"),
        (b'[{"op":1}]', "json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string"),
        (b'[{"op":["add"]}]', "json: cannot unmarshal array into Go struct field jsonPatchOp.op of type string"),
        (b'[{"path":{}}]', "json: cannot unmarshal object into Go struct field jsonPatchOp.path of type string"),
        (b'[{"from":true}]', "json: cannot unmarshal bool into Go struct field jsonPatchOp.from of type string"),
        (b'[{"op":"add","path":"/x","value":{"y":[1e400]}}]', "json: cannot unmarshal number 1e400 into Go struct field jsonPatchOp.value of type float64"),
        (b"[" * 1025 + b"]" * 1025, "invalid character '[' exceeded max depth"),
    ],
)
def test_an_undecodable_json_patch_is_a_bad_request_in_gos_words(patch: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_json_patch(DOC, patch)
    assert caught.value.message == "error decoding patch: " + message
    assert caught.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "error decoding patch: " + message,
        "reason": "BadRequest",
        "code": 400,
    }


# ----------------------------------------------------------------------------------------------------------
# JSON merge patch.


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (b"{}", DOC),
        (b'{"a": 2, "z": "new"}', patched(a=2, z="new")),
        (b'{"a": null, "zz": null}', patched(a=...)),
        (b'{"b": {"e": null, "f": 1}}', patched(b={"c": [1, 2, {"d": None}], "f": 1})),
        (b'{"b": {"c": [3]}}', patched(b={"c": [3], "e": "x"})),
        (b'{"b": [1]}', patched(b=[1])),
        (b'{"a": {"x": null, "y": 1}}', patched(a={"y": 1})),
        (b'{"n": {"x": null, "y": {"z": null}}}', patched(n={"y": {}})),
        # nulls are pruned from what is newly inserted, even from objects inside arrays...
        (b'{"z": [{"x": null, "y": 1}, null]}', patched(z=[{"y": 1}, None])),
        (b'{"b": {"c": [{"x": null}]}}', patched(b={"c": [{}], "e": "x"})),
        # ...but not from an array that replaces an object
        (b'{"b": [{"x": null}]}', patched(b=[{"x": None}])),
        (b'{"a": 1, "a": null}', patched(a=...)),
        (b'{"a": 123456789012345678901234567890}', patched(a=1.2345678901234568e29)),
        # Go reads invalid UTF-8 and lone surrogates as U+FFFD, byte by byte
        (b'{"z": "\xff\xe2\x82!"}', patched(z="\ufffd\ufffd\ufffd!")),
        (b'{"\\udfff": "\\ud800\\udc00\\ud800x"}', patched(**{"\ufffd": "\U00010000\ufffdx"})),
    ],
)
def test_merge_patch_applies_as_json_patch_v4_does(patch: bytes, expected: dict[str, Any]) -> None:
    assert apply_merge_patch(DOC, patch) == expected


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (b"", "error decoding patch: unexpected end of JSON input"),
        (b"{", "error decoding patch: unexpected end of JSON input"),
        (b'{"a":}', "error decoding patch: invalid character '}' looking for beginning of value"),
        (b'{"a":1} {}', "error decoding patch: invalid character '{' after top-level value"),
        (b"[]", "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"),
        (b'"x"', "error decoding patch: json: cannot unmarshal string into Go value of type map[string]interface {}"),
        (b"1", "error decoding patch: json: cannot unmarshal number into Go value of type map[string]interface {}"),
        (b"false", "error decoding patch: json: cannot unmarshal bool into Go value of type map[string]interface {}"),
        (b"1e400", "error decoding patch: json: cannot unmarshal number into Go value of type map[string]interface {}"),
        (b'{"a":[1,-1e999]}', "error decoding patch: json: cannot unmarshal number -1e999 into Go value of type float64"),
        (b"null", "Invalid JSON Patch"),
        (b'{"a":' * 1025 + b"1" + b"}" * 1025, "error decoding patch: invalid character '{' exceeded max depth"),
    ],
)
def test_a_merge_patch_that_is_no_json_object_is_a_bad_request(patch: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_merge_patch(DOC, patch)
    assert caught.value.message == message


# ----------------------------------------------------------------------------------------------------------
# Depth: parsed patches are bounded by orjson's 1024 levels, patched objects by the same bound, and
# nothing recurses over the data (Python's own limit is 1000 frames).


def nested(levels: int, leaf: Any = 1) -> Any:
    """`levels` objects, each the "a" of the one above, `leaf` at the bottom."""
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def chain(value: Any) -> tuple[int, Any]:
    """How many objects nest under "a", and what is at the bottom (no recursion: == would recurse)."""
    depth = 0
    while isinstance(value, dict) and "a" in value:
        depth, value = depth + 1, value["a"]
    return depth, value


def test_patches_as_deep_as_the_bound_apply_without_recursion() -> None:
    patch = b'{"a":' * MAX_NESTING_DEPTH + b"null" + b"}" * MAX_NESTING_DEPTH  # orjson.dumps stops at 254
    result = apply_merge_patch({"b": 1}, patch)
    assert result["b"] == 1
    assert chain(result) == (MAX_NESTING_DEPTH - 1, {})
    deep_obj = nested(MAX_NESTING_DEPTH)
    path = "/a" * (MAX_NESTING_DEPTH - 1)
    result = apply_json_patch(deep_obj, ops({"op": "test", "path": path, "value": {"a": 1}}))
    assert chain(result) == (MAX_NESTING_DEPTH, 1)
    assert result is not deep_obj


def test_a_patched_object_nested_beyond_the_bound_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        apply_json_patch(nested(2000), ops({"op": "add", "path": "/b", "value": 1}))
    assert caught.value.message == (
        " \"\" is invalid: patch: Invalid value: couldn't get version/kind; json parse error: "
        "invalid character '{' exceeded max depth"
    )
    with pytest.raises(Invalid):
        apply_merge_patch(nested(MAX_NESTING_DEPTH + 1), b'{"b": 1}')


# ----------------------------------------------------------------------------------------------------------
# Inputs: never mutated, and nothing but API errors comes out.


def test_neither_patch_mutates_the_object() -> None:
    obj = copy.deepcopy(DOC)
    apply_json_patch(obj, ops({"op": "add", "path": "/b/c/2/d", "value": 1}, {"op": "remove", "path": "/b/e"}))
    apply_merge_patch(obj, b'{"b": {"c": null, "e": {"f": 1}}}')
    with pytest.raises(UnprocessablePatch):
        apply_json_patch(obj, ops({"op": "remove", "path": "/b/e"}, {"op": "test", "path": "/a", "value": 0}))
    assert obj == DOC


def test_the_result_shares_nothing_with_the_object() -> None:
    obj = copy.deepcopy(DOC)
    for result in (apply_json_patch(obj, b"[]"), apply_merge_patch(obj, b"{}")):
        result["b"]["c"][2]["d"] = "changed"
    assert obj == DOC


@pytest.mark.parametrize("apply", [apply_json_patch, apply_merge_patch])
def test_patch_bytes_may_be_any_bytes_like_or_text(apply: Any) -> None:
    patch = b"[]" if apply is apply_json_patch else b"{}"
    for form in (patch, bytearray(patch), memoryview(patch), patch.decode()):
        assert apply(DOC, form) == DOC


@pytest.mark.parametrize("apply", [apply_json_patch, apply_merge_patch])
def test_wrong_python_types_are_internal_errors(apply: Any) -> None:
    with pytest.raises(InternalError):
        apply(["not", "a", "dict"], b"{}")
    with pytest.raises(InternalError):
        apply(DOC, 42)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "", "~", "/"]), inner, max_size=4),
    max_leaves=20,
)
PATHS = st.lists(st.sampled_from(["a", "b", "", "~0", "~1", "0", "1", "-", "-1", "01"]), max_size=4).map(
    lambda tokens: "".join("/" + t for t in tokens)
)
OPERATIONS = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "frob"]), "path": PATHS},
        optional={"from": PATHS, "value": JSON_VALUES},
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(obj=st.dictionaries(st.sampled_from(["a", "b", "c"]), JSON_VALUES, max_size=4), patch=OPERATIONS)
def test_any_json_patch_answers_with_an_object_or_an_api_error(obj: dict[str, Any], patch: list[Any]) -> None:
    before = copy.deepcopy(obj)
    with contextlib.suppress(ApiError):
        assert isinstance(apply_json_patch(obj, orjson.dumps(patch)), dict)
    assert obj == before


@settings(max_examples=300, deadline=None)
@given(obj=st.dictionaries(st.sampled_from(["a", "b", "c"]), JSON_VALUES, max_size=4), patch=JSON_VALUES)
def test_any_merge_patch_answers_with_an_object_or_an_api_error(obj: dict[str, Any], patch: Any) -> None:
    before = copy.deepcopy(obj)
    with contextlib.suppress(ApiError):
        assert isinstance(apply_merge_patch(obj, orjson.dumps(patch)), dict)
    assert obj == before


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=40) | st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b":", b",", b'"a"', b"1", b"-0.5e+3", b"null", b" ", b'"', b"\\", b"\xff"]), max_size=12).map(b"".join))
def test_any_bytes_answer_with_an_object_or_an_api_error(data: bytes) -> None:
    for apply in (apply_json_patch, apply_merge_patch):
        with contextlib.suppress(ApiError):
            apply(DOC, data)


@settings(max_examples=500, deadline=None)
@given(data=st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b":", b",", b'"a"', b'"\\n"', b"1", b"-0.5E-3", b"01", b"true", b"null", b" ", b"\t", b'"', b"\\", b"x"]), max_size=12).map(b"".join))
def test_the_go_scanner_accepts_exactly_what_orjson_accepts(data: bytes) -> None:
    """Short of numbers beyond float64 (1e400), which Go rejects only once it decodes them."""
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        assert go_json_syntax_error(data) is not None
    else:
        assert go_json_syntax_error(data) is None
