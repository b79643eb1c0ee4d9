"""Kube's JSONPath dialect: client-go's parser and evaluator cases, and what printer columns lean on."""

from __future__ import annotations

import re
from typing import Any

import pytest

from machinery.jsonpath import JSONPathError, compile, to_text

TYPES: dict[str, Any] = {
    "bools": [True, False, True, False],
    "integers": [1, 2, 3, 4],
    "floats": [1.0, 2.2, 3.3, 4.0],
    "strings": ["one", "two", "three", "four"],
    "interfaces": [True, "one", 1, 1.1],
    "maps": [{"name": "one", "value": 1}, {"name": "two", "value": 2.02}, {"name": "three", "value": 3.03},
             {"name": "four", "value": 4.04}],
}

STORE: dict[str, Any] = {
    "Name": "jsonpath",
    "Book": [
        {"Category": "reference", "Author": "Nigel Rees", "Title": "Sayings of the Centurey", "Price": 8.95},
        {"Category": "fiction", "Author": "Evelyn Waugh", "Title": "Sword of Honour", "Price": 12.99},
        {"Category": "fiction", "Author": "Herman Melville", "Title": "Moby Dick", "Price": 8.99},
    ],
    "Bicycle": [{"Color": "red", "Price": 19.95, "IsNew": True}, {"Color": "green", "Price": 20.01, "IsNew": False}],
    "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20},
    "Employees": {"jason": "manager", "dan": "clerk"},
}

POINTS: list[Any] = [
    {"id": "i1", "x": 4, "y": -5},
    {"id": "i2", "x": -2, "y": -5, "z": 1},
    {"id": "i3", "x": 8, "y": 3},
    {"id": "i4", "x": -6, "y": -1},
    {"id": "i5", "x": 0, "y": 2, "z": 1},
    {"id": "i6", "x": 1, "y": 4},
    {"id": "i7", "x": None, "y": 4},
]

NODES: dict[str, Any] = {
    "kind": "List",
    "items": [
        {"kind": "None", "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
         "status": {"capacity": {"cpu": "4"}, "ready": True,
                    "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
        {"kind": "None", "metadata": {"name": "127.0.0.2", "labels": {"kubernetes.io/hostname": "127.0.0.2"}},
         "status": {"capacity": {"cpu": "8"}, "ready": False,
                    "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"},
                                  {"type": "another", "address": "127.0.0.3"}]}},
    ],
    "users": [{"name": "myself", "user": {}}, {"name": "e2e", "user": {"username": "admin", "password": "secret"}}],
}

CONTAINERS = {"spec": {"containers": [{"name": f"fake{i}", "image": "busybox"} for i in range(6)]}}
FOUR = {"spec": {"containers": CONTAINERS["spec"]["containers"][:4]}}

WIDGET: dict[str, Any] = {
    "metadata": {"name": "w1", "labels": {"app.kubernetes.io/name": "widget"}},
    "spec": {"replicas": 3, "ratio": 0.5, "paused": False, "selector": {"matchLabels": {"app": "w"}}},
    "status": {"conditions": [{"type": "Progressing", "status": "True"}, {"type": "Ready", "status": "False"}],
               "replicas": 2},
}


