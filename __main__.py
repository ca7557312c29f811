"""Entry point for `pulumi up -s <env>`: the language host runs this file from the project root."""

from stacks.program import main

main()
