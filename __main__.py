"""Entry point for `pulumi up -s <env>`: the language host runs this file from the project root."""

from triplane.stacks.program import main

main()
