from bxml_migrate.cli import main

raise SystemExit(main())
