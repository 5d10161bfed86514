"""Fonts for Chinese and Arabic text in charts, on any machine.

A machine with only Latin fonts draws Chinese labels as empty boxes. The
workbench brings its own OFL fonts, shipped by Python packages:

* Chinese: Noto Sans CJK SC (``NotoSansCJKsc-Regular.otf`` of the ``mplfonts``
  package, SIL Open Font License). Only that file is used: the package folder
  also holds fonts under other licences, so it is never registered whole.
* Arabic: a system Noto Sans Arabic when fontconfig has one, else DejaVu Sans,
  which covers Arabic, as shipped by matplotlib (a dependency of ``mplfonts``).
* Latin: matplotlib's DejaVu Sans and DejaVu Sans Bold, the theme's last Latin
  family, so the stack always finds a Latin font before the Chinese one (the
  same fonts vl-convert finds on machines that have DejaVu installed).

The files are linked into a folder of their own under the cache folder
(``$JOURNEY_CACHE_DIR``, else ``$XDG_CACHE_HOME/journeylib``, default
``~/.cache/journeylib``), made once and shared by every process; it also holds
a ``fonts.conf`` for fontconfig programs such as headless Chromium
(:func:`fontconfig_env`). :func:`register_chart_fonts` hands that folder to
vl-convert once per process, before the first SVG, PNG or PDF export.

vl-convert (resvg) falls back per glyph: text is drawn in the first family of
the font stack that is installed, and each character that family lacks comes
from the first font of its database (registered or system) that has it,
whatever the rest of the stack says (registering the whole ``mplfonts`` folder
would draw Chinese in Noto Serif CJK, say). So one theme, with the Latin fonts
first, draws every language;
:func:`font_stack` lists the Chinese and Arabic families after the Latin ones
for browsers (which fall back per glyph along the stack) and can put one
language's family first (``lang=``) when a whole chart should use it.

When a font file is missing (its package not installed), nothing fails:
:func:`font_files` lacks it, one warning is logged, and charts are exported
with whatever fonts the machine has (vl-convert's own Liberation Sans at least).
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import html
import importlib.util
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = [
    "ARABIC_FAMILY",
    "CJK_FAMILY",
    "cjk_font_face",
    "is_wide",
    "page_characters",
    "GENERIC_FAMILY",
    "LATIN_FAMILIES",
    "SYSTEM_ARABIC_FAMILY",
    "chart_font_dir",
    "font_files",
    "font_stack",
    "fontconfig_env",
    "register_chart_fonts",
]

_log = logging.getLogger(__name__)

#: The Latin fonts of the theme, in order: browsers use the first they have,
#: vl-convert finds DejaVu Sans on our machines.
LATIN_FAMILIES = ("Helvetica Neue", "Helvetica", "Arial", "DejaVu Sans")
#: The family of the Chinese font file.
CJK_FAMILY = "Noto Sans CJK SC"
#: The family of the shipped Arabic (and Latin) font files: matplotlib's DejaVu Sans.
ARABIC_FAMILY = "DejaVu Sans"
#: The Arabic family preferred when fontconfig has it.
SYSTEM_ARABIC_FAMILY = "Noto Sans Arabic"
GENERIC_FAMILY = "sans-serif"

# (package, path inside the package) of each shipped file, by script.
_PACKAGE_FILES = {
    "latin": ("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf"),
    "latin-bold": ("matplotlib", "mpl-data/fonts/ttf/DejaVuSans-Bold.ttf"),
    "arabic": ("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf"),
    "cjk": ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf"),
}
# Bumped when the folder's layout or fonts.conf changes.
_LAYOUT = "1"
_SYSTEM_FONTS_CONF = "/etc/fonts/fonts.conf"

_LOCK = threading.Lock()
_REGISTERED = False


def _package_file(package: str, relative: str) -> Path | None:
    """A file inside an installed package, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / relative
        if path.is_file():
            return path.resolve()
    return None


