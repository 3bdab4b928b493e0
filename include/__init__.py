"""Millwright's own library: unified model, config, mapping, store, pipeline and API."""
