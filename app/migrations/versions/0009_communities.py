"""Communities: every board row belongs to one, staff work in them through memberships,
and on PostgreSQL row-level security keeps each community's rows to itself

Revision ID: 0009_communities
Revises: 0008_sign_in_throttle
Create Date: 2026-12-06 04:00:00.000000

An existing database becomes community 1 (slug "main", named after SITE_NAME), with every
row; staff keep their roles as memberships of it, and admins become district admins.
"""
from datetime import datetime, UTC

from alembic import op
import sqlalchemy as sa


revision = '0009_communities'
down_revision = '0008_sign_in_throttle'
branch_labels = None
depends_on = None

SCOPED_ROLE = "linli_scoped"
DISTRICT_ROLE = "linli_district"

# Every table whose rows belong to a community, with what changes about it: a primary key
# that now starts with the community, unique rules now per community, and indexes that now
# lead with the community (a list page reads one community's rows).
TABLES = {
    "audit_entries": {"index": {
        "ix_audit_entries_actor": ["actor_kind", "actor_id", "id"],
        "ix_audit_entries_area": ["area", "id"],
        "ix_audit_entries_at": ["at"]}},
    "board_versions": {"pk": ["board"]},
    "class_courses": {"index": {"ix_class_courses_listed": ["term_ends", "status", "category"]}},
    "class_sessions": {"index": {"ix_class_sessions_starts": ["starts_at"]}},
    "class_signups": {"unique": {"uq_class_signups_code": ["code"]}},
    "class_attendance": {},
    "class_ratings": {},
    "class_surveys": {"new_index": {"ix_class_surveys_community": ["state"]}},
    "class_survey_options": {},
    "directory_experts": {"index": {"ix_directory_experts_listed": ["state", "sort_key"]}},
    "directory_skills": {"unique": {"uq_directory_skills_name": ["name"]}},
    "directory_expert_weeks": {},
    "directory_requests": {
        "unique": {"uq_directory_requests_code": ["code"]},
        "index": {"ix_directory_requests_state": ["state", "id"]}},
    "directory_search_keys": {"index": {"ix_directory_search_keys_order": ["key", "sort_key", "expert_id"]}},
    "friends_cards": {
        "unique": {"uq_friends_cards_number": ["number"], "uq_friends_cards_code": ["code"]},
        "index": {"ix_friends_cards_public": ["state", "expires_at", "number"]}},
    "friends_interests": {"index": {"ix_friends_interests_state": ["state", "id"]}},
    "friends_tallies": {"pk": ["name"]},
    "kiosks": {"new_index": {"ix_kiosks_community": ["id"]}},
    "kiosk_handoffs": {},
    "notices": {"index": {"ix_notices_window": ["starts_at", "ends_at"]}},
    "rate_counters": {"pk": ["key", "window"]},
    "wall_grids": {"unique": {"uq_wall_grids_name": ["name"]}},
    "wall_kind_settings": {"pk": ["kind"]},
    "wall_watched_words": {"unique": {"uq_wall_watched_words_key": ["key"]}},
    "wall_posts": {
        "unique": {"uq_wall_posts_receipt_code": ["receipt_code"]},
        "index": {
            "ix_wall_posts_public": ["state", "reports_hidden", "pinned", "id"],
            "ix_wall_posts_public_kind": ["kind", "state", "reports_hidden", "pinned", "id"],
            "ix_wall_posts_duplicate": ["text_key", "created_at"],
            "ix_wall_posts_problems": ["kind", "problem_status", "created_at"]}},
    "wall_reports": {},
}
# Tables this migration makes, with their community from the start.
NEW_TABLES = ("community_code_aliases",)
# Holds only the ids of two scoped rows: row security follows the expert's.
LINK_TABLES = {"directory_expert_skills": "EXISTS (SELECT 1 FROM directory_experts e WHERE e.id = expert_id)"}


def _site_name() -> str:
    try:
        from flask import current_app
        return str(current_app.config.get("SITE_NAME") or "")[:60] or "社区"
    except RuntimeError:  # outside the app (plain alembic): no configured name
        return "社区"