def _system_font(family: str) -> Path | None:
    """The regular face of ``family`` when fontconfig has it (``fc-list``), else None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(
            [fc_list, "--format", "%{file}\n", f"{family}:style=Regular"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted({Path(line) for line in out.splitlines() if line.strip()})
    files = [f for f in files if f.is_file()]
    if not files:
        return None
    # A static Regular file first, then any (a variable font holds the regular weight too).
    return next((f for f in files if "Regular" in f.name), files[0]).resolve()


@functools.cache
def font_files() -> dict[str, Path]:
    """The chart font files found on this machine, by script.

    Returns:
        The entries whose file exists, of ``"latin"`` and ``"latin-bold"``
        (matplotlib's DejaVu Sans and DejaVu Sans Bold), ``"arabic"`` (a system
        Noto Sans Arabic when fontconfig lists one, else matplotlib's DejaVu
        Sans) and ``"cjk"`` (Noto Sans CJK SC from ``mplfonts``). Missing files
        are logged in one warning; the result is kept for the process.

    Examples:
        >>> set(font_files()) <= {"latin", "latin-bold", "arabic", "cjk"}
        True
    """
    found: dict[str, Path] = {}
    missing: list[str] = []
    for script, (package, relative) in _PACKAGE_FILES.items():
        path = _system_font(SYSTEM_ARABIC_FAMILY) if script == "arabic" else None
        path = path or _package_file(package, relative)
        if path is None:
            missing.append(f"{script} ({package}: {relative})")
        else:
            found[script] = path
    if missing:
        _log.warning(
            "chart fonts not found: %s; exported charts may show empty boxes for "
            "Chinese or Arabic text (pip install mplfonts matplotlib)",
            ", ".join(missing),
        )
    return found


def font_stack(lang: str | None = None) -> str:
    """The CSS/Vega font-family list of the chart theme.

    Args:
        lang: a language code (``"zh"``, ``"zh-CN"``, ``"ar"``...) whose font
            should come first, so the whole text, Latin letters and digits
            included, is drawn in it. None (the theme's default) keeps the
            Latin fonts first and the Chinese and Arabic families after them:
            English looks as before, and other scripts still show because
            browsers and vl-convert fall back per glyph.

    Returns:
        Comma-separated family names, ending with ``sans-serif``.

    Examples:
        >>> font_stack()
        'Helvetica Neue, Helvetica, Arial, DejaVu Sans, Noto Sans CJK SC, Noto Sans Arabic, sans-serif'
        >>> font_stack("zh-CN").split(", ")[0]
        'Noto Sans CJK SC'
    """
    families = [*LATIN_FAMILIES, CJK_FAMILY, SYSTEM_ARABIC_FAMILY]
    primary = (lang or "").lower().replace("_", "-").split("-")[0]
    if primary == "zh":
        families.insert(0, CJK_FAMILY)
    elif primary in {"ar", "fa", "ur"}:
        arabic = font_files().get("arabic")
        system = arabic is not None and arabic != _package_file(*_PACKAGE_FILES["arabic"])
        families.insert(0, SYSTEM_ARABIC_FAMILY if system else ARABIC_FAMILY)
    return ", ".join(dict.fromkeys([*families, GENERIC_FAMILY]))


def _cache_root() -> Path:
    """The workbench's cache folder (the same one as the vega bundle's)."""
    explicit = os.environ.get("JOURNEY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "journeylib"


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else (fonts are parsed by native code)."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _links(files: Mapping[str, Path]) -> dict[str, Path]:
    """The folder's entries: one per distinct file, named after the first script using it."""
    links: dict[str, Path] = {}
    for script, path in files.items():
        if path not in links.values():
            links[f"{script}-{path.name}"] = path
    return links


def _fonts_conf(root: Path) -> str:
    """A fontconfig file: the system's configuration plus the chart fonts' folder."""
    return (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        "<!-- Written by journeylib.charts.fonts: the system fonts and the chart fonts. -->\n"
        "<fontconfig>\n"
        f'  <include ignore_missing="yes">{_SYSTEM_FONTS_CONF}</include>\n'
        f"  <dir>{escape(str(root / 'fonts'))}</dir>\n"
        # After the system's cache folders: used only when none of them is writable.
        f"  <cachedir>{escape(str(root / 'fontconfig-cache'))}</cachedir>\n"
        "</fontconfig>\n"
    )


def _key(files: Mapping[str, Path]) -> str:
    """What the folder's content depends on: the layout and each file's path, size and date."""
    parts = [_LAYOUT]
    for script, path in sorted(files.items()):
        st = path.stat()
        parts.append(f"{script}\t{path}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _is_ready(root: Path, files: Mapping[str, Path]) -> bool:
    """The folder holds exactly our links (or copies) and fonts.conf, and is private."""
    try:
        if not (root.is_dir() and _private(root)):
            return False
        if (root / "fonts.conf").read_text(encoding="utf-8") != _fonts_conf(root):
            return False
        fonts = root / "fonts"
        expected = _links(files)
        if {entry.name for entry in fonts.iterdir()} != set(expected):
            return False
        for name, target in expected.items():
            entry = fonts / name
            if entry.is_symlink():
                if Path(os.readlink(entry)) != target:
                    return False
            elif entry.stat().st_size != target.stat().st_size:
                return False
        return True
    except (OSError, UnicodeDecodeError):
        return False


def _fill(folder: Path, root: Path, files: Mapping[str, Path]) -> None:
    """Put the font links and fonts.conf (naming ``root``, the final place) in ``folder``."""
    fonts = folder / "fonts"
    fonts.mkdir()
    for name, path in _links(files).items():
        link = fonts / name
        try:
            link.symlink_to(path)
        except OSError:  # no symlinks on this file system
            shutil.copyfile(path, link)
    (folder / "fonts.conf").write_text(_fonts_conf(root), encoding="utf-8")


def _make_shared(parent: Path, files: Mapping[str, Path]) -> Path:
    """The folder under ``parent``, made once: built aside, then renamed into place.

    Processes starting together each build their own copy; the first rename
    wins and the others find its folder ready and drop theirs.
    """
    root = parent / f"chart-fonts-{_key(files)}"
    if _is_ready(root, files):
        return root
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _private(parent):
        raise OSError(f"{parent} is writable by other users")
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=".chart-fonts-"))
    try:
        _fill(tmp, root, files)
        os.rename(tmp, root)  # fails when root exists (another process was first)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if _is_ready(root, files):
            return root
        raise
    return root


