"""Building blocks several recipes share (cells, samplers, corpora). Not a recipe."""