def upgrade():
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('settings', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('slug', name=op.f('uq_communities_slug'))
    )
    op.create_table('community_slugs',
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_community_slugs_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_community_slugs'))
    )
    op.create_table('district_settings',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_district_settings'))
    )
    communities = sa.table('communities', sa.column('id', sa.Integer), sa.column('slug', sa.String),
                           sa.column('name', sa.String), sa.column('name_en', sa.String),
                           sa.column('settings', sa.Text), sa.column('created_at', sa.DateTime))
    op.bulk_insert(communities, [{"id": 1, "slug": "main", "name": _site_name(), "name_en": "",
                                  "settings": "{}", "created_at": datetime.now(UTC).replace(tzinfo=None)}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('communities_id_seq', 1)")

    op.create_table('community_code_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('former_slug', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('old_code', sa.String(length=8), nullable=False),
    sa.Column('new_code', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_community_code_aliases_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_code_aliases')),
    sa.UniqueConstraint('community_id', 'former_slug', 'kind', 'old_code', name='uq_community_code_aliases_code')
    )
    op.create_table('staff_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('roles', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_staff_memberships_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['staff_members.id'], name=op.f('fk_staff_memberships_member_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_memberships')),
    sa.UniqueConstraint('member_id', 'community_id', name='uq_staff_memberships_member')
    )
    with op.batch_alter_table('staff_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_memberships_community_id'), ['community_id'], unique=False)
    op.execute("INSERT INTO staff_memberships (member_id, community_id, roles, created_at)"
               " SELECT id, 1, roles, created_at FROM staff_members WHERE roles <> ''")
    op.execute("UPDATE staff_members SET roles = CASE WHEN ' ' || roles || ' ' LIKE '% admin %'"
               " THEN 'district-admin' ELSE '' END")
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('community_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_sessions_community_id_communities'), 'communities', ['community_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE staff_sessions SET community_id = 1")

    for table, changes in TABLES.items():
        # Every row that exists belongs to community 1; the default goes once they do.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('community_id', sa.Integer(), nullable=False, server_default='1'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('community_id', server_default=None)
            batch_op.create_foreign_key(f'fk_{table}_community_id_communities', 'communities', ['community_id'], ['id'], ondelete='CASCADE')
            if "pk" in changes:
                batch_op.drop_constraint(f'pk_{table}', type_='primary')
                batch_op.create_primary_key(f'pk_{table}', ['community_id', *changes["pk"]])
            for name, columns in changes.get("unique", {}).items():
                batch_op.drop_constraint(name, type_='unique')
                batch_op.create_unique_constraint(name, ['community_id', *columns])
            for name, columns in changes.get("index", {}).items():
                batch_op.drop_index(name)
                batch_op.create_index(name, ['community_id', *columns], unique=False)
            for name, columns in changes.get("new_index", {}).items():
                batch_op.create_index(name, ['community_id', *columns], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _row_security()


def _row_security():
    """Two roles the app takes per transaction: one that sees the community named by the
    transaction's linli.community setting, one for the district tier. FORCE makes the
    policies hold for the tables' owner too; a superuser is exempt, which is why the app
    switches role rather than relying on whoever it connects as."""
    op.execute(f"""
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SCOPED_ROLE}') THEN
        CREATE ROLE {SCOPED_ROLE} NOLOGIN;
      END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DISTRICT_ROLE}') THEN
        CREATE ROLE {DISTRICT_ROLE} NOLOGIN;
      END IF;
    END $$""")
    op.execute(f"GRANT {SCOPED_ROLE}, {DISTRICT_ROLE} TO CURRENT_USER")
    for role in (SCOPED_ROLE, DISTRICT_ROLE):
        op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}")
    own = "community_id = NULLIF(current_setting('linli.community', true), '')::integer"
    for table, rule in [*((table, own) for table in [*TABLES, *NEW_TABLES]), *LINK_TABLES.items()]:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY community_rows ON {table} TO {SCOPED_ROLE} USING ({rule}) WITH CHECK ({rule})")
        op.execute(f"CREATE POLICY district_rows ON {table} TO {DISTRICT_ROLE} USING (true) WITH CHECK (true)")


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM communities")).scalar() > 1:
        raise RuntimeError("more than one community: merge them into one before downgrading")
    if bind.dialect.name == "postgresql":
        for table in [*TABLES, *NEW_TABLES, *LINK_TABLES]:
            op.execute(f"DROP POLICY IF EXISTS community_rows ON {table}")
            op.execute(f"DROP POLICY IF EXISTS district_rows ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for table, changes in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in changes.get("new_index", {}):
                batch_op.drop_index(name)
            for name, columns in changes.get("index", {}).items():
                batch_op.drop_index(name)
                batch_op.create_index(name, columns, unique=False)
            for name, columns in changes.get("unique", {}).items():
                batch_op.drop_constraint(name, type_='unique')
                batch_op.create_unique_constraint(name, columns)
            if "pk" in changes:
                batch_op.drop_constraint(f'pk_{table}', type_='primary')
                batch_op.create_primary_key(f'pk_{table}', changes["pk"])
            batch_op.drop_constraint(f'fk_{table}_community_id_communities', type_='foreignkey')
            batch_op.drop_column('community_id')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_sessions_community_id_communities'), type_='foreignkey')
        batch_op.drop_column('community_id')
    op.execute("UPDATE staff_members SET roles = COALESCE((SELECT m.roles FROM staff_memberships m"
               " WHERE m.member_id = staff_members.id AND m.community_id = 1), '')")
    with op.batch_alter_table('staff_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_memberships_community_id'))
    op.drop_table('staff_memberships')
    op.drop_table('community_code_aliases')
    op.drop_table('community_slugs')
    op.drop_table('district_settings')
    op.drop_table('communities')
