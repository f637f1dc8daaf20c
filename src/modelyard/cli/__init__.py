"""The ``modelyard`` command line: a thin face over the SDK (Typer + Rich).

Every command parses its options, calls one SDK function and renders the result.
Errors from the SDK become one line on stderr and the error's exit code.
"""

from modelyard.cli._app import app, main

__all__ = ["app", "main"]
