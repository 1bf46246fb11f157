"""What the two specs leave out of the frozen bundles (imported by the ``.spec`` files;
not part of the installed program). ``KDS_NO_TRIM=1`` builds without any of it, to
measure what the trimming saves (packaging/pyinstaller/README.md)."""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterable

TRIM = os.environ.get("KDS_NO_TRIM") != "1"

# --- the agent ----------------------------------------------------------------------------

#: Pillow's file-format plugins (PIL/<name>ImagePlugin.py)
_PIL_FORMATS = [
    "Avif",
    "Blp",
    "Bmp",
    "BufrStub",
    "Cur",
    "Dcx",
    "Dds",
    "Eps",
    "Fits",
    "Fli",
    "Fpx",
    "Ftex",
    "Gbr",
    "Gif",
    "GribStub",
    "Hdf5Stub",
    "Icns",
    "Ico",
    "Im",
    "Imt",
    "Iptc",
    "Jpeg2K",
    "Jpeg",
    "McIdas",
    "Mic",
    "Mpeg",
    "Mpo",
    "Msp",
    "Palm",
    "Pcd",
    "Pcx",
    "Pdf",
    "Pixar",
    "Png",
    "Ppm",
    "Psd",
    "Qoi",
    "Sgi",
    "Spider",
    "Sun",
    "Tga",
    "Tiff",
    "WebP",
    "Wmf",
    "XVThumb",
    "Xbm",
    "Xpm",
]

#: modules the agent never imports, though something in its dependency tree mentions them
AGENT_EXCLUDES = [
    "tableauhyperapi",  # optional (export --format hyper); not in the frozen build
    "PySide6",
    "shiboken6",
    "kitchen_display",
    "tkinter",
    "_tkinter",
    "IPython",
    "numpy",
    "pytest",
    "unittest",
    "pydoc",
    "lib2to3",
    # python-escpos imports PIL.Image (for its image and QR helpers); Pillow's font,
    # colour-management, AVIF and WebP extensions pull freetype, harfbuzz, brotli, lcms2,
    # libavif and libwebp, which nothing the agent prints needs
    "PIL.ImageFont",
    "PIL._imagingft",
    "PIL.ImageCms",
    "PIL._imagingcms",
    "PIL.AvifImagePlugin",
    "PIL._avif",
    "PIL.WebPImagePlugin",
    "PIL._webp",
    "PIL.ImageQt",
    "PIL.ImageTk",
    "PIL.ImageShow",
    # keyring's Secret Service backend (secretstorage, 11 MB of cryptography): a desktop
    # session's keyring; the agent is a headless service and reads its secrets from
    # $CREDENTIALS_DIRECTORY (shared/config.py), keyring's other backends stay
    "secretstorage",
    "cryptography",
    # PIL.Image loads its file-format plugins on demand and skips those that fail to
    # import (Image.preinit/init); the agent never opens an image file
    *[f"PIL.{fmt}ImagePlugin" for fmt in _PIL_FORMATS],
    "PIL.PdfParser",
    # imported only inside functions the agent never reaches: pydantic.v1 (a v1 model met
    # while building a schema), anyio/asyncio (httpcore's async API; the agent's HTTP is
    # httpx's sync client), boto3's S3/DynamoDB/EC2 helpers and s3transfer (boto3 loads
    # them by name when such a client is made), multiprocessing (nothing imports it)
    "pydantic.v1",
    "anyio",
    "asyncio",
    "s3transfer",
    "boto3.s3",
    "boto3.dynamodb",
    "boto3.ec2",
    "multiprocessing",
    "concurrent.futures.process",
    # optional accelerators whose pure-Python twin is bundled: PyYAML's libyaml binding
    # (yaml falls back when it is missing; escpos reads one small YAML file), and the pure
    # decimal module (_decimal, the C one, is there)
    "yaml._yaml",
    "yaml.cyaml",
    "_pydecimal",
]

#: botocore service models the agent loads: sns (the notifier), sts (credentials from an
#: assumed role); everything else in botocore/data (~ 400 services) is dead weight
AGENT_BOTOCORE_SERVICES = {"sns", "sts"}

# --- the display --------------------------------------------------------------------------

