"""The `fangpin` command (outputs.md "Command line"). Flags are a contract; see README."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="防贫 nightly screening pipeline")


@app.command()
def run(
    inbox: Annotated[Path, typer.Option(help="Inbox directory (roster/, civil_affairs/, …)")],
    config: Annotated[Path | None, typer.Option(help="County configuration TOML")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Reference date YYYY-MM-DD (default today)")] = None,
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
) -> None:
    """Run the whole nightly flow once, in-process."""
    from pipelines.flow import nightly

    nightly(inbox=str(inbox), config=str(config) if config else None, as_of=as_of, out=str(out))


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Where to write the inbox")],
    households: Annotated[int, typer.Option(help="Roster households in all")] = 2000,
    counties: Annotated[int, typer.Option(help="Number of counties")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    as_of: Annotated[str, typer.Option("--as-of", help="Reference date the data is made for")] = "2026-11-24",
) -> None:
    """Write a fictional county (or province) inbox with every quirk of inputs.md and planted cases."""
    from pipelines.sample import generate as gen

    gen(out=out, households=households, counties=counties, seed=seed, as_of=as_of)


if __name__ == "__main__":
    app()