# --- client-go's own cases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "data", "expected"), [
    ("{ .bools }", TYPES, "[true,false,true,false]"),
    ("{ .bools[0] }", TYPES, "true"),
    ("{ .bools[-1] }", TYPES, "false"),
    ("{ .bools[0:2] }", TYPES, "true false"),
    ("{ .bools[:2] }", TYPES, "true false"),
    ("{ .bools[:4:2] }", TYPES, "true true"),
    ("{ .integers }", TYPES, "[1,2,3,4]"),
    ("{ .integers[-2] }", TYPES, "3"),
    ("{ .integers[:4:2] }", TYPES, "1 3"),
    ("{ .floats }", TYPES, "[1,2.2,3.3,4]"),
    ("{ .floats[0] }", TYPES, "1"),
    ("{ .floats[-2] }", TYPES, "3.3"),
    ("{ .strings }", TYPES, '["one","two","three","four"]'),
    ("{ .strings[:4:2] }", TYPES, "one three"),
    ("{ .interfaces }", TYPES, '[true,"one",1,1.1]'),
    ("{ .interfaces[0:2] }", TYPES, "true one"),
    ("{ .interfaces[:4:2] }", TYPES, "true 1"),
    ("{ .maps[0] }", TYPES, '{"name":"one","value":1}'),
    ("{ .maps[::2] }", TYPES, '{"name":"one","value":1} {"name":"three","value":3.03}'),
    ("{ .maps[1::2] }", TYPES, '{"name":"two","value":2.02} {"name":"four","value":4.04}'),
    ("hello jsonpath", None, "hello jsonpath"),
    ("{..}", [1, 2, 3], "[1,2,3]"),
    ("{[?(@<5)]}", [2, 6, 3, 7], "2 3"),
    ('{"{"}', None, "{"),
    ("{[1,3,4]}", [0, 1, 2, 3, 4], "1 3 4"),
    ("{[0:2]}", ["Monday", "Tudesday"], "Monday Tudesday"),
    ("hello {.Name}", STORE, "hello jsonpath"),
    ("{$.Labels.web/html}", STORE, "15"),
    ("{$.Employees.jason}", STORE, "manager"),
    ("{.Labels.k8s-app}", STORE, "20"),
    ("{.Bicycle[*].Color}", STORE, "red green"),
    ("{.Book[*].Author}", STORE, "Nigel Rees Evelyn Waugh Herman Melville"),
    ("{..Price}", STORE, "8.95 12.99 8.99 19.95 20.01"),
    ("{...Price}", STORE, "8.95 12.99 8.99 19.95 20.01"),
    ("{.Book[-1:]}", STORE, '{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}'),
    ("{..Book[2]}", STORE, '{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}'),
    ("{.Bicycle[?(@.IsNew==true)]}", STORE, '{"Color":"red","IsNew":true,"Price":19.95}'),
    ("{[?(@.z)].id}", POINTS, "i2 i5"),
    ("{[0]['id']}", POINTS, "i1"),
    ("{[-1]['x']}", POINTS, "null"),
    ("{.items[*].status.addresses[*].address}", NODES, "127.0.0.1 127.0.0.2 127.0.0.3"),
    ("{.items[*].metadata.name}", NODES, "127.0.0.1 127.0.0.2"),
    ("{.items[*]['metadata.name', 'status.capacity']}", NODES, '127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}'),
    ('{.users[?(@.name=="e2e")].user.password}', NODES, "secret"),
    (r"{.items[0].metadata.labels.kubernetes\.io/hostname}", NODES, "127.0.0.1"),
    (r'{.items[?(@.metadata.labels.kubernetes\.io/hostname=="127.0.0.1")].kind}', NODES, "None"),
    ("{.items[?(@..ready==true)].metadata.name}", NODES, "127.0.0.1"),
    ("{..name}", NODES, "127.0.0.1 127.0.0.2 myself e2e"),
    ("{.spec.containers[0].name}", FOUR, "fake0"),
    ("{.spec.containers[0:0].name}", FOUR, ""),
    ("{.spec.containers[0:-1].name}", FOUR, "fake0 fake1 fake2"),
    ("{.spec.containers[-1].name}", FOUR, "fake3"),
    ("{.spec.containers[-1:].name}", FOUR, "fake3"),
    ("{.spec.containers[-2:].name}", FOUR, "fake2 fake3"),
    ("{.spec.containers[-4].name}", FOUR, "fake0"),
    ("{.spec.containers[-4:].name}", FOUR, "fake0 fake1 fake2 fake3"),
    ("{.spec.containers[5:5].name}", FOUR, ""),
    ("{.spec.containers[-5:-5].name}", FOUR, ""),
    ("{.spec.containers[0:].name}", CONTAINERS, "fake0 fake1 fake2 fake3 fake4 fake5"),
    ("{.spec.containers[0:6:].name}", CONTAINERS, "fake0 fake1 fake2 fake3 fake4 fake5"),
    ("{.spec.containers[1:4:2].name}", CONTAINERS, "fake1 fake3"),
    ("{.spec.containers[1:4:4].name}", CONTAINERS, "fake1"),
    ("{.spec.containers[0:6:5].name}", CONTAINERS, "fake0 fake5"),
])
def test_templates_print_as_client_go_prints_them(template: str, data: Any, expected: str) -> None:
    assert compile(template, template=True).execute(data, allow_missing_keys=False) == expected


