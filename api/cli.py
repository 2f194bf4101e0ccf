"""The ``knoten`` command line.

Every command prints a single line on stderr and exits non-zero when it fails (exit code 2 for
usage errors, 1 for everything else); ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from api.errors import CliError
from api.settings import Settings, SettingsError, load_settings


def _package_version() -> str:
    try:
        return version("knoten")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


class KnotenGroup(click.Group):
    """A click group that turns every failure into one line on stderr."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        debug = "--debug" in (args[0] if args and args[0] is not None else sys.argv[1:])
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            if debug:
                raise
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message = f"{message} (see '{exc.ctx.command_path} --help')"
            click.echo(f"knoten: error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("knoten: aborted", err=True)
            sys.exit(130)
        except CliError as exc:
            if debug:
                raise
            click.echo(f"knoten: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except SettingsError as exc:
            if debug:
                raise
            click.echo(f"knoten: error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("knoten: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # last line of defence: no traceback without --debug
            if debug:
                raise
            click.echo(f"knoten: error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(1)


pass_settings = click.make_pass_decorator(Settings)


@click.group(cls=KnotenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_package_version(), "--version", prog_name="knoten")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file (default: ./knoten.toml if present; env KNOTEN_CONFIG).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (env KNOTEN_DATA_DIR; default ./data).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, data_dir: Path | None, debug: bool) -> None:
    """Knoten: multimodal mobility, adaptive traffic signals and smart charging."""
    ctx.obj = load_settings(config_file, data_dir=data_dir)


@main.command()
@click.option("--host", default=None, help="Bind address (default from settings: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default from settings: 8000).")
@pass_settings
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the HTTP API (and the demo city's feeds under /demo when it is built)."""
    from waitress import serve as waitress_serve

    from api.app import create_app

    settings = settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v})
    app = create_app(settings)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Knoten API        {base}/api/v1/")
    click.echo(f"Health            {base}/health")
    click.echo(f"OpenAPI           {base}/api/v1/openapi.json")
    if (settings.data_dir / "demo" / "manifest.json").is_file():
        click.echo(f"Demo city feeds   {base}/demo/  (fictional)")
    click.echo("Press Ctrl+C to stop.")
    try:
        waitress_serve(app, host=settings.host, port=settings.port, threads=8, _quiet=True)
    except OSError as exc:
        raise CliError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc


def _register_command_groups() -> None:
    """Attach the command groups of every capability."""
    from api.cli_charging import charging
    from api.cli_demo import demo
    from api.cli_mobility import register_mobility_commands
    from api.cli_signals import signals

    main.add_command(demo)
    register_mobility_commands(main)
    main.add_command(signals)
    main.add_command(charging)


_register_command_groups()


if __name__ == "__main__":  # pragma: no cover
    main()
