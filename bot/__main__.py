"""`python -m bot` is the same as the `memeloop` console script."""
from bot.cli import main

main()