@pytest.mark.parametrize(("template", "data", "message"), [
    ("{hello}", STORE, "unrecognized identifier hello"),
    ("{.hello}", STORE, "hello is not found"),
    ("{.Labels[0]}", STORE, "map[string]interface {} is not array or slice"),
    ("{.Book[?(@.Price<>10)]}", STORE, "unrecognized filter operator <>"),
    ("{end}", STORE, "not in range, nothing to end"),
    ("{............................................................Price}", STORE, "invalid multiple recursive descent"),
    ('{.items[?(@.metadata.annotations.color=="blue")].metadata.name}', NODES, "annotations is not found"),
    ("{.spec.containers[-1:0].name}", FOUR, "starting index 3 is greater than ending index 0"),
    ("{.spec.containers[-5].name}", FOUR, "array index out of bounds: index -1, length 4"),
    ("{.spec.containers[3:1].name}", FOUR, "starting index 3 is greater than ending index 1"),
    ("{.spec.containers[-1:-2].name}", FOUR, "starting index 3 is greater than ending index 2"),
    ("{.spec.containers[0:6:0].name}", CONTAINERS, "step must be > 0"),
    ("{.spec.containers[0:6:-1].name}", CONTAINERS, "step must be > 0"),
    ("{.spec.containers[6].name}", CONTAINERS, "array index out of bounds: index 6, length 6"),
    ("{.spec.containers[0:7].name}", CONTAINERS, "array index out of bounds: index 6, length 6"),
])
def test_evaluation_errors_carry_client_go_messages(template: str, data: Any, message: str) -> None:
    with pytest.raises(JSONPathError) as caught:
        compile(template, template=True).execute(data, allow_missing_keys=False)
    assert str(caught.value) == message


def test_a_filter_tolerates_items_missing_the_field_when_keys_may_be_missing() -> None:
    items = {"items": [{"metadata": {"name": "pod1", "annotations": {"color": "blue"}}}, {"metadata": {"name": "pod2"}},
                       {"metadata": {"name": "pod3", "annotations": {"color": "green"}}},
                       {"metadata": {"name": "pod4", "annotations": {"color": "blue"}}}]}
    path = compile('.items[?(@.metadata.annotations.color=="blue")].metadata.name')
    assert path.find(items) == ["pod1", "pod4"]
    with pytest.raises(JSONPathError, match="annotations is not found"):
        path.find(items, allow_missing_keys=False)


# --- parsing ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "message"), [
    ("{.hello", "unclosed action"),
    ("{\\\\}", "unrecognized character in action: U+005C '\\'"),
    ("{*}", "unrecognized character in action: U+002A '*'"),
    ("{+12.3.0}", "cannot parse number +12.3.0"),
    ("{[1}", "unterminated array"),
    ("{[?(.price]}", "unterminated filter"),
    ("{........}", "invalid multiple recursive descent"),
    ("{..*}", "unrecognized character in action: U+002A '*'"),
    ("{{.a}}", "unrecognized character in action: U+007B '{'"),  # a column's jsonPath written with braces
    ("{.a[x]}", "invalid array index x"),
    ('{.a["x"]}', 'invalid array index "x"'),  # bracketed keys take single quotes only
    ("{.a[1:-]}", "array index - is not a number"),
    ("{.a[?(@.b==1)}", "unclosed array expect ]"),
    ('{.a[?(@.b=="x\\q")]}', 'unquote string "x\\q" error invalid syntax'),
    ('{.a[?(@.b=="x)]}', "unterminated filter"),
    ('{"abc}', "unterminated quoted string"),
    ("{.a.b\n}", "unclosed action"),
    ("{#}", "unrecognized character in action: U+0023 '#'"),
])
def test_invalid_syntax_raises_a_value_error_with_client_gos_message(template: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile(template, template=True)
    assert isinstance(caught.value, JSONPathError)
    assert str(caught.value) == message
    if template.endswith("}") and not template.startswith("{{"):
        with pytest.raises(JSONPathError, match=re.escape(message)):
            compile(template[1:-1])  # the same expression as a column's jsonPath


@pytest.mark.parametrize("expr", [
    ".spec.replicas", ".status.conditions[?(@.type==\"Ready\")].status", ".items[*]", ".items[0]", ".items[-1:]",
    "..name", ".metadata.labels.app\\.kubernetes\\.io/name", ".a['b']", ".a[1,2]", "$.a", "@.a", ".a[?(@.b)]",
    ".a[?(@.b != 'x')]", ".a[?(@.n>=1.5)]", ".a[?(@.ok==false)]", ".", ".a.*", ".a[]", " .a ",
])
def test_column_expressions_kube_accepts_parse(expr: str) -> None:
    assert compile(expr).expr == expr


def test_compiled_paths_are_cached() -> None:
    assert compile(".spec.replicas") is compile(".spec.replicas")


# --- what printer columns need ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expr", "expected"), [
    (".spec.replicas", [3]),
    (".spec.ratio", [0.5]),
    (".spec.paused", [False]),
    (".spec.missing", []),
    (".nothing.at.all", []),
    ('.status.conditions[?(@.type=="Ready")].status', ["False"]),
    (".status.conditions[?(@.type=='Ready')].status", ["False"]),
    ('.status.conditions[?(@.type=="Absent")].status', []),
    (".status.conditions[*].type", ["Progressing", "Ready"]),
    (".status.conditions[0].type", ["Progressing"]),
    (".status.conditions[-1:].type", ["Ready"]),
    (".status.conditions[-1].type", ["Ready"]),
    (".status.conditions[1,0].type", ["Ready", "Progressing"]),
    (".status.conditions[?(@.status)].type", ["Progressing", "Ready"]),
    (".metadata.labels.app\\.kubernetes\\.io/name", ["widget"]),
    (".metadata.labels['app']", []),
    (".spec.selector.matchLabels", [{"app": "w"}]),
    (".spec.selector.*", [{"app": "w"}]),
    ("..replicas", [3, 2]),
    ("..matchLabels.app", ["w"]),
    ("$.metadata.name", ["w1"]),
    ("@.metadata.name", ["w1"]),
    (".status.replicas", [2]),
    ('.status.conditions[?(@.type!="Ready")].type', ["Progressing"]),
    (".status.conditions[?(@.type<\"R\")].type", ["Progressing"]),
])
def test_find_returns_the_values_a_column_is_built_from(expr: str, expected: list[Any]) -> None:
    assert compile(expr).find(WIDGET) == expected


