"""The ``knoten`` command line.

Every command prints a single line on stderr and exits non-zero when it fails (exit code 2 for
usage errors, 1 for everything else); ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar

import click

from api.errors import CliError
from api.settings import Settings, SettingsError, load_settings


def _package_version() -> str:
    try:
        return version("knoten")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


class KnotenGroup(click.Group):
    """A click group that turns every failure into one line on stderr.

    Capability commands are imported only when they run (or when help lists them), so that
    ``knoten route-batch`` does not pay for loading OR-Tools or SUMO and the reverse.
    """

    lazy_commands: ClassVar[dict[str, str]] = {
        "demo": "api.cli_demo:demo",
        "build": "api.cli_mobility:build",
        "route": "api.cli_mobility:route",
        "route-batch": "api.cli_mobility:route_batch",
        "signals": "api.cli_signals:signals",
        "charging": "api.cli_charging:charging",
        "feeds": "api.cli_feeds:feeds",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and lazily loaded commands, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module on first use."""
        target = self.lazy_commands.get(cmd_name)
        if target is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        self.add_command(command, cmd_name)
        return command

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
    from api.live import start_live

    live = start_live(settings, base)  # last known state at once, then polled (demo feeds by default)
    app.extensions["knoten.live"] = live.state
    n_feeds = len(live.poller.feeds) if live.poller is not None else 0
    click.echo(f"Live feeds        {n_feeds} polled (knoten feeds status)")
    click.echo("Press Ctrl+C to stop.")
    try:
        waitress_serve(app, host=settings.host, port=settings.port, threads=8, _quiet=True)
    except OSError as exc:
        raise CliError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    finally:
        live.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
