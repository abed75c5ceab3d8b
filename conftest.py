"""Root pytest configuration: doctests in the Markdown documentation, and paths not to import."""

from __future__ import annotations

import doctest
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

collect_ignore_glob = ["src/mutuelle_adapters/sql/migrations/*", "noxfile.py", "benchmarks/*", "scripts/*"]

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
_PYTHON = {"", "pycon", "python", "py"}


class MarkdownDoctestFile(pytest.File):
    """A Markdown page of ``docs/``: its fenced ``>>>`` examples run as one doctest, in order."""

    def collect(self) -> Iterator[pytest.Item]:
        text = self.path.read_text(encoding="utf-8")
        blocks = [m.group(2) for m in _FENCE.finditer(text) if m.group(1) in _PYTHON and ">>>" in m.group(2)]
        if not blocks:
            return
        source = "\n".join(blocks)
        parser = doctest.DocTestParser()
        test = parser.get_doctest(source, {}, self.path.stem, str(self.path), 0)
        yield MarkdownDoctestItem.from_parent(self, name=self.path.name, dtest=test)


class MarkdownDoctestItem(pytest.Item):
    """One Markdown page's examples."""

    def __init__(self, *, dtest: doctest.DocTest, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.dtest = dtest

    def runtest(self) -> None:
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        out: list[str] = []
        runner.run(self.dtest, out=out.append)
        if runner.failures:
            raise AssertionError("".join(out))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"[doc] {self.name}"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".md" and ("docs" in file_path.parts or file_path.name == "README.md"):
        return MarkdownDoctestFile.from_parent(parent, path=file_path)
    return None
