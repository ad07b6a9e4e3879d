"""Subcommand modules; each is registered in digitpad.cli.COMMANDS."""
