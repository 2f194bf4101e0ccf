"""``python -m api.cli``: the same as the ``knoten`` console script."""

from api.cli.main import main

main()
