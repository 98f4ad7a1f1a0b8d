from ovation.cli import main

raise SystemExit(main())
