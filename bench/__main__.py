"""`python -m bench [--quick] [--out PATH]`: the performance suite (bench/suite.py)."""

import sys

from bench.suite import main

sys.exit(main())
