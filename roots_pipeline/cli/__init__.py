"""The `roots` command: `main` (entry point, exit codes) and one module per subcommand."""
