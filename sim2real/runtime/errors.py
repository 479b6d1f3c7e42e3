"""Errors of the deployment runtime: each carries one line naming the culprit and the fix."""

from __future__ import annotations


class RefusalError(Exception):
    """The runtime refuses to run: a policy, contract or robot description does not fit (one-line message)."""


class ContractError(RefusalError):
    """A policy contract is missing, malformed, or does not match the robot or task it is run on."""


class RobotSpecError(RefusalError):
    """A robot YAML cannot be read as a joint table."""


class MissingInputError(RefusalError):
    """The robot state lacks a joint or sensor reading the policy needs."""
