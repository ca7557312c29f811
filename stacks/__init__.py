"""Per-environment stacks: the stack settings files (`Pulumi.<env>.yaml`) and the code that turns an
environment spec into components (`compose`)."""
