"""SQL tables of the operations capability (kept in step with ``migrations/versions/0004``).

A case row carries its precomputed deadlines and its next alarm (``alarm``, ``alarm_at``):
a timer scan is one indexed range read of ``alarm_at <= now``, never calendar arithmetic.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

AWARE = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

cases = sa.Table(
    "ops_cases",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("class_code", sa.String(16), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("county", sa.String(6), nullable=False),
    sa.Column("street", sa.String(9), nullable=False),
    sa.Column("community", sa.String(12), nullable=False),
    sa.Column("grid", sa.String(15), nullable=False),
    sa.Column("address", sa.String(300), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("resume_status", sa.String(16), nullable=True),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("reporter", JSON_DOC, nullable=False),
    sa.Column("department_id", sa.String(64), nullable=True),
    sa.Column("worker_id", sa.String(64), nullable=True),
    sa.Column("reported_at", AWARE, nullable=False),
    sa.Column("updated_at", AWARE, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("file_due_at", AWARE, nullable=True),
    sa.Column("dispatch_due_at", AWARE, nullable=True),
    sa.Column("filed_at", AWARE, nullable=True),
    sa.Column("dispatched_at", AWARE, nullable=True),
    sa.Column("limit_value", sa.Float, nullable=True),
    sa.Column("limit_unit", sa.String(16), nullable=True),
    sa.Column("warn_at", AWARE, nullable=True),
    sa.Column("due_at", AWARE, nullable=True),
    sa.Column("escalate_at", AWARE, nullable=True),
    sa.Column("clock_running", sa.Boolean, nullable=False),
    sa.Column("paused_at", AWARE, nullable=True),
    sa.Column("alarm", sa.String(16), nullable=True),
    sa.Column("alarm_at", AWARE, nullable=True),
    sa.Column("warned", sa.Boolean, nullable=False),
    sa.Column("supervision", sa.Integer, nullable=False),
    sa.Column("handled_at", AWARE, nullable=True),
    sa.Column("handled_on_time", sa.Boolean, nullable=True),
    sa.Column("handling_seconds", sa.Float, nullable=True),
    sa.Column("closed_at", AWARE, nullable=True),
    sa.Column("followed_up", sa.Boolean, nullable=False),
    sa.Column("satisfaction", sa.Integer, nullable=True),
    sa.Column("reopen_count", sa.Integer, nullable=False),
    sa.Column("return_count", sa.Integer, nullable=False),
    sa.Column("report_count", sa.Integer, nullable=False),
    sa.Index("ix_ops_cases_alarm_at", "alarm_at"),
    sa.Index("ix_ops_cases_status_reported", "status", "reported_at"),
    sa.Index("ix_ops_cases_department_status", "department_id", "status"),
    sa.Index("ix_ops_cases_county_status", "county", "status"),
    sa.Index("ix_ops_cases_class_reported", "class_code", "reported_at"),
)

steps = sa.Table(
    "ops_case_steps",
    metadata,
    sa.Column("case_id", sa.String(32), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("department_id", sa.String(64), nullable=True),
    sa.Column("at", AWARE, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("attachments", JSON_DOC, nullable=False),
    sa.Column("data", JSON_DOC, nullable=False),
    sa.PrimaryKeyConstraint("case_id", "seq"),
)

reports = sa.Table(
    "ops_reports",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(32), nullable=False, index=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("received_at", AWARE, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("reporter", JSON_DOC, nullable=False),
    sa.UniqueConstraint("source", "external_id", name="uq_ops_reports_source_external"),
    # Open311 lists its own reports by time (GET requests): one range scan at 1M reports.
    sa.Index("ix_ops_reports_source_received", "source", "received_at"),
)

tasks = sa.Table(
    "ops_tasks",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(32), nullable=False, index=True),
    sa.Column("department_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", AWARE, nullable=False),
    sa.Column("done_at", AWARE, nullable=True),
    sa.Column("note", sa.Text, nullable=False),
)

classes = sa.Table(
    "ops_classes",
    metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("doc", JSON_DOC, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", AWARE, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

class_audit = sa.Table(
    "ops_class_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("doc", JSON_DOC, nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", AWARE, nullable=False),
)
