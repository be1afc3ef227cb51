"""Teams, memberships and API tokens, moved from catalog (#23): the state only; the tables keep their
names and rows (db_table), so nothing is copied."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='ApiToken',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=100)),
                    ('key_hash', models.CharField(max_length=64, unique=True)),
                    ('prefix', models.CharField(max_length=8)),
                    ('scope', models.CharField(choices=[('read', 'read'), ('upload', 'read and upload')], default='read', max_length=10)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('last_used', models.DateTimeField(blank=True, null=True)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'catalog_apitoken',
                },
            ),
            migrations.CreateModel(
                name='Membership',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('role', models.CharField(choices=[('viewer', 'Viewer (browse and download)'), ('member', 'Member (also upload and edit)'), ('admin', 'Admin (also manage members)')], default='viewer', max_length=10)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'catalog_membership',
                },
            ),
            migrations.CreateModel(
                name='Team',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=120, unique=True)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('members', models.ManyToManyField(related_name='teams', through='accounts.Membership', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'catalog_team',
                },
            ),
            migrations.AddField(
                model_name='membership',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='accounts.team'),
            ),
            migrations.AddConstraint(
                model_name='membership',
                constraint=models.UniqueConstraint(fields=('team', 'user'), name='one_membership_per_team'),
            ),
        ]),
    ]
