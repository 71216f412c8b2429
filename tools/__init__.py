"""The `recipe` CLI and the shared machinery it calls (catalog, runner, figures)."""
