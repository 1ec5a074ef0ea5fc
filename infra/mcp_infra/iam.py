"""Project-level role grants, one resource per role, each named after its role."""

from __future__ import annotations

from collections.abc import Iterable

from cdktn_provider_google.project_iam_member import ProjectIamMember
from constructs import Construct


def grant_project_roles(
    scope: Construct, prefix: str, *, project: str, roles: Iterable[str], member: str
) -> None:
    """Grant `member` each role on the project; the ids (`node-container.defaultNodeServiceAccount`)
    are the role's last part, so adding a role never renames the others' resources."""
    for role in roles:
        ProjectIamMember(
            scope,
            f"{prefix}-{role.rsplit('/', 1)[-1]}",
            project=project,
            role=role,
            member=member,
        )
