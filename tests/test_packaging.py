"""The README's commands are the ones that CI and the Dockerfile really run, and the real binaries work."""

import json
import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_command(heading: str) -> str:
    """The one-line command in the first fenced block under a `## heading` of the README."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert section, f"README has no '## {heading}' section"
    block = re.search(r"^```[a-z]*\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, f"README's '{heading}' section has no fenced code block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one command under '{heading}', got {lines}"
    return lines[0].strip()


def steps(command: str) -> list[list[str]]:
    """`a && b` as [[a words], [b words]], each program named by its basename (.venv/bin/pip -> pip)."""
    result = []
    for part in command.split("&&"):
        words = shlex.split(part)
        result.append([Path(words[0]).name, *words[1:]])
    return result


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def dockerfile_cmd() -> list[str]:
    cmds = [args for instruction, args in dockerfile_instructions() if instruction == "CMD"]
    assert len(cmds) == 1
    return json.loads(cmds[0]) if cmds[0].startswith("[") else shlex.split(cmds[0])


def test_the_dockerfile_installs_the_package_as_the_readme_does() -> None:
    install = [step for step in steps(readme_command("Run the server")) if step[:2] == ["pip", "install"]]
    assert install == [["pip", "install", "."]]
    run_steps = [
        step
        for instruction, args in dockerfile_instructions()
        if instruction == "RUN"
        for step in steps(args)
    ]
    assert install[0] in run_steps


def test_the_dockerfile_starts_the_server_as_the_readme_does() -> None:
    start = steps(readme_command("Run the server"))[-1]
    assert start == ["mini-apiserver", "serve"]
    cmd = dockerfile_cmd()
    assert cmd[: len(start)] == start
    assert cmd[len(start) :] == ["--host", "0.0.0.0"]  # reachable from outside the container


def test_ci_runs_the_readme_test_command_verbatim_as_its_last_command() -> None:
    """Last, so that its exit status is the status of the CI run."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == readme_command("Run the tests")


def test_the_real_kubectl_is_v1_35_and_helm_is_v4(kubectl_bin: str, helm_bin: str) -> None:
    out = subprocess.run(
        [kubectl_bin, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True
    ).stdout
    client = json.loads(out)["clientVersion"]
    assert (client["major"], client["minor"]) == ("1", "35")

    out = subprocess.run([helm_bin, "version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith('version.BuildInfo{Version:"v4.'), out
