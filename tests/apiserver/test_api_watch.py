"""Watch streams against a real uvicorn server: one JSON WatchEvent per line.

Semantics of kube's cacher (k8s.io/apiserver `pkg/storage/cacher/`): resourceVersion unset or
"0" starts with synthetic ADDED events; a given resourceVersion replays the later changes;
selectors turn transitions into ADDED/DELETED; watch-list ends its initial events with a
bookmark annotated `k8s.io/initial-events-end`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

NS = "/api/v1/namespaces"
CM = f"{NS}/w/configmaps"
EVENT_WAIT = 5.0  # seconds to wait for one expected event
MERGE = {"Content-Type": "application/merge-patch+json"}
_END = object()


class Stream:
    """A watch response read in the background, so a test can wait for events with timeouts."""

    def __init__(self, resp: httpx.Response) -> None:
        self.resp = resp
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for line in self.resp.aiter_lines():
                if line.strip():
                    self.queue.put_nowait(json.loads(line))
        finally:
            self.queue.put_nowait(_END)

    async def next(self, timeout: float = EVENT_WAIT) -> dict[str, Any]:
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if item is _END:
            raise AssertionError("the watch ended while an event was expected")
        return item

    async def take(self, count: int) -> list[dict[str, Any]]:
        return [await self.next() for _ in range(count)]

    async def until_end(self, timeout: float = EVENT_WAIT) -> list[dict[str, Any]]:
        """Every remaining event, up to the end of the stream (which must come within timeout)."""
        out: list[dict[str, Any]] = []
        while True:
            item = await asyncio.wait_for(self.queue.get(), timeout)
            if item is _END:
                return out
            out.append(item)

    async def quiet(self, seconds: float = 0.3) -> None:
        """Nothing more arrives for a while."""
        try:
            item = await asyncio.wait_for(self.queue.get(), seconds)
        except TimeoutError:
            return
        if item is not _END:
            raise AssertionError(f"unexpected event: {item}")


@contextlib.asynccontextmanager
async def watch(base: str, path: str, **params: Any) -> AsyncIterator[Stream]:
    query = {"watch": "true", **{k: str(v) for k, v in params.items()}}
    async with (
        httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10.0, read=None)) as client,
        client.stream("GET", path, params=query) as resp,
    ):
        assert resp.status_code == 200, (await resp.aread()).decode()
        assert resp.headers["content-type"].startswith("application/json")
        stream = Stream(resp)
        try:
            yield stream
        finally:
            stream.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await stream.task


@pytest.fixture
async def client(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server, timeout=10.0) as c:
        resp = await c.post(NS, json={"metadata": {"name": "w"}})
        assert resp.status_code == 201, resp.text
        yield c


async def create(client: httpx.AsyncClient, name: str, labels: dict[str, str] | None = None,
                 path: str = CM) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels is not None:
        meta["labels"] = labels
    resp = await client.post(path, json={"metadata": meta, "data": {"v": "0"}})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def patch(client: httpx.AsyncClient, name: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.patch(f"{CM}/{name}", content=json.dumps(body).encode(), headers=MERGE)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def delete(client: httpx.AsyncClient, name: str) -> None:
    resp = await client.delete(f"{CM}/{name}")
    assert resp.status_code == 200, resp.text


async def list_rv(client: httpx.AsyncClient, path: str = CM) -> str:
    return (await client.get(path)).json()["metadata"]["resourceVersion"]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["object"]["metadata"]["name"]) for e in events]


def rv(event: dict[str, Any]) -> int:
    return int(event["object"]["metadata"]["resourceVersion"])


# ---- the start of a watch ------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [{"resourceVersion": "0"}, {}], ids=["rv-0", "rv-unset"])
async def test_a_watch_from_zero_or_unset_starts_with_added_for_existing_objects(
    live_server: str, client: httpx.AsyncClient, start: dict[str, str]
) -> None:
    a = await create(client, "a")
    await create(client, "b")
    async with watch(live_server, CM, **start) as stream:
        initial = await stream.take(2)
        assert sorted(summary(initial)) == [("ADDED", "a"), ("ADDED", "b")]
        assert next(e for e in initial if e["object"]["metadata"]["name"] == "a")["object"]["metadata"][
            "uid"] == a["metadata"]["uid"]
        await stream.quiet()

        await create(client, "c")
        assert summary([await stream.next()]) == [("ADDED", "c")]
        await patch(client, "a", {"data": {"v": "1"}})
        ev = await stream.next()
        assert summary([ev]) == [("MODIFIED", "a")]
        assert ev["object"]["data"] == {"v": "1"}
        await delete(client, "b")
        assert summary([await stream.next()]) == [("DELETED", "b")]
        await stream.quiet()


async def test_watch_events_carry_full_objects_with_kind_and_api_version(
    live_server: str, client: httpx.AsyncClient
) -> None:
    async with watch(live_server, CM, resourceVersion=await list_rv(client)) as stream:
        created = await create(client, "a")
        ev = await stream.next()
        assert set(ev) == {"type", "object"}
        assert ev["object"]["kind"] == "ConfigMap"
        assert ev["object"]["apiVersion"] == "v1"
        assert ev["object"]["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert ev["object"] == created


async def test_a_watch_from_a_resource_version_replays_exactly_the_later_changes_in_order(
    live_server: str, client: httpx.AsyncClient
) -> None:
    await create(client, "before")
    start = await list_rv(client)
    await create(client, "a")
    await patch(client, "a", {"data": {"v": "1"}})
    await create(client, "b")
    await delete(client, "a")
    await patch(client, "b", {"data": {"v": "2"}})
    async with watch(live_server, CM, resourceVersion=start, timeoutSeconds=1) as stream:
        events = await stream.until_end()
    assert summary(events) == [("ADDED", "a"), ("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a"),
                               ("MODIFIED", "b")]
    revisions = [rv(e) for e in events]
    assert revisions == sorted(set(revisions)), "strictly increasing: each change once"
    assert revisions[0] > int(start)


async def test_a_watch_replays_more_history_than_a_watcher_may_have_unread(
    live_server: str, client: httpx.AsyncClient
) -> None:
    """The replay is the watch's start, not its queue: every remembered change comes, however many."""
    from apiserver.watchcache import WATCHER_BUFFER

    start = await list_rv(client)
    count = WATCHER_BUFFER + 300
    for i in range(0, count, 100):
        await asyncio.gather(*(create(client, f"c{j}") for j in range(i, min(i + 100, count))))
    async with watch(live_server, CM, resourceVersion=start, timeoutSeconds=2) as stream:
        events = await stream.until_end(timeout=20)
    assert sorted(name for _, name in summary(events)) == sorted(f"c{j}" for j in range(count))
    revisions = [rv(e) for e in events]
    assert revisions == sorted(set(revisions))


