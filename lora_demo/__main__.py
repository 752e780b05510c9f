"""python -m lora_demo: the command line (see lora_demo/cli.py)."""
from .cli import main

raise SystemExit(main())
