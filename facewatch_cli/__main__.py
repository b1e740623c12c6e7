from facewatch_cli.main import main

raise SystemExit(main())