def _make_private(files: Mapping[str, Path]) -> Path:
    """A folder for this process alone, removed at exit (when the cache folder is unusable)."""
    root = Path(tempfile.mkdtemp(prefix="journeylib-chart-fonts-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    _fill(root, root, files)
    return root


@functools.cache
def chart_font_dir() -> Path | None:
    """The folder holding links to exactly the :func:`font_files` (``fonts/``) and ``fonts.conf``.

    Made once under the cache folder and reused by every later process (a new
    one when a font file changes); a private temporary folder when the cache
    folder cannot be used.

    Returns:
        The folder, or None when no font file was found or no folder could be made.
    """
    files = font_files()
    if not files:
        return None
    try:
        return _make_shared(_cache_root(), files)
    except (OSError, RuntimeError) as exc:  # RuntimeError: no home folder
        _log.debug("chart fonts: cache folder not usable (%s), using a temporary one", exc)
    try:
        return _make_private(files)
    except OSError as exc:
        _log.warning("chart fonts: no folder for the font links (%s); fonts not registered", exc)
        return None


def register_chart_fonts() -> None:
    """Give vl-convert the chart fonts: call before the first SVG, PNG or PDF export.

    Registers the folder of :func:`chart_font_dir` with
    ``vl_convert.register_font_directory``, once per process; later calls
    return at once. Never raises: without fonts, charts are exported with the
    machine's own fonts (a warning is logged).

    Examples:
        >>> register_chart_fonts()
        >>> register_chart_fonts()  # the second call does nothing
    """
    global _REGISTERED
    if _REGISTERED:
        return
    with _LOCK:
        if _REGISTERED:
            return
        # Set first: a failure is reported once, not at every export.
        _REGISTERED = True
        folder = chart_font_dir()
        if folder is None:
            return
        try:
            import vl_convert as vlc

            vlc.register_font_directory(str(folder / "fonts"))
        except Exception as exc:  # a chart without these fonts beats no chart
            _log.warning("chart fonts not registered with vl-convert: %s", exc)


def fontconfig_env(base_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment in which fontconfig programs (headless Chromium) also see the chart fonts.

    Args:
        base_env: the environment to start from (default ``os.environ``).

    Returns:
        A copy of ``base_env`` whose ``FONTCONFIG_FILE`` names the generated
        ``fonts.conf``, which includes ``/etc/fonts/fonts.conf`` (the system
        fonts and settings) and adds the chart fonts' folder. Unchanged (a
        copy) when there are no chart fonts. A ``FONTCONFIG_FILE`` already in
        ``base_env`` is replaced.

    Examples:
        >>> env = fontconfig_env({"PATH": "/usr/bin"})
        >>> env["PATH"]
        '/usr/bin'
    """
    env = dict(os.environ if base_env is None else base_env)
    folder = chart_font_dir()
    if folder is not None:
        env["FONTCONFIG_FILE"] = str(folder / "fonts.conf")
    return env


def is_wide(ch: str) -> bool:
    """Whether ``ch`` is a wide character (Chinese, Japanese, Korean): about 1 em across."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def page_characters(page: str) -> set[str]:
    r"""The wide (CJK) characters of an HTML page.

    Those written as they are, as character references (``&#x5ba2;``) and as
    ``\uXXXX`` escapes in its scripts (chart specs) all count.
    """
    chars = {c for c in html.unescape(page) if is_wide(c)}
    chars |= {chr(int(h, 16)) for h in re.findall(r"\\u([0-9a-fA-F]{4})", page)}
    return {c for c in chars if is_wide(c)}


def cjk_font_face(chars: Iterable[str]) -> str | None:
    """A CSS ``@font-face`` of Noto Sans CJK SC cut down to ``chars``, inlined as WOFF.

    A page in Chinese then shows its characters (in the page and in its inline
    SVG charts and maps) on a machine without a CJK font, and makes no network
    request: the glyphs travel in the page. None without characters or
    without the font file (the browser then falls back on its own fonts).

    Examples:
        >>> css = cjk_font_face("注册")
        >>> css is None or css.startswith("@font-face{font-family:'Noto Sans CJK SC'")
        True
    """
    wanted = sorted(set(chars))
    path = font_files().get("cjk")
    if not wanted or path is None:
        return None
    from fontTools import subset  # local: only pages in Chinese need it

    options = subset.Options()
    options.flavor = "woff"  # zlib; WOFF2 would need brotli
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(path), options)
    sub = subset.Subsetter(options)
    sub.populate(text="".join(wanted))
    sub.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f"@font-face{{font-family:'{CJK_FAMILY}';"
        f"src:url(data:font/woff;base64,{data}) format('woff');font-display:block}}"
    )
