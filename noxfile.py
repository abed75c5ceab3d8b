"""Nox sessions mirroring ./dev: tests, lint, typecheck, docs, demo, bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "scripts", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "scripts", "noxfile.py")
    session.run("lint-imports")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mkdocs", "build", "--strict")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mutuelle", "demo")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    for name in session.posargs or ["identifiers"]:
        session.run("python", f"benchmarks/{name}.py")
