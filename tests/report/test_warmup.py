"""Start-up work done once per run: kernel warm-up extension and longest-first scheduling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from journeylib.present import render
from journeylib.report.progress import ProgressEvent
from journeylib.report.runner import longest_first, previous_seconds, run_client
from tests.report.report_helpers import write_notebook

# --------------------------------------------------------------------------- bundle cache


def test_bundle_is_built_once_then_read(tmp_path: Path) -> None:
    calls: list[int] = []

    def build() -> str:
        calls.append(1)
        return "/* bundle */ window.vegaEmbed=function(){}; ünïcode"

    first = render.cached_vega_bundle(build, cache_dir=tmp_path)
    second = render.cached_vega_bundle(build, cache_dir=tmp_path)
    assert len(calls) == 1  # the second call read the file
    assert first == second == "/* bundle */ window.vegaEmbed=function(){}; ünïcode"
    files = list(tmp_path.glob("vega-bundle-*.js"))
    assert len(files) == 1 and not list(tmp_path.glob(".vega-bundle-*"))


def test_bundle_cache_ignores_a_broken_file(tmp_path: Path) -> None:
    render.cached_vega_bundle(lambda: "window.vegaEmbed=1", cache_dir=tmp_path)
    (cached,) = tmp_path.glob("vega-bundle-*.js")
    cached.write_text("truncated", encoding="utf-8")
    assert render.cached_vega_bundle(lambda: "window.vegaEmbed=2", cache_dir=tmp_path) == (
        "window.vegaEmbed=2"
    )
    assert cached.read_text(encoding="utf-8") == "window.vegaEmbed=2"


def test_bundle_cache_unwritable_still_builds(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert render.cached_vega_bundle(lambda: "window.vegaEmbed", cache_dir=blocker) == (
        "window.vegaEmbed"
    )


def test_bundle_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("JOURNEY_CACHE_DIR", str(tmp_path / "c"))
    assert render.bundle_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("JOURNEY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert render.bundle_cache_dir() == tmp_path / "xdg" / "journeylib"


def _python(code: str, tmp_path: Path) -> str:
    env = {**os.environ, "JOURNEY_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.strip()


def test_extension_gives_the_real_bundle_from_the_cache(tmp_path: Path) -> None:
    """In a fresh process: the renderer's bundle is the real one, and is read back from the cache."""
    code = (
        "from journeylib.report import warmup\n"
        "warmup.load_ipython_extension(None)\n"
        "from journeylib.present import render\n"
        "built = render.vega_bundle()\n"
        "def fail(): raise AssertionError('rebuilt')\n"
        "again = render.cached_vega_bundle(fail)\n"
        "page = render.page_html([{'mark': 'point'}], title='t')\n"
        "print(built == again, 'window.vegaEmbed' in built, page.count(built))\n"
    )
    assert _python(code, tmp_path) == "True True 1"


def test_iri_checker_kept_out_and_vega_lite_still_validates(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from journeylib.report.warmup import skip_slow_iri_checker\n"
        "print(skip_slow_iri_checker())\n"
        "import altair as alt, jsonschema\n"
        "alt.Chart(alt.Data(url='https://example.org/a.csv')).mark_point().to_dict()\n"
        "print(sys.modules['rfc3987_syntax'] is None, skip_slow_iri_checker())\n"
    )
    assert _python(code, tmp_path).split() == ["True", "True", "True"]


def test_iri_checker_too_late_once_jsonschema_is_imported(tmp_path: Path) -> None:
    code = (
        "import jsonschema\n"
        "from journeylib.report.warmup import skip_slow_iri_checker\n"
        "print(skip_slow_iri_checker())\n"
    )
    assert _python(code, tmp_path) == "False"


# --------------------------------------------------------------------------- scheduling


def _previous_run(reports: Path, seconds: dict[str, float]) -> None:
    run = reports / "20250101T000000Z"
    run.mkdir(parents=True)
    notebooks = [
        {"name": k, "status": "ok", "seconds": v, "error": None} for k, v in seconds.items()
    ]
    (run / "run.json").write_text(json.dumps({"notebooks": notebooks}), encoding="utf-8")
    (reports / "latest.txt").write_text(run.name + "\n", encoding="utf-8")


