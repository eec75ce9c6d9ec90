"""The ``almanac`` command line: one group, one module per command.

Bad input exits with code 2 and one line naming the problem and the fix; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from almanac.errors import AlmanacError

# (module, command) pairs; a command is listed here once it works.
COMMANDS = (
    ("almanac.cli.bench", "bench"),
    ("almanac.cli.train", "train"),
    ("almanac.cli.predict", "predict"),
    ("almanac.cli.export", "export"),
    ("almanac.cli.check", "check"),
    ("almanac.cli.advise", "advise"),
    ("almanac.cli.explain", "explain"),
    ("almanac.cli.compare", "compare"),
    ("almanac.cli.docs", "docs"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="nn-almanac")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """almanac: activation functions, losses and validation metrics for PyTorch."""
    ctx.obj = {"debug": debug}


for _module, _name in COMMANDS:
    cli.add_command(getattr(importlib.import_module(_module), _name))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``almanac`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="almanac", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (AlmanacError, FileNotFoundError) as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
