"""The repository stands alone: nothing in the package or the tests points outside it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A path that climbs out of its folder (a parent folder's data, whatever its name), or a
# specification kept elsewhere.
OUTSIDE = re.compile(
    r"\.\./\w|Path\(\s*[\"']\.\.[\"']\s*\)|shared/data|SHARED_DATA"
    r"|SPEC\s*§|SPEC\.md|\.parents\[\d\]\.parent\b"
)
SELF = Path(__file__).resolve()


def _sources() -> list[Path]:
    roots = [ROOT / "linktracker", ROOT / "tests", ROOT / "migrations", ROOT / "bench"]
    suffixes = {".py", ".html", ".js", ".css", ".ini", ".mako", ".cfg", ".toml", ".txt"}
    return [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and path.suffix in suffixes and path.resolve() != SELF
    ]


def test_no_source_file_names_a_path_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, "files point outside the repository:\n" + "\n".join(hits)


def test_the_check_sees_a_file_that_points_outside() -> None:
    # The pattern itself, so that the test above cannot pass by matching nothing.
    samples = [
        'Path("../elsewhere/data/crm")',
        'Path("..") / "data"',
        "tests/shared/data",
        "see SPEC §3.5",
        "Path(__file__).parents[1].parent / 'x'",
    ]
    assert all(OUTSIDE.search(sample) for sample in samples)
    assert not OUTSIDE.search('Path(__file__).resolve().parent / "data"')


def test_the_test_data_is_in_the_repository() -> None:
    data = ROOT / "tests" / "data"
    for name in ("crawler-user-agents.json", "uap_test_ua.yaml", "uap_test_device.yaml"):
        assert (data / "user_agents" / name).is_file()
    assert (data / "user_agents" / "LICENSE.uap-core").is_file()
    assert (data / "user_agents" / "LICENSE.crawler-user-agents").is_file()
    assert (data / "crm" / "hubspot_deals_export.csv").is_file()


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file (outside code fences)."""
    anchors, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("#"):
            text = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    broken = []
    for doc in DOCS:
        text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                broken.append(f"{doc.relative_to(ROOT)}: no file {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{doc.relative_to(ROOT)}: no heading {target}")
    assert not broken, "\n".join(broken)


def test_the_docs_do_not_point_outside_the_repository() -> None:
    hits = [
        f"{doc.relative_to(ROOT)}:{number}"
        for doc in DOCS
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, hits


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move detail into docs/"


def _test_modules_imported(source: str) -> set[str]:
    """The test modules (``test_*``) that a Python source imports from, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.rpartition(".")[2].startswith("test_")}
    return found


def test_no_test_module_imports_another_test_module() -> None:
    # Shared helpers live in fixtures (conftest.py) or in plain modules beside the tests.
    imports = {
        (path.relative_to(ROOT).as_posix(), module)
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for module in _test_modules_imported(path.read_text(encoding="utf-8"))
    }
    assert sorted(imports) == [], "move the shared helpers into a fixture or a module"


def test_the_check_sees_an_import_from_another_test_module() -> None:
    source = (
        "from tests.web.test_pages import sign_in\n"
        "from tests.web import test_pages\n"
        "import tests.web.test_pages\n"
        "def f():\n    from tests.services.test_crm_import import export\n"
        "from tests.web.clients import sign_in\n"
        "from tests.factories import make_link\n"
    )
    assert _test_modules_imported(source) == {
        "tests.web.test_pages",
        "tests.services.test_crm_import",
    }