DISPLAY_EXCLUDES = [
    "edge_agent",
    "tableauhyperapi",
    "boto3",
    "botocore",
    "kafka",
    "escpos",
    "PIL",
    "datadog",
    "tkinter",
    "_tkinter",
    "numpy",
    "pytest",
    "unittest",
    "pydoc",
    "lib2to3",
    # Qt modules the display does not use (it uses QtCore, QtGui, QtWidgets, QtMultimedia)
    *[
        f"PySide6.{name}"
        for name in [
            "QtQml",
            "QtQuick",
            "QtQuickWidgets",
            "QtQuickControls2",
            "QtQuick3D",
            "QtOpenGL",
            "QtOpenGLWidgets",
            "QtPdf",
            "QtPdfWidgets",
            "QtSql",
            "QtSvg",
            "QtSvgWidgets",
            "QtTest",
            "QtXml",
            "QtWebEngineCore",
            "QtWebEngineWidgets",
            "QtWebEngineQuick",
            "QtWebChannel",
            "QtWebSockets",
            "Qt3DCore",
            "Qt3DRender",
            "Qt3DInput",
            "Qt3DLogic",
            "Qt3DAnimation",
            "Qt3DExtras",
            "QtCharts",
            "QtDataVisualization",
            "QtGraphs",
            "QtBluetooth",
            "QtNfc",
            "QtPositioning",
            "QtLocation",
            "QtSensors",
            "QtSerialPort",
            "QtSerialBus",
            "QtRemoteObjects",
            "QtScxml",
            "QtStateMachine",
            "QtTextToSpeech",
            "QtHttpServer",
            "QtSpatialAudio",
            "QtDBus",
            "QtDesigner",
            "QtHelp",
            "QtUiTools",
            "QtPrintSupport",
            "QtMultimediaWidgets",
            "QtNetworkAuth",
            "QtAxContainer",
        ]
    ],
]

#: Qt plugin folders (under PySide6/Qt/plugins/) the display keeps; within ``platforms``
#: only xcb (X11), wayland and offscreen (the self-test, CI)
_KEEP_PLUGIN_DIRS = {
    "platforms",
    "xcbglintegrations",
    "wayland-decoration-client",
    "wayland-graphics-integration-client",
    "wayland-shell-integration",
    "platforminputcontexts",
    "imageformats",
}
_KEEP_PLATFORMS = re.compile(r"libq(xcb|wayland|offscreen)\.so")
#: image formats: PNG and JPEG are built into QtGui; keep only SVG-free, tiny ones we might
#: load (none today), so the folder goes entirely
_KEEP_IMAGEFORMATS: set[str] = set()

#: Qt libraries the kept modules and plugins do not load
_DROP_QT_LIBS = re.compile(
    r"libQt6(Quick|Qml|VirtualKeyboard|Pdf|WebEngine|3D|Charts|DataVisualization|Graphs|"
    r"Bluetooth|Nfc|Positioning|Location|Sensors|Serial|RemoteObjects|Scxml|StateMachine|"
    r"TextToSpeech|HttpServer|SpatialAudio|Designer|Help|UiTools|Sql|Test|ShaderTools|"
    r"Svg|OpenGLWidgets|PrintSupport|MultimediaWidgets|MultimediaQuick|"
    r"Labs|Lottie|Protobuf|Grpc|Widgets?Quick|FFmpegStub|EglFs|EglFSDevice)"
)
#: the ffmpeg multimedia plugin and its libav* (QSoundEffect plays WAV through the
#: platform audio (PulseAudio) without it); the GTK3 platform theme pulls GTK, GDK,
#: cairo, pango, atk... from the build machine
_DROP_FILES = re.compile(
    r"(libffmpegmediaplugin|libqtvirtualkeyboardplugin|libav(codec|format|util|device|filter)|libsw(scale|resample)|"
    r"libqgtk3|libgtk-3|libgdk-3|libgdk_pixbuf|libcairo|libpango|libatk|libatspi|"
    r"libharfbuzz-gobject|libepoxy|libwayland-cursor)"
)


def _posix(path: str) -> str:
    return path.replace("\\", "/")


def keep_agent_data(dest: str) -> bool:
    """False for data the agent never loads: botocore's other services' models, the
    examples (documentation only), botocore's own CA bundle (it uses certifi's when
    certifi is importable, and it is: httpx needs it), dateutil's zone database."""
    if not TRIM:
        return True
    path = _posix(dest)
    if path in ("botocore/cacert.pem", "dateutil/zoneinfo/dateutil-zoneinfo.tar.gz"):
        # botocore uses certifi's bundle; dateutil's time zone database is its fallback
        # for zones the system lacks (botocore asks only for UTC and the local zone)
        return False
    for package in ("botocore/data/", "boto3/data/"):
        if path.startswith(package):
            rest = path[len(package) :]
            if "/" not in rest:
                return True  # endpoints.json, partitions.json, sdk-default-configuration
            if rest.rsplit("/", 1)[-1].startswith("examples-"):
                return False
            return rest.split("/", 1)[0] in AGENT_BOTOCORE_SERVICES
    return True


