"""docs/RULES.md stays true: every rule id the code and the tests use is catalogued, every catalogued
rule has tests named after it, and everything the catalog points at exists."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "docs" / "RULES.md"
PREFIXES = "REMS"  # product rules (R, E), messaging promises (M), security rules (S)
RULE_ID = re.compile(rf"\b([{PREFIXES}][0-9]{{1,2}})\b")
ROW = re.compile(rf"^\|\s*([{PREFIXES}][0-9]{{1,2}})\s*\|")
# A test about rules starts with their ids: test_r4_e3_e5_send_with_enter...
TEST_IDS = re.compile(rf"^test_((?:[{PREFIXES.lower()}][0-9]{{1,2}}_)+)")
ENFORCED = re.compile(r"`(groupsms/[\w/]+\.py):([\w.]+)`")
TEST_FILE = re.compile(r"`(tests/[\w/]+\.py)`")


def rows(text: str) -> dict[str, list[str]]:
    """Rule id -> the row's cells (name, what it says, enforced in, proven by)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            assert match.group(1) not in out, f"{match.group(1)} is catalogued twice"
            out[match.group(1)] = [cell.strip() for cell in line.strip().strip("|").split("|")][1:]
    return out


@lru_cache(maxsize=1)
def catalog() -> dict[str, list[str]]:
    return rows(CATALOG.read_text(encoding="utf-8"))


def _python_files(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py") if ".web" not in p.parts)


def ids_in_test_name(name: str) -> set[str]:
    match = TEST_IDS.match(name)
    return {i.upper() for i in match.group(1).strip("_").split("_")} if match else set()


@lru_cache(maxsize=1)
def named_tests() -> dict[str, list[str]]:
    """Rule id -> "path::test" of every test function named after it."""
    out: dict[str, list[str]] = {}
    for path in _python_files("tests"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for rule in ids_in_test_name(node.name):
                    out.setdefault(rule, []).append(f"{path.relative_to(ROOT)}::{node.name}")
    return out


def ids_in_code() -> dict[str, str]:
    """Rule id -> one place it is named: the app's code and comments, and the repository's notes."""
    out: dict[str, str] = {}
    notes = sorted(ROOT.glob("*.md"))
    for path in _python_files("groupsms", "bench") + notes:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for rule in RULE_ID.findall(line):
                out.setdefault(rule, f"{path.relative_to(ROOT)}:{number}")
    return out


def _resolve(module_path: str, dotted: str) -> bool:
    """`groupsms/x/y.py` defines `dotted` (a function, a class, or a class's method), read from
    the source so nothing is imported."""
    path = ROOT / module_path
    if not path.is_file():
        return False
    scope: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    for name in dotted.split("."):
        found = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and n.name == name), None)
        if found is None:
            return False
        scope = found.body if isinstance(found, ast.ClassDef) else []
    return True


# -- the checks, as functions of the catalog text so the test can show each one failing ----------

def missing_from_catalog(catalogued: dict[str, list[str]]) -> list[str]:
    used = dict(ids_in_code())
    for rule, tests in named_tests().items():
        used.setdefault(rule, tests[0])
    return sorted(f"{rule} (used at {where})" for rule, where in used.items() if rule not in catalogued)


def untested(catalogued: dict[str, list[str]]) -> list[str]:
    named = named_tests()
    return sorted(rule for rule in catalogued if rule not in named)


def dangling(catalogued: dict[str, list[str]]) -> list[str]:
    problems = []
    for rule, cells in catalogued.items():
        assert len(cells) == 4, f"{rule}: a row has 5 cells (rule, name, what it says, enforced in, proven by)"
        name, says, enforced, proven = cells
        assert name and says, f"{rule}: name and what it says must not be empty"
        pointers = ENFORCED.findall(enforced)
        if not pointers:
            problems.append(f"{rule}: names no `groupsms/...py:function` where it is enforced")
        problems += [f"{rule}: {path}:{fn} does not exist" for path, fn in pointers if not _resolve(path, fn)]
        files = TEST_FILE.findall(proven)
        if not files:
            problems.append(f"{rule}: names no test file")
        problems += [f"{rule}: {f} does not exist" for f in files if not (ROOT / f).is_file()]
    return problems


