"""The podbay command as users run it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from podbay.runtime.version import __version__

BIN = Path(sys.executable).parent / "podbay"


def podbay(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "podbay.runtime.cli.main"]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=60,
                          check=False)


def test_version() -> None:
    result = podbay("version")
    assert result.returncode == 0 and result.stdout == f"podbay {__version__}\n"


def test_version_imports_nothing_heavy() -> None:
    """`podbay version` must cost an interpreter start: no YAML, no model, no TUI."""
    code = ("import sys; from podbay.runtime.cli.main import main; main(['version']); names = sorted(sys.modules); "
            "import json; print(json.dumps(names))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = set(json.loads(out.splitlines()[-1]))
    heavy = {m for m in modules if m.split(".")[0] in ("yaml", "textual", "decimal", "pyroute2", "prctl")
             or m.startswith("podbay.runtime.spec")}
    assert not heavy, heavy


def test_runtime_never_imports_textual() -> None:
    code = ("import sys, pkgutil, importlib, podbay.runtime as r\n"
            "for m in pkgutil.walk_packages(r.__path__, 'podbay.runtime.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(any(n.split('.')[0] == 'textual' for n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_validate_valid_files(manifests: Path) -> None:
    result = podbay("validate", "-f", str(manifests / "full-pod.yaml"), "-f", str(manifests / "config.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"pod/full valid ({manifests / 'full-pod.yaml'}: document 1)"
    assert "configmap/settings valid" in result.stdout


def test_validate_reports_every_error_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  nodeName: n1\n  containers:\n"
                   "  - {name: web, image: nginx, ports: [{containerPort: 70000}]}\n"
                   "  - {name: web, image: nginx}\n")
    result = podbay("validate", "-f", str(bad))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"Warning: {bad}:5: pod/web: spec.nodeName: ignored on a single node: there is no scheduler: the pod " \
           "runs on this machine" in lines
    assert f"error: {bad}:7: pod/web: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be " \
           "between 1 and 65535, inclusive" in lines
    assert f'error: {bad}:8: pod/web: spec.containers[1].name: Duplicate value: "web"' in lines
    assert lines[-1] == "error: 1 of 1 document(s) invalid"
    assert "Traceback" not in result.stderr


def test_validate_output_yaml_round_trips(manifests: Path) -> None:
    first = podbay("validate", "-f", str(manifests / "full-pod.yaml"), "-o", "yaml")
    assert first.returncode == 0, first.stderr
    obj = yaml.safe_load(first.stdout)
    assert obj["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "250m"
    assert obj["spec"]["dnsPolicy"] == "None" and obj["spec"]["enableServiceLinks"] is True
    second = podbay("validate", "-f", "-", "-o", "yaml", stdin=first.stdout)
    assert second.returncode == 0, second.stderr
    assert yaml.safe_load(second.stdout) == obj  # defaulting is idempotent


def test_validate_output_json_of_several_objects(manifests: Path) -> None:
    result = podbay("validate", "-f", str(manifests / "config.yaml"), "-o", "json")
    payload = json.loads(result.stdout)
    assert payload["kind"] == "List" and [i["kind"] for i in payload["items"]] == [
        "ConfigMap", "Secret", "PersistentVolumeClaim"]


def test_validate_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = podbay("validate", "-f", str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert f"error: {tmp_path / 'missing.yaml'}: input: no such file or directory" in result.stderr


def test_validate_needs_a_file() -> None:
    result = podbay("validate")
    assert result.returncode == 2 and "-f/--filename" in result.stderr


def test_explain() -> None:
    result = podbay("explain", "pod.spec.containers.livenessProbe")
    assert result.returncode == 0 and "FIELD:      livenessProbe <Probe>" in result.stdout
    result = podbay("explain", "pod.spec.nope")
    assert result.returncode == 1 and result.stderr.startswith('error: field "nope" does not exist')


def test_no_command_prints_help() -> None:
    result = podbay()
    assert result.returncode == 2 and "validate" in result.stderr

