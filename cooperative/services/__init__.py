"""Workflows that change state. Services flush; views and commands commit."""