def test_every_rule_id_used_in_code_or_test_names_is_catalogued():
    missing = missing_from_catalog(catalog())
    assert not missing, "not in docs/RULES.md: " + "; ".join(missing)


def test_every_catalogued_rule_has_tests_named_after_it():
    rules = untested(catalog())
    assert not rules, "no test_<id>_... test for " + ", ".join(rules)


def test_everything_the_catalog_points_at_exists():
    problems = dangling(catalog())
    assert not problems, "docs/RULES.md points at what is not there: " + "; ".join(problems)


def test_the_catalog_holds_every_product_rule():
    expected = {f"R{n}" for n in range(1, 15)} | {f"E{n}" for n in range(1, 12)}
    assert expected <= set(catalog())


@pytest.mark.parametrize("rule", ["R7", "E6", "M5", "S3"])
def test_removing_a_row_fails_the_catalog_test(rule):
    """The checks above catch a lost row: its id is still used by the code or the tests."""
    text = CATALOG.read_text(encoding="utf-8")
    without = "\n".join(line for line in text.splitlines() if not ROW.match(line) or ROW.match(line).group(1) != rule)
    assert any(problem.startswith(f"{rule} ") for problem in missing_from_catalog(rows(without)))


def test_a_pointer_to_a_missing_function_or_test_file_is_caught():
    cells = list(catalog()["R1"])
    broken = {"R1": [cells[0], cells[1], "`groupsms/domain/groups.py:no_such_check`", "`tests/unit/test_nothing.py`"]}
    assert dangling(broken) == ["R1: groupsms/domain/groups.py:no_such_check does not exist",
                                "R1: tests/unit/test_nothing.py does not exist"]
    assert untested({"M99": cells}) == ["M99"]


def test_test_names_carry_their_rule_ids():
    assert ids_in_test_name("test_r4_e3_e5_send_with_enter") == {"R4", "E3", "E5"}
    assert ids_in_test_name("test_e164_numbers_are_normalised") == set()
    assert ids_in_test_name("test_required_fields_are_the_contracts") == set()


REFERENCES_OUTSIDE = re.compile(r"DESIGN(\.md)?\s*§|DESIGN\.md|help article|§\s*\d")


def test_no_file_cites_a_document_that_is_not_in_the_repository():
    """Comments, docs and messages point only at files the repository has."""
    offenders = []
    notes = sorted(ROOT.glob("*.md")) + sorted((ROOT / "docs").glob("*.md"))
    paths = _python_files("groupsms", "tests", "bench") + notes
    for path in paths:
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if REFERENCES_OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "cites a document the repository does not have:\n" + "\n".join(offenders)


def test_markdown_links_point_at_files_of_the_repository():
    broken = []
    for path in sorted(ROOT.glob("*.md")) + sorted((ROOT / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (path.parent / target).resolve().exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_readme_links_the_catalog():
    assert "](docs/RULES.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def layout_entries(readme: str) -> list[str]:
    """The paths the README's "Repository layout" block names (an indented entry is inside the
    unindented folder above it)."""
    block = readme.split("## Repository layout", 1)[1].split("```", 2)[1]
    out, parent = [], ""
    for line in block.splitlines():
        if not line.strip() or line.startswith(" " * 10):  # blank, or a description's continuation
            continue
        indented = line.startswith("  ")
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for name in (n.strip() for n in names.split(",")):
            path = f"{parent}{name}" if indented else name
            out.append(path)
            if not indented:
                parent = name if name.endswith("/") else ""
    return out


def test_the_readme_layout_names_only_what_the_tree_has():
    entries = layout_entries((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "groupsms/loadfile/" in entries and "groupsms/live.py" in entries
    missing = [e for e in entries if not any(ROOT.glob(e.rstrip("/")))]
    assert not missing, f"the README's layout names what is not in the tree: {missing}"
    packages = {f"{top}/{p.parent.name}/" for top in ("groupsms", "tests") for p in (ROOT / top).glob("*/__init__.py")}
    unlisted = sorted(packages - set(entries))
    assert not unlisted, f"packages the README's layout does not list: {unlisted}"
