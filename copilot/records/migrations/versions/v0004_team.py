"""What a team shares besides the records: the pack catalog, the audit log and its signed heads, action claims.

Revision 0004, after 0003. New tables only: nothing existing is read or changed. They are created from their
definitions as of this revision (``retrieval/catalog_tables.py``, ``copilot/records/team_tables.py``); a later
change to those needs a revision of its own, which the migrations-versus-models test asks for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from copilot.records.team_tables import register

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _tables() -> list[sa.Table]:
    metadata = sa.MetaData()
    register(metadata)
    return list(metadata.sorted_tables)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _tables():
        table.create(bind, checkfirst=True)  # a team's catalog may have made its own first (retrieval/catalog.py)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_tables()):
        table.drop(bind)
