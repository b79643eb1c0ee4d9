"""Server-set fields: uids (pooled random bytes) and timestamps (formatted once a second)."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime

from apiserver import objects


def test_uids_are_random_version_4_uuids_and_never_repeat() -> None:
    uids = [objects.new_uid() for _ in range(5_000)]  # more than one 4 KiB draw of random bytes
    assert len(set(uids)) == len(uids)
    for uid in uids:
        parsed = uuid.UUID(uid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == uid


def test_a_forked_child_draws_its_own_uids() -> None:
    objects.new_uid()  # the parent holds a partly used draw
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, objects.new_uid().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child != objects.new_uid()


def test_now_is_rfc3339_to_the_second_in_utc() -> None:
    stamp = objects.now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 2
