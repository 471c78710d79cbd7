"""operations: 一网统管 cases, classification, timers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant
# when the application's tables change later.
AWARE = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the cases, their timeline, reports, joint-case tasks and the class table."""
    op.create_table(
        "ops_cases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("class_code", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("county", sa.String(6), nullable=False),
        sa.Column("street", sa.String(9), nullable=False),
        sa.Column("community", sa.String(12), nullable=False),
        sa.Column("grid", sa.String(15), nullable=False),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resume_status", sa.String(16), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("reporter", JSON_DOC, nullable=False),
        sa.Column("department_id", sa.String(64), nullable=True),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("reported_at", AWARE, nullable=False),
        sa.Column("updated_at", AWARE, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_due_at", AWARE, nullable=True),
        sa.Column("dispatch_due_at", AWARE, nullable=True),
        sa.Column("filed_at", AWARE, nullable=True),
        sa.Column("dispatched_at", AWARE, nullable=True),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("limit_unit", sa.String(16), nullable=True),
        sa.Column("warn_at", AWARE, nullable=True),
        sa.Column("due_at", AWARE, nullable=True),
        sa.Column("escalate_at", AWARE, nullable=True),
        sa.Column("clock_running", sa.Boolean(), nullable=False),
        sa.Column("paused_at", AWARE, nullable=True),
        sa.Column("alarm", sa.String(16), nullable=True),
        sa.Column("alarm_at", AWARE, nullable=True),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("supervision", sa.Integer(), nullable=False),
        sa.Column("handled_at", AWARE, nullable=True),
        sa.Column("handled_on_time", sa.Boolean(), nullable=True),
        sa.Column("handling_seconds", sa.Float(), nullable=True),
        sa.Column("closed_at", AWARE, nullable=True),
        sa.Column("followed_up", sa.Boolean(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_cases")),
    )
    op.create_index("ix_ops_cases_alarm_at", "ops_cases", ["alarm_at"])
    op.create_index("ix_ops_cases_status_reported", "ops_cases", ["status", "reported_at"])
    op.create_index("ix_ops_cases_department_status", "ops_cases", ["department_id", "status"])
    op.create_index("ix_ops_cases_county_status", "ops_cases", ["county", "status"])
    op.create_index("ix_ops_cases_class_reported", "ops_cases", ["class_code", "reported_at"])
    op.create_table(
        "ops_case_steps",
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("department_id", sa.String(64), nullable=True),
        sa.Column("at", AWARE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attachments", JSON_DOC, nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_ops_case_steps")),
    )
    op.create_table(
        "ops_reports",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("received_at", AWARE, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reporter", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_reports")),
        sa.UniqueConstraint("source", "external_id", name="uq_ops_reports_source_external"),
    )
    op.create_index("ix_ops_reports_case_id", "ops_reports", ["case_id"])
    op.create_index("ix_ops_reports_source_received", "ops_reports", ["source", "received_at"])
    op.create_table(
        "ops_tasks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("department_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("done_at", AWARE, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_tasks")),
    )
    op.create_index("ix_ops_tasks_case_id", "ops_tasks", ["case_id"])
    op.create_table(
        "ops_classes",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", AWARE, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ops_classes")),
    )
    op.create_table(
        "ops_class_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("doc", JSON_DOC, nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_class_audit")),
    )
    op.create_index("ix_ops_class_audit_code", "ops_class_audit", ["code"])


def downgrade() -> None:
    """Drop the operations tables."""
    for table in (
        "ops_class_audit", "ops_classes", "ops_tasks", "ops_reports", "ops_case_steps", "ops_cases"
    ):
        op.drop_table(table)
