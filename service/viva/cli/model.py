"""`viva model build`: make the fast (quantized) form of the embedding model ahead of time."""

from __future__ import annotations

from typing import Annotated

import typer

from viva.cli.main import app, handle_errors
from viva.errors import ConfigError

model_app = typer.Typer(help="The embedding model: build quantized backends.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("build")
@handle_errors
def model_build(
    backend: Annotated[str, typer.Option(help="onnx or openvino (both int8).")] = "onnx",
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if cached.")] = False,
) -> None:
    """Export and quantize VIVA_EMBEDDING_MODEL from its local weights (no download) into
    VIVA_DATA_DIR/models; the server otherwise does this on first use."""
    from viva.adapters.embedder import build_onnx, build_openvino
    from viva.settings import get_settings

    builders = {"onnx": build_onnx, "openvino": build_openvino}
    if backend not in builders:
        raise ConfigError(
            f"--backend: only {' and '.join(builders)} are built ahead of time, not {backend!r}"
        )
    s = get_settings()
    folder = builders[backend](s.embedding_model, s.models_dir, force=force)
    typer.echo(f"built {folder}")
