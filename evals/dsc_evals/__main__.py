import sys

from dsc_evals.cli import main

sys.exit(main())
