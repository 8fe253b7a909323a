import sys

from spatial_r1_eval.cli import main

sys.exit(main())