async def test_a_watch_from_a_resource_version_is_exclusive(live_server: str, client: httpx.AsyncClient) -> None:
    a = await create(client, "a")
    async with watch(live_server, CM, resourceVersion=a["metadata"]["resourceVersion"], timeoutSeconds=1) as stream:
        events = await stream.until_end()
    assert events == []


async def test_a_resumed_watch_sees_every_change_after_it_exactly_once(
    live_server: str, client: httpx.AsyncClient
) -> None:
    """A client re-watching from the last resourceVersion it saw misses nothing and repeats nothing."""
    seen: list[tuple[str, str, int]] = []
    last = await list_rv(client)
    async with watch(live_server, CM, resourceVersion=last) as stream:
        for i in range(3):
            await create(client, f"x{i}")
        for ev in await stream.take(3):
            seen.append((ev["type"], ev["object"]["metadata"]["name"], rv(ev)))
    last = str(seen[-1][2])
    # Changes while no watch is open.
    await patch(client, "x0", {"data": {"v": "1"}})
    await delete(client, "x1")
    async with watch(live_server, CM, resourceVersion=last) as stream:
        await create(client, "x3")
        for ev in await stream.take(3):
            seen.append((ev["type"], ev["object"]["metadata"]["name"], rv(ev)))
        await stream.quiet()
    assert [(t, n) for t, n, _ in seen] == [("ADDED", "x0"), ("ADDED", "x1"), ("ADDED", "x2"),
                                          ("MODIFIED", "x0"), ("DELETED", "x1"), ("ADDED", "x3")]
    assert [r for _, _, r in seen] == sorted({r for _, _, r in seen})


