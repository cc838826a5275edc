"""Message wall

Revision ID: 0003_message_wall
Revises: 0002_staff_kiosks_audit
Create Date: 2026-11-25 13:07:33.616573

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_message_wall'
down_revision = '0002_staff_kiosks_audit'
branch_labels = None
depends_on = None


def upgrade():
    board_versions = op.create_table('board_versions',
    sa.Column('board', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('board', name=op.f('pk_board_versions'))
    )
    # The row exists from the start, so concurrent first changes only ever UPDATE it.
    op.bulk_insert(board_versions, [{'board': 'wall', 'version': 0}])
    op.create_table('wall_grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('worker', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wall_grids')),
    sa.UniqueConstraint('name', name=op.f('uq_wall_grids_name'))
    )
    op.create_table('wall_kind_settings',
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('publish_first', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_wall_kind_settings'))
    )
    op.create_table('wall_watched_words',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('word', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wall_watched_words')),
    sa.UniqueConstraint('key', name=op.f('uq_wall_watched_words_key'))
    )
    op.create_table('wall_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('public_text', sa.Text(), nullable=False),
    sa.Column('text_key', sa.String(length=64), nullable=False),
    sa.Column('nickname', sa.String(length=20), nullable=False),
    sa.Column('location', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('check_reasons', sa.String(length=200), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('reports_hidden', sa.Boolean(), nullable=False),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('receipt_code', sa.String(length=8), nullable=False),
    sa.Column('posted_by', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=False),
    sa.Column('problem_status', sa.String(length=12), nullable=True),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('wish', 'greeting', 'thanks', 'suggestion', 'problem')", name=op.f('ck_wall_posts_kind')),
    sa.CheckConstraint("state IN ('pending', 'held', 'approved', 'rejected', 'hidden')", name=op.f('ck_wall_posts_state')),
    sa.ForeignKeyConstraint(['grid_id'], ['wall_grids.id'], name=op.f('fk_wall_posts_grid_id_wall_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['staff_members.id'], name=op.f('fk_wall_posts_reviewed_by_staff_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wall_posts')),
    sa.UniqueConstraint('receipt_code', name=op.f('uq_wall_posts_receipt_code'))
    )
    with op.batch_alter_table('wall_posts', schema=None) as batch_op:
        batch_op.create_index('ix_wall_posts_duplicate', ['text_key', 'created_at'], unique=False)
        batch_op.create_index('ix_wall_posts_problems', ['kind', 'problem_status', 'created_at'], unique=False)
        batch_op.create_index('ix_wall_posts_public', ['state', 'reports_hidden', 'pinned', 'id'], unique=False)
        batch_op.create_index('ix_wall_posts_public_kind', ['kind', 'state', 'reports_hidden', 'pinned', 'id'], unique=False)

    op.create_table('wall_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reporter', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['wall_posts.id'], name=op.f('fk_wall_reports_post_id_wall_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wall_reports')),
    sa.UniqueConstraint('post_id', 'reporter', name='uq_wall_reports_post_reporter')
    )


def downgrade():
    op.drop_table('wall_reports')
    with op.batch_alter_table('wall_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_wall_posts_public_kind')
        batch_op.drop_index('ix_wall_posts_public')
        batch_op.drop_index('ix_wall_posts_problems')
        batch_op.drop_index('ix_wall_posts_duplicate')

    op.drop_table('wall_posts')
    op.drop_table('wall_watched_words')
    op.drop_table('wall_kind_settings')
    op.drop_table('wall_grids')
    op.drop_table('board_versions')
