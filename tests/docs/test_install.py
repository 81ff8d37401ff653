"""Install as users will: a built wheel, and every example's requirements.txt from the clone (issue 13, item 3).

Each test makes a fresh virtual environment, so nothing of the project's own venv (its
editable install, the repository on sys.path) can stand in for what a user gets. Downloading
pulumi, grpcio and the rest from PyPI for every venv would take minutes on two cores, so the
dependencies come from the project venv instead: a folder of links to its site-packages
entries, minus this package, named by one .pth line (the "dependency farm"). The core farm
also leaves out what the extras bring (fastapi, uvicorn, starlette, pulumi-policy), so a
program that still needed them, or a core dependency list that still named them, fails here:
the wheel is installed with pip's dependency resolution and no index at all.

Then the examples run in that venv, from a directory outside the repository, under
`pulumi_tokenfactory.testing.TokenFactoryMocks` (which also answers their `get_templates()`),
and what each registers is checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulumi_tokenfactory.emulator.catalogue import SEED_EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
#: Distributions the `emulator` and `policy` extras bring, absent from the core farm.
EXTRAS_ONLY = frozenset({"fastapi", "uvicorn", "starlette", "pulumi_policy"})
SOURCE_IGNORE = shutil.ignore_patterns(".git", ".venv", ".ci-venv", "build", "dist", "*.egg-info", "__pycache__",
                                       ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis")
#: Example -> (Pulumi project name from its Pulumi.yaml, stack config for the mocked run).
PROJECTS: dict[str, tuple[str, dict[str, str]]] = {
    "basic": ("tokenfactory-basic", {}),
    "inference": ("tokenfactory-inference", {}),
    "templates": ("tokenfactory-templates", {"maxReplicas": "2"}),
    "multi-stack/producer": ("tokenfactory-producer", {}),
    "multi-stack/consumer": ("tokenfactory-consumer", {"producerStack": "organization/tokenfactory-producer/dev",
                                                       "configPath": "/nonexistent/app-config.json"}),
}

#: Runs example programs under TokenFactoryMocks in the fresh venv; prints what they registered, as JSON.
RUNNER = textwrap.dedent('''
    import json, pathlib, runpy, sys
    import pulumi

    try:
        import pulumi_tokenfactory
        from pulumi_tokenfactory.testing import TokenFactoryMocks as Base
    except ModuleNotFoundError:  # the consumer's own venv: it needs Pulumi alone
        pulumi_tokenfactory = None

        class Base(pulumi.runtime.Mocks):
            def __init__(self):
                self.endpoints, self.template_calls = [], 0

            def new_resource(self, args):
                return f"{args.name}-id", dict(args.inputs)

            def call(self, args):
                return {}, []

    class Mocks(Base):
        """Records every resource; answers the consumer's StackReference as the engine would."""
        def __init__(self):
            super().__init__()
            self.registered = []

        def new_resource(self, args):
            self.registered.append({"type": args.typ, "name": args.name,
                                    "inputs": {k: v for k, v in args.inputs.items() if k != "__provider"}})
            if args.typ == "pulumi:pulumi:StackReference":
                outputs = {"routing_key": "dedicated/openai/gpt-oss-120b-x", "inference_base_url": "https://e/v1/"}
                return args.inputs["name"], {"name": args.inputs["name"], "outputs": outputs, "secretOutputNames": []}
            return super().new_resource(args)

    path, project, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    sys.path.insert(0, str(pathlib.Path(path).parent))  # the CLI runs a program in its own folder
    pulumi.runtime.set_all_config({f"{project}:{k}": v for k, v in config.items()})
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack="dev", preview=False)

    def program():
        runpy.run_path(path, run_name="__main__")

    pulumi.runtime.test(program)()
    endpoints = [r for r in mocks.registered if r["type"] == "pulumi-python:dynamic/tokenfactory:DedicatedEndpoint"]
    print(json.dumps({
        "module": pulumi_tokenfactory and pulumi_tokenfactory.__file__,
        "version": pulumi_tokenfactory and pulumi_tokenfactory.__version__,
        "template_calls": mocks.template_calls, "endpoints": endpoints, "registered": mocks.registered}))
