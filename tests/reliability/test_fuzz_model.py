"""A model check: the configmaps of a namespace hold exactly what the accepted writes wrote.

A hypothesis state machine sends creates, updates, merge and JSON patches, deletes (with and
without preconditions and dry runs) and writes that must be refused, keeps a dict of what the
store should hold (name -> data and resourceVersion) and after every step lists the namespace and
compares. Each run starts in a fresh namespace of one server per test function.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.reliability.test_fuzz_api import Harness

JSON = {"content-type": "application/json"}
MERGE = {"content-type": "application/merge-patch+json"}
JSON_PATCH = {"content-type": "application/json-patch+json"}
STALE_RV = "1"  # the first revision of the store: never the current one of a configmap written later

NAMES = ["a", "b", "c-1", "d.e"]
keys = st.from_regex(r"[a-zA-Z0-9][-._a-zA-Z0-9]{0,12}", fullmatch=True)
values = st.text(max_size=40)
datas = st.dictionaries(keys, values, max_size=4)
BAD_NAMES = ["", "A", "-a", "a-", "a_b", "a..b", ".", "x" * 254, "a b", "ä"]
BAD_KEYS = ["", ".", "..", "..x", "a b", "a/b", "ä", "k" * 254, "a\x00", "a:b"]


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    try:
        yield h
    finally:
        h.close()


@dataclass
class Stored:
    data: dict[str, str]
    rv: str
    has_data: bool  # whether the stored object carries a `data` key (an empty map is omitted)


def configmap(name: str, data: Any, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": data}


def simulate_json_patch(stored: Stored, ops: list[dict[str, Any]]) -> dict[str, str] | None:
    """The data after `ops` as json-patch v4 applies them (kube's library), or None if one fails."""
    data: dict[str, str] | None = dict(stored.data) if stored.has_data else None
    for op in ops:
        if op["path"] == "/data":
            data = dict(op["value"])
            continue
        key = op["path"].removeprefix("/data/")
        if data is None:  # /data/<key> with no /data: every operation fails
            return None
        if op["op"] in ("add", "replace"):  # v4 replaces a missing key by adding it
            data[key] = op["value"]
        elif op["op"] == "remove":
            if key not in data:
                return None
            del data[key]
        elif op["op"] == "test" and data.get(key) != op["value"]:
            return None
    return data if data is not None else {}


json_patch_ops = st.lists(
    st.one_of(
        st.builds(lambda op, k, v: {"op": op, "path": f"/data/{k}", "value": v},
                  st.sampled_from(["add", "replace", "test"]), keys, values),
        st.builds(lambda k: {"op": "remove", "path": f"/data/{k}"}, keys),
        st.builds(lambda d: {"op": "add", "path": "/data", "value": d}, datas),
    ),
    min_size=1, max_size=4,
)
flaws = st.sampled_from([
    "bad-name", "bad-key", "int-value", "list-data", "string-data", "wrong-kind", "wrong-version",
    "metadata-list", "other-namespace", "malformed", "not-object", "name-mismatch", "bad-merge-key",
    "bad-merge-value", "bad-json-patch-key", "failing-test-op", "merge-not-object", "unsupported-patch",
    "garbage-rv", "wrong-uid",
])


class ConfigMapStore(RuleBasedStateMachine):
    """The model: `self.model`; the system: the configmaps of `self.ns`."""

    h: Harness
    runs = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.ns = f"model-{next(self.runs)}"
        resp = self.h.checked("POST", "/api/v1/namespaces", content=orjson.dumps({"metadata": {"name": self.ns}}),
                              headers=JSON)
        assert resp.status_code == 201, resp.text
        self.url = f"/api/v1/namespaces/{self.ns}/configmaps"
        self.model: dict[str, Stored] = {}

    # ---- helpers ------------------------------------------------------------------------------

    def send(self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        content = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        return self.h.checked(method, url, content=content, headers=headers or (JSON if content else None))

    def accept(self, resp: httpx.Response, name: str, data: dict[str, str]) -> None:
        """A write the server acknowledged: it answers the object as written, and the model takes it."""
        obj = resp.json()
        assert obj["metadata"]["name"] == name, obj
        assert (obj.get("data") or {}) == data, f"wrote {data}, the server answered {obj}"
        self.model[name] = Stored(data, obj["metadata"]["resourceVersion"], "data" in obj)

    def expect(self, resp: httpx.Response, code: int, what: str) -> None:
        assert resp.status_code == code, f"{what}: expected {code}, got {resp.status_code} {resp.text[:400]}"

    def rv_of(self, name: str, precondition: str) -> dict[str, str]:
        if precondition == "current" and name in self.model:
            return {"resourceVersion": self.model[name].rv}
        return {"resourceVersion": STALE_RV} if precondition == "stale" else {}

    # ---- valid writes -------------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), data=datas)
    def create(self, name: str, data: dict[str, str]) -> None:
        resp = self.send("POST", self.url, configmap(name, data))
        if name in self.model:
            self.expect(resp, 409, f"create of existing {name}")
        else:
            self.expect(resp, 201, f"create {name} {data}")
            self.accept(resp, name, data)

    @rule(name=st.sampled_from(NAMES), data=datas, precondition=st.sampled_from(["none", "current", "stale"]))
    def update(self, name: str, data: dict[str, str], precondition: str) -> None:
        resp = self.send("PUT", f"{self.url}/{name}", configmap(name, data, **self.rv_of(name, precondition)))
        if name not in self.model:
            self.expect(resp, 404, f"update of missing {name}")
        elif precondition == "stale":
            self.expect(resp, 409, f"update of {name} at a stale resourceVersion")
        else:
            self.expect(resp, 200, f"update {name} {data}")
            self.accept(resp, name, data)

    @rule(name=st.sampled_from(NAMES), changes=st.dictionaries(keys, st.none() | values, max_size=4),
          drop_all=st.booleans())
    def merge_patch(self, name: str, changes: dict[str, str | None], drop_all: bool) -> None:
        patch = {"data": None} if drop_all else {"data": changes}
        resp = self.send("PATCH", f"{self.url}/{name}", patch, MERGE)
        if name not in self.model:
            self.expect(resp, 404, f"merge patch of missing {name}")
            return
        self.expect(resp, 200, f"merge patch {name} {patch}")
        data = {} if drop_all else dict(self.model[name].data)
        for key, value in ({} if drop_all else changes).items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        self.accept(resp, name, data)

    @rule(name=st.sampled_from(NAMES), ops=json_patch_ops)
    def json_patch(self, name: str, ops: list[dict[str, Any]]) -> None:
        resp = self.send("PATCH", f"{self.url}/{name}", ops, JSON_PATCH)
        if name not in self.model:
            self.expect(resp, 404, f"json patch of missing {name}")
            return
        data = simulate_json_patch(self.model[name], ops)
        if data is None:
            self.expect(resp, 422, f"failing json patch {ops} on {self.model[name]}")
        else:
            self.expect(resp, 200, f"json patch {ops} on {self.model[name]}")
            self.accept(resp, name, data)

    @rule(name=st.sampled_from(NAMES), precondition=st.sampled_from(["none", "current", "stale", "uid"]))
    def delete(self, name: str, precondition: str) -> None:
        options: dict[str, Any] = {}
        if precondition == "uid":
            options = {"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}
        elif precondition != "none":
            options = {"preconditions": self.rv_of(name, precondition)}
        resp = self.send("DELETE", f"{self.url}/{name}", options or None)
        if name not in self.model:
            self.expect(resp, 404, f"delete of missing {name}")
        elif precondition in ("stale", "uid"):
            self.expect(resp, 409, f"delete of {name} with a failing precondition")
        else:
            self.expect(resp, 200, f"delete {name}")
            del self.model[name]

    @rule(verb=st.sampled_from(["create", "update", "merge", "delete", "deletecollection"]),
          name=st.sampled_from(NAMES), data=datas)
    def dry_run(self, verb: str, name: str, data: dict[str, str]) -> None:
        """A dry run answers as the real write would and stores nothing."""
        url = f"{self.url}/{name}?dryRun=All"
        if verb == "create":
            resp = self.send("POST", f"{self.url}?dryRun=All", configmap(name, data))
            self.expect(resp, 409 if name in self.model else 201, f"dry-run create {name}")
        elif verb == "update":
            resp = self.send("PUT", url, configmap(name, data))
            self.expect(resp, 200 if name in self.model else 404, f"dry-run update {name}")
        elif verb == "merge":
            resp = self.send("PATCH", url, {"data": data}, MERGE)
            self.expect(resp, 200 if name in self.model else 404, f"dry-run patch {name}")
        elif verb == "delete":
            resp = self.send("DELETE", url)
            self.expect(resp, 200 if name in self.model else 404, f"dry-run delete {name}")
        else:
            resp = self.send("DELETE", f"{self.url}?dryRun=All")
            self.expect(resp, 200, "dry-run deletecollection")

    @rule()
    def delete_collection(self) -> None:
        resp = self.send("DELETE", self.url)
        self.expect(resp, 200, "deletecollection")
        assert sorted(i["metadata"]["name"] for i in resp.json()["items"]) == sorted(self.model)
        self.model.clear()

    # ---- writes that must be refused ----------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), flaw=flaws, data=datas)
    def refused(self, name: str, flaw: str, data: dict[str, str]) -> None:
        """A flawed write is a 4xx whether or not the object exists, and changes nothing."""
        method, url, body, headers = self.flawed(name, flaw, data)
        resp = self.send(method, url, body, headers)
        assert 400 <= resp.status_code < 500, f"{flaw}: {method} {url} {body!r} -> {resp.status_code} {resp.text}"

    def flawed(self, name: str, flaw: str, data: dict[str, str]) -> tuple[str, str, Any, dict[str, str]]:
        one = f"{self.url}/{name}"
        creates = {
            "bad-name": configmap(BAD_NAMES[len(data) % len(BAD_NAMES)], data),
            "bad-key": configmap(name, {**data, BAD_KEYS[len(data) % len(BAD_KEYS)]: "v"}),
            "int-value": configmap(name, {**data, "k": 1}),
            "list-data": configmap(name, list(data)),
            "string-data": configmap(name, "data"),
            "wrong-kind": {**configmap(name, data), "kind": "Secret"},
            "wrong-version": {**configmap(name, data), "apiVersion": "v2"},
            "metadata-list": {**configmap(name, data), "metadata": [name]},
            "other-namespace": configmap(name, data, namespace="default"),
            "malformed": orjson.dumps(configmap(name, data))[:-1],
            "not-object": orjson.dumps([configmap(name, data)]),
        }
        if flaw in creates:
            headers = JSON
            # a create, or an update of the object (a missing one is 404 either way)
            if name in self.model and len(data) % 2:
                return "PUT", one, creates[flaw], headers
            return "POST", self.url, creates[flaw], headers
        patches: dict[str, tuple[str, Any, dict[str, str]]] = {
            "name-mismatch": ("PUT", configmap(name + "x", data), JSON),
            "bad-merge-key": ("PATCH", {"data": {BAD_KEYS[len(data) % len(BAD_KEYS)]: "v"}}, MERGE),
            "bad-merge-value": ("PATCH", {"data": {"k": {"nested": "map"}}}, MERGE),
            "bad-json-patch-key": ("PATCH", [{"op": "add", "path": "/data", "value": {"a b": "c"}}], JSON_PATCH),
            "failing-test-op": ("PATCH", [{"op": "add", "path": "/data", "value": data},
                                          {"op": "test", "path": "/data/k", "value": 7}], JSON_PATCH),
            "merge-not-object": ("PATCH", [data], MERGE),
            "unsupported-patch": ("PATCH", {"data": data}, {"content-type": "application/apply-patch+yaml"}),
            "garbage-rv": ("PUT", configmap(name, data, resourceVersion="not-a-number"), JSON),
            "wrong-uid": ("PUT", configmap(name, data, uid="00000000-0000-0000-0000-000000000000"), JSON),
        }
        method, body, headers = patches[flaw]
        return method, one, body, headers

    # ---- the check ----------------------------------------------------------------------------

    @invariant()
    def store_holds_exactly_the_model(self) -> None:
        resp = self.h.checked("GET", self.url)
        assert resp.status_code == 200, resp.text
        listed = resp.json()
        items = {i["metadata"]["name"]: i for i in listed["items"]}
        assert sorted(items) == sorted(self.model), f"stored {sorted(items)}, model {sorted(self.model)}"
        for name, stored in self.model.items():
            item = items[name]
            assert (item.get("data") or {}) == stored.data, f"{name}: stored {item.get('data')}, model {stored}"
            assert item["metadata"]["resourceVersion"] == stored.rv, f"{name}: stored {item}, model {stored}"
        revisions = [int(s.rv) for s in self.model.values()]
        assert int(listed["metadata"]["resourceVersion"]) >= max(revisions, default=0)


def test_configmaps_hold_exactly_what_the_accepted_writes_wrote(harness: Harness) -> None:
    machine = type("Machine", (ConfigMapStore,), {"h": harness})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=40, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    ))
