"""The ``knoten`` click group: lazy command loading and the one place where errors become messages.

Every command prints a single line on stderr and exits non-zero when it fails (exit code 2 for
usage errors and bad settings, 1 for everything else); ``--debug`` shows the traceback as well.
Domain errors of the packages (``MobilityError``, ``ChargingError``, ``SignalsError``) travel up
unchanged from the commands and are turned into ``knoten: error: ...`` by :func:`error_exit_code`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from api.errors import CliError

if TYPE_CHECKING:
    from api.settings import Settings


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("knoten")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:  # noqa: FBT001  click callback
    """``--version``: looked up only when asked (reading package metadata costs start time)."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"knoten, version {_package_version()}")
    ctx.exit()


class KnotenGroup(click.Group):
    """A click group that turns every failure into one line on stderr.

    Capability commands are imported only when they run (or when help lists them), so that
    ``knoten route-batch`` does not pay for loading OR-Tools or SUMO and the reverse.
    """

    lazy_commands: ClassVar[dict[str, tuple[str, str]]] = {
        "demo": (
            "api.cli.demo:demo",
            "The fictional demo city Knotenstadt (streets, timetable, sharing, chargers, SUMO).",
        ),
        "build": (
            "api.cli.mobility:build",
            "Build timetables of given dates into the cache, or (with --osm --out) a door-to-door "
            "graph folder.",
        ),
        "route": (
            "api.cli.mobility:route",
            "Print the journeys between two stops, or (with --graph) door-to-door itineraries.",
        ),
        "route-batch": (
            "api.cli.mobility:route_batch",
            "Earliest arrival and fewest rides for every query of a CSV file "
            "(stop to stop, or door to door).",
        ),
        "signals": (
            "api.cli.signals:signals",
            "Traffic-signal control in SUMO: evaluate, compare, sweep, optimise.",
        ),
        "charging": (
            "api.cli.charging:charging",
            "Smart charging: optimal plans, online policies, OCPP/OCPI profiles.",
        ),
        "feeds": (
            "api.cli.feeds:feeds",
            "Live feeds: check a source, show the state of the configured feeds.",
        ),
    }
    """Command name -> ("module:attribute", help line); the help line lets ``knoten --help`` list the
    commands without importing them (a test checks it against each command's own docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and lazily loaded commands, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module on first use."""
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        target = lazy[0]
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands; lazy ones by their help line, without importing them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            if name in self.lazy_commands and name not in self.commands:
                stub = click.Command(name, help=self.lazy_commands[name][1])
                rows.append((name, stub.get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; every failure ends as one line on stderr and an exit code."""
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
        except KeyboardInterrupt:
            click.echo("knoten: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if debug:
                raise
            code = error_exit_code(exc)
            if code is None:  # last line of defence: no traceback without --debug
                click.echo(f"knoten: error: {type(exc).__name__}: {exc}", err=True)
                sys.exit(1)
            click.echo(f"knoten: error: {exc}", err=True)
            sys.exit(code)


# Error classes by module, with their exit code. The modules are looked up only in
# ``sys.modules``: an error of a module can only have been raised once that module is loaded, so
# the mapping never imports a package (``knoten --help`` stays fast).
_DOMAIN_ERRORS: tuple[tuple[str, str, int], ...] = (
    ("api.settings", "SettingsError", 2),
    ("mobility.errors", "MobilityError", 1),
    ("charging.errors", "ChargingError", 1),
    ("signals.errors", "SignalsError", 1),
)


def error_exit_code(exc: BaseException) -> int | None:
    """The exit code for a failure that is reported as one line, or None for an unexpected error.

    ``CliError`` carries its own code, bad settings exit with 2 (usage), the packages' domain
    errors with 1; their message is meant for the user as it is.
    """
    if isinstance(exc, CliError):
        return exc.exit_code
    for module_name, class_name, code in _DOMAIN_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return code
    return None


@click.group(cls=KnotenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
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
def main(ctx: click.Context, *, config_file: Path | None, data_dir: Path | None, debug: bool) -> None:
    """Knoten: multimodal mobility, adaptive traffic signals and smart charging."""
    from api.settings import load_settings

    ctx.obj = load_settings(config_file, data_dir=data_dir)


@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file for this server (instead of the one given to knoten).",
)
@click.option("--host", default=None, help="Bind address (default from settings: 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default from settings: 8000)."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; 2 or more run gunicorn (the live feeds are polled in one extra process).",
)
@click.pass_context
def serve(
    ctx: click.Context, config_file: Path | None, host: str | None, port: int | None, workers: int
) -> None:
    """Serve the HTTP API and the station display (and the demo city's feeds under /demo when built)."""
    from api.display.views import known_hubs
    from api.server import check_port_free

    settings: Settings = ctx.obj
    if config_file is not None:
        from api.settings import load_settings

        parent = ctx.parent.params if ctx.parent is not None else {}
        settings = load_settings(config_file, data_dir=parent.get("data_dir"))
    settings = settings.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v})
    check_port_free(settings.host, settings.port)
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Knoten API        {base}/api/v1/")
    click.echo(f"Health            {base}/health")
    click.echo(f"OpenAPI           {base}/api/v1/openapi.json  (docs page: {base}/api/v1/swagger)")
    hubs = known_hubs(settings)
    hub = settings.hub_id if settings.hub_id in hubs or not hubs else next(iter(hubs))
    click.echo(f"Station display   {base}/display/{hub}" + ("" if hubs else "  (no hub configured)"))
    if (settings.data_dir / "demo" / "manifest.json").is_file():
        click.echo(f"Demo city feeds   {base}/demo/  (fictional)")
    if workers >= 2:
        _serve_gunicorn(settings, workers)
    else:
        _serve_waitress(settings)


def _serve_gunicorn(settings: Settings, workers: int) -> None:
    from api.live import feed_configs
    from api.server import GunicornServer

    n_feeds = "the configured" if feed_configs(settings) else "the demo city's"
    click.echo(f"Workers           {workers} processes (gunicorn); {n_feeds} live feeds polled in one more")
    click.echo("Press Ctrl+C to stop.")
    GunicornServer(settings, workers=workers).run()


def _serve_waitress(settings: Settings) -> None:
    from waitress import serve as waitress_serve

    from api.app import create_app
    from api.live import start_live
    from api.server import preload_graph

    base = f"http://{settings.host}:{settings.port}"
    live = start_live(settings, base)  # last known state at once, then polled (demo feeds by default)
    try:
        app = create_app(settings, live=live.state)
        preload_graph(app)
        n_feeds = len(live.poller.feeds) if live.poller is not None else 0
        click.echo(f"Live feeds        {n_feeds} polled (knoten feeds status)")
        click.echo("Press Ctrl+C to stop.")
        waitress_serve(
            app,
            host=settings.host,
            port=settings.port,
            threads=8,
            # waitress buffers a body before the app sees it: up to this much, the app answers a body
            # above limits.max_body_bytes with its 413 problem+json; beyond it, waitress's own 413
            max_request_body_size=max(64 * 2**20, 16 * settings.limits.max_body_bytes),
            _quiet=True,
        )
    except OSError as exc:
        raise CliError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    finally:
        live.stop()