def test_longest_first_uses_the_previous_run(tmp_path: Path) -> None:
    nbs = [Path(f"{n}.ipynb") for n in ("01_a", "02_b", "03_c", "04_new", "05_e")]
    _previous_run(tmp_path, {"01_a": 5.0, "02_b": 20.0, "03_c": 5.0, "05_e": 30.0})
    assert previous_seconds(tmp_path) == {"01_a": 5.0, "02_b": 20.0, "03_c": 5.0, "05_e": 30.0}
    # Unknown first (it may be long), then by time; ties keep the given order.
    order = [p.stem for p in longest_first(nbs, tmp_path)]
    assert order == ["04_new", "05_e", "02_b", "01_a", "03_c"]
    assert longest_first([0, 1], tmp_path, names=["02_b", "05_e"]) == [1, 0]


def test_longest_first_without_or_with_a_broken_history(tmp_path: Path) -> None:
    nbs = [Path("01_a.ipynb"), Path("02_b.ipynb")]
    assert longest_first(nbs, tmp_path / "nothing") == nbs
    _previous_run(tmp_path, {"01_a": 1.0})
    (tmp_path / "20250101T000000Z" / "run.json").write_text("{broken", encoding="utf-8")
    assert previous_seconds(tmp_path) == {}
    assert longest_first(nbs, tmp_path) == nbs


WARM_NB = [
    "import sys\n"
    "from journeylib.present import render\n"
    "print('iri', sys.modules.get('rfc3987_syntax', 'loaded') is None)\n"
    "from journeylib.present.render import bundle_cache_dir\n"
    "render.vega_bundle()\n"
    "print('bundle', any(bundle_cache_dir().glob('vega-bundle-*.js')))\n"
    "print('namespace', 'warmup' in dir())",
]


def test_runner_kernels_are_warmed_and_started_longest_first(
    data_root, tmp_path, no_hooks, monkeypatch
) -> None:
    monkeypatch.setenv("JOURNEY_CACHE_DIR", str(tmp_path / "cache"))
    nbs = tmp_path / "nbs"
    paths = [
        write_notebook(nbs / "01_short.ipynb", ["print('short')"]),
        write_notebook(nbs / "02_warm.ipynb", WARM_NB),
    ]
    reports = tmp_path / "reports"
    _previous_run(reports / "acme", {"01_short": 1.0, "02_warm": 9.0})
    started: list[str] = []

    def progress(event: ProgressEvent) -> None:
        if event.stage == "notebook_started":
            started.append(event.notebook or "")

    result = run_client("acme", out_dir=reports, jobs=1, notebooks=paths, progress=progress)
    assert result.ok, result.error
    assert started == ["02_warm", "01_short"]
    assert [n.name for n in result.notebooks] == ["01_short", "02_warm"]  # given order
    run = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert [n["name"] for n in run["notebooks"]] == ["01_short", "02_warm"]
    out = json.loads((result.run_dir / "notebooks" / "02_warm.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(o.get("text", "")) for c in out["cells"] for o in c.get("outputs", []))
    assert "iri True" in text and "bundle True" in text and "namespace False" in text


def test_cache_in_a_folder_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    """A bundle planted in a shared folder never reaches a report."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)

    planted = "window.vegaEmbed=1;</script><script>alert(1)</script>"
    (shared / f"vega-bundle-{render._bundle_key()}.js").write_text(planted)
    out = render.cached_vega_bundle(lambda: "window.vegaEmbed=2", cache_dir=shared)
    assert out == "window.vegaEmbed=2"


def test_cached_text_is_escaped_again_when_read(tmp_path: Path) -> None:

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / f"vega-bundle-{render._bundle_key()}.js").write_text(
        "window.vegaEmbed='</script><!--'"
    )
    out = render.cached_vega_bundle(lambda: "unused", cache_dir=cache)
    assert "</script" not in out and "<!--" not in out and "window.vegaEmbed" in out