def gzipped_botocore_data(
    toc: Iterable[tuple[str, str, str]], workdir: str
) -> list[tuple[str, str, str]]:
    """The TOC with botocore's plain ``.json`` data files replaced by ``.json.gz`` copies
    written under ``workdir``: botocore's loader reads either (endpoints.json: 1.2 MB ->
    0.1 MB). The service models are gzipped already."""
    if not TRIM:
        return list(toc)
    out: list[tuple[str, str, str]] = []
    for dest, source, kind in toc:
        path = _posix(dest)
        if path.startswith("botocore/data/") and path.endswith(".json"):
            target = os.path.join(workdir, "botocore-gz", path + ".gz")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(source, "rb") as plain, gzip.GzipFile(target, "wb", mtime=0) as packed:
                packed.write(plain.read())
            out.append((dest + ".gz", target, kind))
        else:
            out.append((dest, source, kind))
    return out


def keep_display_file(dest: str) -> bool:
    """False for Qt libraries, plugins and translations the display does not load."""
    if not TRIM:
        return True
    path = _posix(dest)
    name = path.rsplit("/", 1)[-1]
    if "/Qt/translations/" in path or path.startswith("PySide6/Qt/translations"):
        return False  # Qt's own .qm files (the display's are in kitchen_display/)
    if _DROP_QT_LIBS.search(name) or _DROP_FILES.search(name):
        return False
    marker = "PySide6/Qt/plugins/"
    if marker in path:
        rest = path.split(marker, 1)[1]
        folder = rest.split("/", 1)[0]
        if folder not in _KEEP_PLUGIN_DIRS:
            return False
        if folder == "platforms":
            return bool(_KEEP_PLATFORMS.search(name))
        if folder == "imageformats":
            return name in _KEEP_IMAGEFORMATS
        if folder == "wayland-decoration-client":
            # libadwaita.so needs QtSvg, which is not bundled (packaging/deb/bundle_depends.py
            # found it): Qt falls back to the plain "bradient" decoration
            return name != "libadwaita.so"
    return not (path.startswith("PySide6/") and name.endswith(".pyi"))


def filtered(toc: Iterable[tuple[str, str, str]], keep: object) -> list[tuple[str, str, str]]:
    """The entries of a PyInstaller TOC whose destination ``keep`` accepts."""
    assert callable(keep)
    return [entry for entry in toc if keep(entry[0])]


#: system libraries the display bundles anyway: the Python runtime's own small ones
#: (OpenSSL, libstdc++ and libgcc come from the machine: libssl3, libstdc++6, libgcc-s1)
_KEEP_SYSTEM = re.compile(
    r"^lib(ffi|sqlite3|z|bz2|lzma|uuid|expat|mpdec|readline|ncursesw?|tinfo)[.-]"
)
#: where a library is the machine's own
_SYSTEM_DIRS = ("/usr/lib/", "/lib/", "/usr/lib64/", "/lib64/")
#: the Python runtime itself: a system library when the build's Python is the
#: distribution's (Debian 12's python3: /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0),
#: and no bundle starts without it
_RUNTIME = re.compile(r"^libpython3[.\d]*\.so")
#: and its own extension modules (``_decimal``, ``_contextvars``...): Debian's python3
#: keeps them in /usr/lib/python3.11/lib-dynload, a system directory too
_STDLIB = os.path.dirname(os.__file__).rstrip("/") + "/"


def _python_runtime(name: str, source: str) -> bool:
    """Whether ``source`` (named ``name`` in the bundle) is the Python runtime itself
    or one of its own modules."""
    return bool(_RUNTIME.search(name)) or _posix(source).startswith(_STDLIB)


def keep_display_binary(dest: str, source: str) -> bool:
    """False for what :func:`keep_display_file` drops, and for the desktop's system
    libraries (GLib, X11/xcb, Wayland, PulseAudio and its codecs, fontconfig, freetype,
    D-Bus, Kerberos...): the machine's own are used, the .deb depends on their packages
    (packaging/pyinstaller/README.md lists them); a bundled copy would only shadow them."""
    if not keep_display_file(dest):
        return False
    if not TRIM:
        return True
    name = _posix(dest).rsplit("/", 1)[-1]
    system = source.startswith(_SYSTEM_DIRS)
    return not system or bool(_KEEP_SYSTEM.search(name)) or _python_runtime(name, source)


def keep_agent_binary(source: str, dest: str) -> bool:
    """The agent bundles no system library, not even the Python runtime's small ones
    (SQLite, zlib, lzma, bz2, libffi, libuuid: 1.9 MB); the .deb depends on their
    packages (packaging/deb/bundle_depends.py checks that every one is a Depends)."""
    if not TRIM:
        return True
    if _python_runtime(_posix(dest).rsplit("/", 1)[-1], source):
        return True
    return not source.startswith(_SYSTEM_DIRS)


def filtered_agent_binaries(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [entry for entry in toc if keep_agent_binary(entry[1], entry[0])]


def filtered_binaries(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The display's binaries without what :func:`keep_display_binary` drops."""
    return [entry for entry in toc if keep_display_binary(entry[0], entry[1])]