@pytest.mark.parametrize(("expr", "data", "expected"), [
    (".a[?(@.n==1)].id", {"a": [{"n": 1, "id": "x"}, {"n": 2, "id": "y"}]}, ["x"]),
    (".a[?(@.n>1)].id", {"a": [{"n": 1, "id": "x"}, {"n": 2, "id": "y"}]}, ["y"]),
    (".a[?(@.n<=1)].id", {"a": [{"n": 1, "id": "x"}, {"n": 2, "id": "y"}]}, ["x"]),
    (".a[?(@.f>=1.5)].id", {"a": [{"f": 1.5, "id": "x"}, {"f": 0.5, "id": "y"}]}, ["x"]),
    (".a[?(@.n==@.m)].id", {"a": [{"n": 1, "m": 1, "id": "x"}, {"n": 1, "m": 2, "id": "y"}]}, ["x"]),
    (".a[?(@.s=='(x)')].id", {"a": [{"s": "(x)", "id": "x"}]}, ["x"]),
    (".a[?(@.s==\"a\\\"b\")].id", {"a": [{"s": 'a"b', "id": "x"}]}, ["x"]),
    (".a[?(@.s==\"\\u00e9\")].id", {"a": [{"s": "é", "id": "x"}]}, ["x"]),
    (".a[?(@.s==\"\\101\\x42\")].id", {"a": [{"s": "AB", "id": "x"}]}, ["x"]),
    (".a[?(@.b==true)].id", {"a": [{"b": True, "id": "x"}, {"b": False, "id": "y"}, "s", None, {}]}, ["x"]),
    (".a[?(@.n)].id", {"a": [{"n": None, "id": "x"}, {"id": "y"}]}, ["x"]),
    (".a.*", {"a": {"x": 1, "y": [2]}}, [1, [2]]),
    (".a.*", {"a": "hi"}, [104, 105]),  # Go walks a string's bytes
    (".a[]", {"a": [7, 8]}, [7]),  # an empty index is [0]
    ("..", {"a": {}, "b": [], "c": "", "d": {"e": "x"}}, [{"a": {}, "b": [], "c": "", "d": {"e": "x"}}, {"e": "x"}, "x"]),
    (".a", {"a": None}, [None]),
    (".a.b", {"a": None}, []),
    (".a.b", {"a": [{"b": 1}]}, []),  # a field is never looked up inside a list
    (".a[0:0]", {"a": []}, []),
])
def test_evaluation_follows_client_go_on_edge_cases(expr: str, data: Any, expected: list[Any]) -> None:
    assert compile(expr).find(data) == expected


