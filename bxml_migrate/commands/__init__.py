"""One module per subcommand; see ``bxml_migrate.cli``."""
