"""The recipes: one folder per recipe id (see catalog.yaml); `common/` holds shared building blocks."""
