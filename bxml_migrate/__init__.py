"""The ``bxml-migrate`` command line: a thin shell over ``translators`` and ``adapter``."""
