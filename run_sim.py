"""Run edgestream from a checkout: ``python run_sim.py`` runs scenarios/default.yaml.

The same entry point is installed as the ``edgestream`` console script.
"""

import sys

from sim.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