@pytest.mark.parametrize(("expr", "data", "message"), [
    (".a[?(@.n==1)]", {"a": [{"n": 1.0}]}, "incompatible types for comparison"),  # Go: an int never equals a float
    (".a[?(@.n==1.0)]", {"a": [{"n": 1}]}, "incompatible types for comparison"),
    (".a[?(@.n=='1')]", {"a": [{"n": 1}]}, "incompatible types for comparison"),
    (".a[?(@.b<true)]", {"a": [{"b": False}]}, "invalid type for comparison"),
    (".a[?(@.n==1)]", {"a": [{"n": None}]}, "invalid type for comparison"),
    (".a[?(@.n==1)]", {"a": [{"n": {"x": 1}}]}, "invalid type for comparison"),
    (".a[?(@.n[*]==1)]", {"a": [{"n": [1, 2]}]}, "can only compare one element at a time"),
    (".a[?(@.n=1)]", {"a": [{"n": 1}]}, "unrecognized filter operator ="),
    (".a[?(@.n==x)]", {"a": [{"n": 1}]}, "unrecognized identifier x"),
    (".a[?(@.n==1)]", {"a": {"n": 1}}, "map[n:1] is not array or slice and cannot be filtered"),
    (".a[?(@.n==1)]", {"a": None}, "<nil> is not array or slice and cannot be filtered"),
    (".a[0]", {"a": []}, "array index out of bounds: index 0, length 0"),
    (".a[0]", {"a": 5}, "int64 is not array or slice"),
    (".a[*]", {"a": "hi"}, "string is not array or slice"),  # [*] is a slice; only .* walks a string
    (".a[1,x]", {"a": [1, 2]}, "invalid array index x"),
])
def test_evaluation_errors(expr: str, data: Any, message: str) -> None:
    try:
        path = compile(expr)
    except JSONPathError as e:
        assert str(e) == message
        return
    with pytest.raises(JSONPathError) as caught:
        path.find(data)
    assert str(caught.value) == message


def test_an_exists_filter_keeps_items_whose_path_fails_with_values() -> None:
    # evalArray returns its input with the error; the exists-filter looks only at the values.
    data = {"a": [{"b": [1]}, {"b": []}, {"c": 1}]}
    assert compile(".a[?(@.b[3])].c").find(data) == []
    assert compile(".a[?(@.b[3])]").find(data) == [{"b": [1]}, {"b": []}]


def test_find_results_has_one_list_per_template_node() -> None:
    path = compile("x{.a}y{.b[*]}", template=True)
    assert path.find_results({"a": 1, "b": [2, 3]}) == [["x"], [1], ["y"], [2, 3]]
    assert path.find({"a": 1}) == ["x"]
    assert compile(".a").find_results({}) == [[]]


def test_range_templates_are_not_supported() -> None:
    with pytest.raises(JSONPathError, match="range templates are not supported"):
        compile("{range .items[*]}{.name}{end}", template=True).find({"items": [{"name": "x"}]})


# --- printing -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    ("plain", "plain"),
    (3, "3"),
    (-7, "-7"),
    (True, "true"),
    (False, "false"),
    (None, "null"),
    (1.5, "1.5"),
    (3.0, "3"),
    (-0.0, "-0"),
    (0.0001, "0.0001"),
    (0.00001, "1e-05"),
    (123456.0, "123456"),
    (1234567.0, "1.234567e+06"),
    (1e21, "1e+21"),
    (2.5e-7, "2.5e-07"),
    ({"b": 1, "a": [1.0, 1e21, 1e-7, 1e20, "x<y&z>"]}, '{"a":[1,1e+21,1e-7,100000000000000000000,"x\\u003cy\\u0026z\\u003e"],"b":1}'),
    ({"s": "tab\tnl\n\x01\u2028é\"\\"}, '{"s":"tab\\tnl\\n\\u0001\\u2028é\\"\\\\"}'),
    ([], "[]"),
    ({}, "{}"),
    ([None, True], "[null,true]"),
])
def test_to_text_prints_values_as_go_does(value: Any, text: str) -> None:
    assert to_text(value) == text
