import sys

from groupsms.simulator.cli import main

sys.exit(main())
