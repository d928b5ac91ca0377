"""AWS emulator for ecs-anywhere: moto's server behind a front app that adds
a call ledger, fault injection, an emulator clock and the SSM hybrid-activation
and ECS external-instance operations moto lacks."""

__all__ = ["__version__"]
__version__ = "0.1.0"
