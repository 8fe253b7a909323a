import sys

from spatial_r1_eval.commands.cli import main

sys.exit(main())