async def test_a_deleted_event_carries_the_last_state_at_the_deletion_revision(
    live_server: str, client: httpx.AsyncClient
) -> None:
    await create(client, "a")
    last = await patch(client, "a", {"data": {"v": "final"}})
    async with watch(live_server, CM, resourceVersion=last["metadata"]["resourceVersion"]) as stream:
        await delete(client, "a")
        ev = await stream.next()
    assert ev["type"] == "DELETED"
    assert ev["object"]["data"] == {"v": "final"}
    assert rv(ev) > int(last["metadata"]["resourceVersion"])


async def test_a_namespaced_watch_sees_only_its_namespace(live_server: str, client: httpx.AsyncClient) -> None:
    await client.post(NS, json={"metadata": {"name": "elsewhere"}})
    async with watch(live_server, CM, resourceVersion=await list_rv(client)) as stream:
        await create(client, "far", path=f"{NS}/elsewhere/configmaps")
        await create(client, "near")
        assert summary([await stream.next()]) == [("ADDED", "near")]
        await stream.quiet()


async def test_a_cluster_wide_watch_sees_every_namespace(live_server: str, client: httpx.AsyncClient) -> None:
    await client.post(NS, json={"metadata": {"name": "elsewhere"}})
    start = await list_rv(client, "/api/v1/configmaps")
    async with watch(live_server, "/api/v1/configmaps", resourceVersion=start) as stream:
        await create(client, "far", path=f"{NS}/elsewhere/configmaps")
        await create(client, "near")
        events = await stream.take(2)
    assert [(e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in events] == [
        ("elsewhere", "far"), ("w", "near")]


# ---- selectors ---------------------------------------------------------------------------------------------


async def test_a_label_selector_watch_turns_label_changes_into_deleted_and_added(
    live_server: str, client: httpx.AsyncClient
) -> None:
    await create(client, "a", {"app": "web"})
    await create(client, "b", {"app": "db"})
    async with watch(live_server, CM, labelSelector="app=web", resourceVersion="0") as stream:
        assert summary([await stream.next()]) == [("ADDED", "a")]
        await stream.quiet()
        moved = await patch(client, "a", {"metadata": {"labels": {"app": "db"}}})
        ev = await stream.next()
        assert summary([ev]) == [("DELETED", "a")]
        # cache_watcher.go convertToWatchEvent: the previous content, at the event's resourceVersion.
        assert ev["object"]["metadata"]["labels"] == {"app": "web"}
        assert ev["object"]["metadata"]["resourceVersion"] == moved["metadata"]["resourceVersion"]
        await patch(client, "b", {"data": {"v": "unrelated"}})  # never matched: nothing
        await stream.quiet()
        await patch(client, "b", {"metadata": {"labels": {"app": "web"}}})
        assert summary([await stream.next()]) == [("ADDED", "b")]
        await patch(client, "b", {"data": {"v": "1"}})
        assert summary([await stream.next()]) == [("MODIFIED", "b")]
        await delete(client, "b")
        assert summary([await stream.next()]) == [("DELETED", "b")]
        await delete(client, "a")  # no longer matching: nothing
        await stream.quiet()


async def test_a_field_selector_watch_follows_one_object(live_server: str, client: httpx.AsyncClient) -> None:
    await create(client, "foo")
    await create(client, "bar")
    async with watch(live_server, CM, fieldSelector="metadata.name=foo", resourceVersion="0") as stream:
        assert summary([await stream.next()]) == [("ADDED", "foo")]
        await patch(client, "bar", {"data": {"v": "1"}})
        await patch(client, "foo", {"data": {"v": "1"}})
        assert summary([await stream.next()]) == [("MODIFIED", "foo")]
        await delete(client, "bar")
        await delete(client, "foo")
        assert summary([await stream.next()]) == [("DELETED", "foo")]
        await stream.quiet()


async def test_the_legacy_watch_path_follows_one_object(live_server: str, client: httpx.AsyncClient) -> None:
    await create(client, "foo")
    await create(client, "bar")
    async with (
        httpx.AsyncClient(base_url=live_server, timeout=httpx.Timeout(10.0, read=None)) as c,
        c.stream("GET", "/api/v1/watch/namespaces/w/configmaps/foo", params={"resourceVersion": "0"}) as resp,
    ):
        assert resp.status_code == 200
        stream = Stream(resp)
        try:
            assert summary([await stream.next()]) == [("ADDED", "foo")]
            await patch(client, "bar", {"data": {"v": "1"}})
            await patch(client, "foo", {"data": {"v": "1"}})
            assert summary([await stream.next()]) == [("MODIFIED", "foo")]
        finally:
            stream.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await stream.task


async def test_a_pod_phase_field_selector_watch(live_server: str, client: httpx.AsyncClient) -> None:
    pods = f"{NS}/w/pods"
    resp = await client.post(pods, json={"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert resp.status_code == 201
    async with watch(live_server, pods, fieldSelector="status.phase=Running", resourceVersion="0") as stream:
        await stream.quiet()
        pod = (await client.get(f"{pods}/p")).json()
        pod["status"] = {"phase": "Running"}
        assert (await client.put(f"{pods}/p/status", json=pod)).status_code == 200
        assert summary([await stream.next()]) == [("ADDED", "p")]


# ---- how a watch ends, bookmarks, watch-list -----------------------------------------------------------------


async def test_timeout_seconds_ends_the_stream(live_server: str, client: httpx.AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with watch(live_server, CM, timeoutSeconds=1, resourceVersion=await list_rv(client)) as stream:
        events = await stream.until_end(timeout=5)
    elapsed = loop.time() - began
    assert events == []
    assert 0.8 <= elapsed < 3, elapsed


async def test_a_bookmark_comes_before_the_timeout_when_bookmarks_are_allowed(
    live_server: str, client: httpx.AsyncClient
) -> None:
    start = await list_rv(client)
    # cache_watcher.go nextBookmarkTime: a bookmark 2 s before the deadline, so the timeout must exceed 2 s.
    async with watch(live_server, CM, timeoutSeconds=3, allowWatchBookmarks="true",
                     resourceVersion=start) as stream:
        events = await stream.until_end()
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks, events
    obj = bookmarks[-1]["object"]
    assert (obj["kind"], obj["apiVersion"]) == ("ConfigMap", "v1")
    assert int(obj["metadata"]["resourceVersion"]) >= int(start)


async def test_watch_list_sends_current_objects_then_an_initial_events_end_bookmark(
    live_server: str, client: httpx.AsyncClient
) -> None:
    a = await create(client, "a")
    b = await create(client, "b")
    async with watch(live_server, CM, sendInitialEvents="true", resourceVersionMatch="NotOlderThan",
                     allowWatchBookmarks="true", resourceVersion="") as stream:
        initial = await stream.take(3)
        assert sorted(summary(initial[:2])) == [("ADDED", "a"), ("ADDED", "b")]
        end = initial[2]
        assert end["type"] == "BOOKMARK"
        assert end["object"]["kind"] == "ConfigMap"
        assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert int(end["object"]["metadata"]["resourceVersion"]) >= int(b["metadata"]["resourceVersion"])
        assert int(b["metadata"]["resourceVersion"]) > int(a["metadata"]["resourceVersion"])

        await create(client, "c")
        assert summary([await stream.next()]) == [("ADDED", "c")]


async def test_watch_list_with_a_selector_sends_only_matching_objects(
    live_server: str, client: httpx.AsyncClient
) -> None:
    await create(client, "a", {"keep": "yes"})
    await create(client, "b", {"keep": "no"})
    async with watch(live_server, CM, sendInitialEvents="true", resourceVersionMatch="NotOlderThan",
                     allowWatchBookmarks="true", labelSelector="keep=yes") as stream:
        first, second = await stream.take(2)
    assert summary([first]) == [("ADDED", "a")]
    assert second["type"] == "BOOKMARK"
    assert second["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"


async def test_watch_list_of_an_empty_collection_sends_just_the_bookmark(
    live_server: str, client: httpx.AsyncClient
) -> None:
    async with watch(live_server, CM, sendInitialEvents="true", resourceVersionMatch="NotOlderThan",
                     allowWatchBookmarks="true") as stream:
        ev = await stream.next()
    assert ev["type"] == "BOOKMARK"
    assert ev["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"sendInitialEvents": "true", "allowWatchBookmarks": "true"}, "resourceVersionMatch",
         "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
        ({"sendInitialEvents": "true", "allowWatchBookmarks": "true", "resourceVersionMatch": "Exact",
          "resourceVersion": "1"}, "resourceVersionMatch", None),
        ({"resourceVersionMatch": "NotOlderThan", "resourceVersion": "1"}, "resourceVersionMatch",
         "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
         "provided"),
    ],
)
async def test_invalid_watch_options_are_422_before_the_stream_starts(
    api: httpx.AsyncClient, params: dict[str, str], field: str, message: str | None
) -> None:
    resp = await api.get(CM, params={"watch": "true", **params})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert (body["kind"], body["status"], body["reason"], body["code"]) == ("Status", "Failure", "Invalid", 422)
    assert field in [c["field"] for c in body["details"]["causes"]]
    if message:
        assert message in body["message"]


async def test_invalid_watch_options_are_reported_against_list_options(api: httpx.AsyncClient) -> None:
    # get.go: NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", errs)
    resp = await api.get(CM, params={"watch": "true", "sendInitialEvents": "true"})
    body = resp.json()
    assert body["message"] == ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                               "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
    assert body["details"]["group"] == "meta.k8s.io"
    assert body["details"]["kind"] == "ListOptions"


async def test_send_initial_events_does_not_require_allow_watch_bookmarks(api: httpx.AsyncClient) -> None:
    # validateWatchOptions (apimachinery 1.35) checks only resourceVersionMatch for sendInitialEvents.
    resp = await api.get(CM, params={"watch": "true", "sendInitialEvents": "true",
                                     "resourceVersionMatch": "NotOlderThan", "timeoutSeconds": "1"})
    assert resp.status_code == 200, resp.text


async def test_a_watch_from_a_future_resource_version_fails(live_server: str, client: httpx.AsyncClient) -> None:
    future = int(await list_rv(client)) + 1000
    async with httpx.AsyncClient(base_url=live_server, timeout=10.0) as c:
        resp = await asyncio.wait_for(
            c.get(CM, params={"watch": "true", "resourceVersion": str(future), "timeoutSeconds": "5"}), 10)
    text = resp.text
    # kube: 504 Timeout "Too large resource version" (or the same Status as an ERROR event).
    assert "Too large resource version" in text, text


async def test_a_watch_from_before_the_retained_history_gets_a_410_expired_error_event(
    live_server: str, client: httpx.AsyncClient
) -> None:
    # cacher.go: past authn/admission, a too-old resourceVersion is an ERROR event in a 200 stream
    # (newErrWatcher), carrying watch_cache.go's "too old resource version: <rv> (<oldest>)".
    for i in range(3):
        await create(client, f"h{i}")
    nodes = "/api/v1/nodes"
    await client.get(nodes)  # the nodes cache exists from now on; revision 1 is before it
    async with watch(live_server, nodes, resourceVersion="1") as stream:
        events = await stream.until_end()
    assert len(events) == 1, events
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["status"], status["reason"], status["code"]) == ("Status", "Failure", "Expired", 410)
    assert status["message"].startswith("too old resource version: 1 (")
