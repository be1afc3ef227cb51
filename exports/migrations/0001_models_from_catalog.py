"""Selections, moved from catalog (#23): the state only; the table keeps its name and rows (db_table)."""
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('catalog', '0014_models_moved_to_their_apps'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Selection',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('key', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=200)),
                    ('filter', models.JSONField(blank=True, default=dict)),
                    ('clip_count', models.PositiveIntegerField(default=0)),
                    ('manifest', models.TextField()),
                    ('manifest_sha256', models.CharField(max_length=64)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='selections', to='catalog.dataset')),
                ],
                options={
                    'db_table': 'catalog_selection',
                    'ordering': ['-created', '-id'],
                },
            ),
        ]),
    ]