''')


def _run(command: list[str], *, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return done


def _ok(command: list[str], *, cwd: Path, timeout: float = 240) -> str:
    done = _run(command, cwd=cwd, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _pip(python: Path, *args: str, cwd: Path) -> str:
    """The project venv's pip, acting on another environment (pip --python): no pip inside the fresh venv."""
    return _ok([sys.executable, "-m", "pip", "--python", str(python), *args], cwd=cwd)


def _distribution(entry: Path) -> str:
    return re.split(r"[-.]", entry.name, maxsplit=1)[0].lower().replace("-", "_")


def _farm(root: Path, *, with_extras: bool) -> Path:
    """Links to the project venv's installed distributions, except this package (and, unless asked, the extras')."""
    farm = root / ("deps-full" if with_extras else "deps-core")
    if farm.exists():
        return farm
    farm.mkdir(parents=True)
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = _distribution(entry)
        if entry.suffix == ".pth" or name in ("pulumi_tokenfactory", "__editable__", "__pycache__") or \
                (not with_extras and name in EXTRAS_ONLY):
            continue
        (farm / entry.name).symlink_to(entry)
    return farm


def _fresh_venv(path: Path, farm: Path) -> Path:
    """A new venv without pip, whose only other packages are the farm's; returns its python."""
    _ok([sys.executable, "-m", "venv", "--without-pip", str(path)], cwd=path.parent)
    python = path / "bin" / "python"
    site = Path(_ok([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=path.parent).strip())
    (site / "_dependency_farm.pth").write_text(f"{farm}\n", encoding="utf-8")
    return python


def _pyproject_version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert match
    return match.group(1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Outside the repository: venvs, farms, wheels and the runner live here."""
    root = tmp_path_factory.mktemp("install")
    (root / "runner.py").write_text(RUNNER, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def wheel(workspace: Path) -> Path:
    """`pip wheel --no-deps` of a copy of the source tree (so the build leaves nothing in the clone)."""
    source = workspace / "source"
    shutil.copytree(ROOT, source, ignore=SOURCE_IGNORE, symlinks=True)
    dist = workspace / "dist"
    _ok([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)], cwd=workspace)
    [built] = dist.glob("pulumi_tokenfactory-*.whl")
    return built


def _run_example(python: Path, workspace: Path, example: str) -> dict[str, Any]:
    project, config = PROJECTS[example]
    out = _ok([str(python), str(workspace / "runner.py"), str(EXAMPLES / example / "__main__.py"), project,
               json.dumps(config)], cwd=workspace)
    return dict(json.loads(out.strip().splitlines()[-1]))


def _seed_endpoint(result: dict[str, Any]) -> dict[str, Any]:
    [endpoint] = result["endpoints"]
    return dict(endpoint["inputs"])


#: What each example must register, checked on the runner's output.
CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "basic": lambda r: _assert_seed(_seed_endpoint(r)),
    "inference": lambda r: _assert_seed(_seed_endpoint(r), wait_for_ready=True),
    "templates": lambda r: _assert_templates(r),
    "multi-stack/producer": lambda r: _assert_seed(_seed_endpoint(r), name="tokenfactory-producer dev chat"),
    "multi-stack/consumer": lambda r: _assert_no_endpoint(r),
}


def _assert_seed(inputs: dict[str, Any], **expected: Any) -> None:
    for key in ("model_name", "flavor_name", "gpu_type"):
        assert inputs[key] == SEED_EXAMPLE[key]
    assert int(inputs["gpu_count"]) == SEED_EXAMPLE["gpu_count"]
    assert inputs["region"] == "eu-north1"
    for key, value in expected.items():
        assert inputs[key] == value, key


def _assert_templates(result: dict[str, Any]) -> None:
    inputs = _seed_endpoint(result)
    assert result["template_calls"] == 1, "get_templates() was not served by the mocks"
    # The first hardware the (mocked) catalogue offers for the default model and flavor.
    assert (inputs["model_name"], inputs["flavor_name"], inputs["gpu_type"]) == ("openai/gpt-oss-20b", "base",
                                                                                 "gpu-l40s-d")
    assert inputs["scaling"] == {"min_replicas": 1.0, "max_replicas": 2.0}


def _assert_no_endpoint(result: dict[str, Any]) -> None:
    assert result["endpoints"] == []
    [app] = [r for r in result["registered"] if r["type"] == "pulumi-python:dynamic/example:AppConfigFile"]
    assert app["inputs"]["model"] == "dedicated/openai/gpt-oss-120b-x"  # the producer's key, via the reference


# -- the wheel ------------------------------------------------------------------------------------------


def test_the_wheel_declares_only_what_a_program_needs(wheel: Path) -> None:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "pulumi_tokenfactory/py.typed" in names, "type checkers need the marker"
    assert "pulumi_tokenfactory/testing.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    core = {line.split(";")[0].split()[1].split("<")[0].split(">")[0].lower()
            for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert core == {"pulumi", "httpx", "pydantic"}
    extras = set(re.findall(r"^Provides-Extra: (\S+)", metadata, re.M))
    assert {"emulator", "policy", "test", "dev"} <= extras
    assert re.search(r'^Requires-Dist: fastapi\S* ?.*; extra == "emulator"', metadata, re.M)
    assert re.search(r'^Requires-Dist: pulumi-policy\S* ?.*; extra == "policy"', metadata, re.M)


def test_the_wheel_installs_offline_without_the_extras_and_runs_the_examples(wheel: Path, workspace: Path) -> None:
    python = _fresh_venv(workspace / "venv-wheel", _farm(workspace, with_extras=False))
    # Dependency resolution with no index: every core dependency must already be in the farm.
    _pip(python, "install", "--no-index", "--find-links", str(wheel.parent), "pulumi-tokenfactory", cwd=workspace)
    _pip(python, "check", cwd=workspace)
    site = Path(_ok([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=workspace).strip())
    for example, check in CHECKS.items():
        result = _run_example(python, workspace, example)
        assert result["module"] is not None and Path(result["module"]).is_relative_to(site), \
            f"{example} imported {result['module']}, not the wheel"
        assert result["version"] == _pyproject_version()
        check(result)
    # The extras' modules say which extra they need.
    for module, extra in (("pulumi_tokenfactory.emulator", "emulator"), ("pulumi_tokenfactory.policy", "policy")):
        done = _run([str(python), "-c", f"import {module}"], cwd=workspace)
        assert done.returncode == 1
        assert f"pip install 'pulumi-tokenfactory[{extra}]'" in done.stderr.strip().splitlines()[-1]


def test_the_wheel_with_its_extras_serves_the_emulator_and_the_policy_pack(wheel: Path, workspace: Path) -> None:
    python = _fresh_venv(workspace / "venv-wheel-extras", _farm(workspace, with_extras=True))
    _pip(python, "install", "--no-index", "--find-links", str(wheel.parent), "pulumi-tokenfactory[emulator,policy]",
         cwd=workspace)
    code = textwrap.dedent("""
        from pulumi_tokenfactory import get_templates
        from pulumi_tokenfactory.emulator.testing import EmulatorProcess
        from pulumi_tokenfactory.policy import gpu_spend_policies
        with EmulatorProcess(provision_seconds=0.5) as emulator:
            catalogue = get_templates(api_key="any", base_url=emulator.base_url)
        print(len(catalogue), catalogue.choose("openai/gpt-oss-120b").gpu_type, len(gpu_spend_policies()))
    """)
    assert _ok([str(python), "-c", code], cwd=workspace).split() == ["7", "gpu-h100-sxm", str(_policy_count())]
    assert (python.parent / "tokenfactory-emulator").is_file(), "the console script is installed"


def _policy_count() -> int:
    """How many policies the clone's pack declares: what an installed copy must serve too."""
    from pulumi_tokenfactory.policy import gpu_spend_policies

    return len(gpu_spend_policies())


# -- every example's requirements.txt, from the clone ----------------------------------------------------

REQUIREMENTS = sorted(p.parent.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("requirements.txt"))


@pytest.mark.parametrize("example", REQUIREMENTS)
def test_each_requirements_file_names_the_clone_not_an_index(example: str) -> None:
    lines = [line.strip() for line in (EXAMPLES / example / "requirements.txt").read_text(encoding="utf-8")
             .splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert not [line for line in lines if line.lower().startswith("pulumi-tokenfactory")], \
        "no index has pulumi-tokenfactory yet: install it from the clone"
    paths = [re.sub(r"^-e\s+", "", line).split("[")[0] for line in lines if line.startswith(("-e ", ".", "/"))]
    for path in paths:
        assert (EXAMPLES / example / path).resolve() == ROOT, f"{path} is not the clone's root"
    if example == "multi-stack/consumer":
        assert paths == [], "the consumer uses no pulumi_tokenfactory code"
    else:
        assert len(paths) == 1
    if example == "policy-pack":
        assert lines == ["-e ../..[policy]"]


@pytest.mark.parametrize("example", REQUIREMENTS)
def test_each_example_installs_from_its_requirements_and_runs(example: str, workspace: Path) -> None:
    farm = _farm(workspace, with_extras=example == "policy-pack")
    python = _fresh_venv(workspace / f"venv-{example.replace('/', '-')}", farm)
    # As the READMEs say: from the example's folder, so the relative path names the clone.
    _pip(python, "install", "--no-deps", "-r", "requirements.txt", cwd=EXAMPLES / example)
    _pip(python, "check", cwd=workspace)  # what the requirements brought needs nothing the farm lacks
    if example == "policy-pack":
        out = _ok([str(python), "-c", "from pulumi_tokenfactory.policy import gpu_spend_policies, PACK_NAME; "
                   "print(PACK_NAME, len(gpu_spend_policies()))"], cwd=workspace)
        assert out.split() == ["tokenfactory-gpu-spend", str(_policy_count())]
        return
    result = _run_example(python, workspace, example)
    CHECKS[example](result)
    if example != "multi-stack/consumer":
        assert result["module"] == str(ROOT / "pulumi_tokenfactory" / "__init__.py"), "not the clone's package"
